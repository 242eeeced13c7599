"""Tests of ikaros.qpcr: hand-computed examples, identities, QC, policies and validation."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ikaros.errors import AnalysisError, InputError
from ikaros.qpcr import QpcrResult, load_ct_table, relative_expression

DATA = Path(__file__).resolve().parent / "data" / "qpcr"
BASIC = DATA / "ct_basic.csv"
UNDET = DATA / "ct_undetermined.csv"
EFF = DATA / "ct_efficiency.tsv"
REFS = ("GAPDH", "ACTB")


def _expr(result: QpcrResult, sample: str, gene: str) -> float:
    return float(result.expression.at[sample, gene])


def _assert_where(err: InputError, file: Path, row: int | None, column: str) -> None:
    text = str(err)
    assert err.file == str(file) and str(file) in text
    assert err.column == column and f"column {column!r}" in text
    assert err.row == row
    if row is not None:
        assert f"row {row}" in text
    assert err.remedy


# --------------------------------------------------------------------------- hand computations


def test_delta_ct_hand_computed() -> None:
    res = relative_expression(BASIC, reference_genes=REFS)
    # S1: GAPDH mean (20.0+20.2+19.8)/3 = 20, ACTB (18.0+18.1+17.9)/3 = 18 -> reference Ct 19
    #     IKZF1 mean 25 -> dCt 6 -> 2^-6 = 0.015625;  CRBN 27 -> dCt 8 -> 2^-8 = 0.00390625
    # S2: reference (21 + 19) / 2 = 20; IKZF1 24 -> 2^-4 = 0.0625; CRBN (29+29.9+28.1)/3 = 29
    #     -> 2^-9 = 0.001953125
    # S3: reference (20.5 + 18.5) / 2 = 19.5; IKZF1 30.5 -> 2^-11; CRBN 26.5 -> 2^-7
    expected = {
        ("S1", "IKZF1"): 0.015625,
        ("S1", "CRBN"): 0.00390625,
        ("S2", "IKZF1"): 0.0625,
        ("S2", "CRBN"): 0.001953125,
        ("S3", "IKZF1"): 2.0**-11,
        ("S3", "CRBN"): 2.0**-7,
    }
    for (sample, gene), value in expected.items():
        assert _expr(res, sample, gene) == pytest.approx(value, rel=1e-12)
    assert list(res.expression.columns) == ["IKZF1", "CRBN"]
    assert list(res.expression.index) == ["S1", "S2", "S3"]
    assert res.reference_genes == REFS and res.calibrator is None and res.notes == ()
    assert "delta-Ct" in res.method and "GAPDH, ACTB" in res.method


def test_geometric_mean_of_references_equals_mean_of_cts() -> None:
    res = relative_expression(BASIC, reference_genes=REFS)
    # S2 IKZF1 as quantities: q = 2^-Ct; q_IKZF1 / sqrt(q_GAPDH * q_ACTB)
    q = {"IKZF1": 2.0**-24, "GAPDH": 2.0**-21, "ACTB": 2.0**-19}
    assert _expr(res, "S2", "IKZF1") == pytest.approx(
        q["IKZF1"] / math.sqrt(q["GAPDH"] * q["ACTB"]), rel=1e-12
    )


def test_delta_delta_ct_hand_computed_and_livak_identity() -> None:
    res = relative_expression(BASIC, reference_genes=REFS, calibrator="S1", method="delta_delta_ct")
    # S2 IKZF1: ddCt = 4 - 6 = -2 -> 2^2 = 4;   S2 CRBN: 9 - 8 = 1 -> 2^-1 = 0.5
    # S3 IKZF1: 11 - 6 = 5 -> 2^-5 = 0.03125;   S3 CRBN: 7 - 8 = -1 -> 2
    assert _expr(res, "S2", "IKZF1") == pytest.approx(4.0, rel=1e-12)
    assert _expr(res, "S2", "CRBN") == pytest.approx(0.5, rel=1e-12)
    assert _expr(res, "S3", "IKZF1") == pytest.approx(0.03125, rel=1e-12)
    assert _expr(res, "S3", "CRBN") == pytest.approx(2.0, rel=1e-12)
    assert res.expression.loc["S1"].tolist() == [1.0, 1.0]
    # Livak & Schmittgen (2001): 2^-ddCt = 2^-dCt(sample) / 2^-dCt(calibrator)
    dct = relative_expression(BASIC, reference_genes=REFS).expression
    np.testing.assert_allclose(res.expression, dct / dct.loc["S1"], rtol=1e-12)
    assert "Livak" in res.method and "'S1'" in res.method


def test_pfaffl_hand_computed_with_calibrator() -> None:
    # efficiencies (percent in the file): GAPDH 100 -> 2.0, ACTB 95 -> 1.95, IKZF1 90 -> 1.9,
    # BSG 105% -> 2.05. Calibrator C: GAPDH 20, ACTB 18, IKZF1 25, BSG 22.
    res = relative_expression(EFF, reference_genes=REFS, calibrator="C", method="pfaffl")
    # A (GAPDH 21, ACTB 18, IKZF1 23, BSG 22):
    #   reference factor = sqrt(2^(20-21) * 1.95^(18-18)) = sqrt(0.5)
    #   IKZF1 = 1.9^(25-23) / sqrt(0.5) = 3.61 * sqrt(2);  BSG = 2.05^0 / sqrt(0.5) = sqrt(2)
    assert _expr(res, "A", "IKZF1") == pytest.approx(3.61 * math.sqrt(2), rel=1e-12)
    assert _expr(res, "A", "BSG") == pytest.approx(math.sqrt(2), rel=1e-12)
    # B (GAPDH 20, ACTB 19, IKZF1 26, BSG 20): reference factor = sqrt(1 * 1.95^-1)
    #   IKZF1 = 1.9^-1 / sqrt(1/1.95) = sqrt(1.95) / 1.9;  BSG = 2.05^2 * sqrt(1.95)
    assert _expr(res, "B", "IKZF1") == pytest.approx(math.sqrt(1.95) / 1.9, rel=1e-12)
    assert _expr(res, "B", "BSG") == pytest.approx(4.2025 * math.sqrt(1.95), rel=1e-12)
    assert res.expression.loc["C"].tolist() == pytest.approx([1.0, 1.0])
    assert "Pfaffl" in res.method and "IKZF1 1.9" in res.method


def test_pfaffl_single_reference_and_without_calibrator() -> None:
    one = relative_expression(EFF, reference_genes="GAPDH", calibrator="C", method="pfaffl")
    # A IKZF1 = 1.9^(25-23) / 2^(20-21) = 3.61 / 0.5 = 7.22
    assert _expr(one, "A", "IKZF1") == pytest.approx(7.22, rel=1e-12)
    assert list(one.expression.columns) == ["ACTB", "IKZF1", "BSG"]
    nocal = relative_expression(EFF, reference_genes=REFS, method="pfaffl")
    # A IKZF1 = 1.9^-23 / sqrt(2^-21 * 1.95^-18)
    expected = 1.9**-23 / math.sqrt(2.0**-21 * 1.95**-18)
    assert _expr(nocal, "A", "IKZF1") == pytest.approx(expected, rel=1e-12)
    assert "no calibrator" in nocal.method


def test_pfaffl_reduces_to_delta_delta_ct_when_efficiency_is_two() -> None:
    two = {"GAPDH": 2.0, "ACTB": 2.0, "IKZF1": 2.0, "CRBN": "100%"}
    pf = relative_expression(
        BASIC, reference_genes=REFS, calibrator="S2", method="pfaffl", efficiency=two
    )
    dd = relative_expression(BASIC, reference_genes=REFS, calibrator="S2", method="delta_delta_ct")
    np.testing.assert_allclose(pf.expression, dd.expression, rtol=1e-12)
    pf0 = relative_expression(BASIC, reference_genes=REFS, method="pfaffl", efficiency=two)
    d0 = relative_expression(BASIC, reference_genes=REFS)
    np.testing.assert_allclose(pf0.expression, d0.expression, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    cts=st.lists(
        st.floats(min_value=12.0, max_value=38.0, allow_nan=False), min_size=12, max_size=12
    ),
    shift=st.floats(min_value=-5.0, max_value=5.0),
)
def test_identities_on_random_tables(cts: list[float], shift: float) -> None:
    samples = ["a", "b", "c"]
    genes = ["R1", "R2", "T1", "T2"]
    rows = [(s, g, cts[i * 4 + j]) for i, s in enumerate(samples) for j, g in enumerate(genes)]
    table = pd.DataFrame(rows, columns=["sample", "gene", "ct"])
    kw = {"reference_genes": ["R1", "R2"], "calibrator": "b"}
    dd = relative_expression(table, method="delta_delta_ct", **kw).expression
    pf = relative_expression(table, method="pfaffl", efficiency=dict.fromkeys(genes, 2.0), **kw)
    np.testing.assert_allclose(pf.expression, dd, rtol=1e-10)
    # shifting every Ct of one sample (e.g. more input cDNA) leaves delta-Ct unchanged
    shifted = table.assign(ct=table["ct"] + np.where(table["sample"] == "a", shift, 0.0))
    base = relative_expression(table, reference_genes=["R1", "R2"]).expression
    moved = relative_expression(shifted, reference_genes=["R1", "R2"]).expression
    np.testing.assert_allclose(moved, base, rtol=1e-9)


# --------------------------------------------------------------------------- QC and policies


def test_qc_table_and_sd_flag() -> None:
    res = relative_expression(BASIC, reference_genes=REFS, sd_flag=0.5)
    qc = res.qc.set_index(["sample", "gene"])
    assert len(qc) == 12 and (qc["n"] == 3).all() and (qc["n_undetermined"] == 0).all()
    # S2 CRBN: 29.0, 29.9, 28.1 -> deviations 0, 0.9, -0.9 -> SD = sqrt(1.62 / 2) = 0.9 > 0.5
    assert qc.at[("S2", "CRBN"), "sd_ct"] == pytest.approx(0.9, rel=1e-9)
    assert qc["sd_high"].sum() == 1 and bool(qc.at[("S2", "CRBN"), "sd_high"])
    # S1 GAPDH: 20.0, 20.2, 19.8 -> SD 0.2, not flagged; mean 20
    assert qc.at[("S1", "GAPDH"), "sd_ct"] == pytest.approx(0.2, rel=1e-9)
    assert qc.at[("S1", "GAPDH"), "mean_ct"] == pytest.approx(20.0)
    assert (
        qc.at[("S1", "GAPDH"), "role"] == "reference" and qc.at[("S1", "CRBN"), "role"] == "target"
    )
    assert qc.at[("S1", "GAPDH"), "first_row"] == 2 and qc.at[("S2", "CRBN"), "first_row"] == 23
    strict = relative_expression(BASIC, reference_genes=REFS, sd_flag=0.15)
    # SD 0.2 (S1 GAPDH: 20.0/20.2/19.8, S2 IKZF1: 24.0/24.2/23.8) and 0.9 (S2 CRBN) exceed 0.15;
    # the 0.1 SDs (e.g. S1 IKZF1: 25.0/25.1/24.9) do not
    flagged = strict.qc.loc[strict.qc["sd_high"], ["sample", "gene"]].to_numpy().tolist()
    assert flagged == [["S1", "GAPDH"], ["S2", "IKZF1"], ["S2", "CRBN"]]
    assert "SD flag > 0.15" in strict.method


def test_undetermined_drop() -> None:
    res = relative_expression(UNDET, reference_genes="GAPDH", undetermined="drop")
    # P1: IKZF3 (30, Undetermined) -> 30; GAPDH 20 -> dCt 10 -> 2^-10
    assert _expr(res, "P1", "IKZF3") == pytest.approx(2.0**-10, rel=1e-12)
    # P2: IKZF3 (Undetermined, blank) -> missing; P3: GAPDH all undetermined -> missing
    assert math.isnan(_expr(res, "P2", "IKZF3")) and math.isnan(_expr(res, "P3", "IKZF3"))
    # P4: IKZF3 (NA, 28) -> 28; GAPDH 22 -> 2^-6
    assert _expr(res, "P4", "IKZF3") == pytest.approx(2.0**-6, rel=1e-12)
    assert len(res.notes) == 2
    assert "'P2', gene 'IKZF3'" in res.notes[0] and "all replicates undetermined" in res.notes[0]
    assert "'P3'" in res.notes[1] and "reference gene(s) GAPDH" in res.notes[1]
    qc = res.qc.set_index(["sample", "gene"])
    assert qc.at[("P2", "IKZF3"), "n_undetermined"] == 2 and qc.at[("P2", "IKZF3"), "n_used"] == 0
    assert (qc["n_imputed"] == 0).all()
    assert "dropped" in res.method


def test_undetermined_max() -> None:
    res = relative_expression(UNDET, reference_genes="GAPDH", undetermined="max", max_ct=40.0)
    # P1: IKZF3 (30, 40) -> 35 - 20 = 15 -> 2^-15      P2: (40, 40) -> 40 - 21 = 19 -> 2^-19
    # P3: GAPDH (40, 40), IKZF3 25 -> 25 - 40 = -15 -> 2^15   P4: (40, 28) -> 34 - 22 -> 2^-12
    for sample, power in (("P1", -15), ("P2", -19), ("P3", 15), ("P4", -12)):
        assert _expr(res, sample, "IKZF3") == pytest.approx(2.0**power, rel=1e-12)
    assert res.notes == ()
    qc = res.qc.set_index(["sample", "gene"])
    assert qc.at[("P1", "IKZF3"), "n_imputed"] == 1 and qc.at[("P3", "GAPDH"), "n_imputed"] == 2
    assert bool(qc.at[("P1", "IKZF3"), "sd_high"])  # SD of (30, 40) = 7.07
    assert "set to 40" in res.method
    low = relative_expression(UNDET, reference_genes="GAPDH", undetermined="max", max_ct=35.0)
    assert _expr(low, "P2", "IKZF3") == pytest.approx(2.0 ** -(35 - 21), rel=1e-12)


def test_undetermined_error_policy() -> None:
    with pytest.raises(InputError) as info:
        relative_expression(UNDET, reference_genes="GAPDH", undetermined="error")
    _assert_where(info.value, UNDET, 5, "ct")


# --------------------------------------------------------------------------- loading


def test_load_ct_table_canonical_form() -> None:
    table = load_ct_table(UNDET)
    assert list(table.columns) == [
        "sample",
        "gene",
        "replicate",
        "ct",
        "undetermined",
        "efficiency",
    ]
    assert table.index[0] == 2 and table.index[-1] == 17  # spreadsheet rows
    assert table["replicate"].tolist()[:4] == ["1", "2", "1", "2"]  # numbered when absent
    assert int(table["undetermined"].sum()) == 6 and table["ct"].isna().sum() == 6
    eff = load_ct_table(EFF)  # header 'Cq', percentages, blank cells take the gene's value
    assert eff.groupby("gene")["efficiency"].nunique().eq(1).all()
    assert eff.set_index("gene")["efficiency"].to_dict() == pytest.approx(
        {"GAPDH": 2.0, "ACTB": 1.95, "IKZF1": 1.9, "BSG": 2.05}
    )


def test_xlsx_parquet_and_mapping(tmp_path: Path) -> None:
    raw = pd.read_csv(BASIC)
    reference = relative_expression(BASIC, reference_genes=REFS).expression
    xlsx, parquet = tmp_path / "ct.xlsx", tmp_path / "ct.parquet"
    raw.to_excel(xlsx, index=False)
    raw.to_parquet(parquet, index=False)
    for path in (xlsx, parquet):
        got = relative_expression(path, reference_genes=REFS).expression
        np.testing.assert_allclose(got, reference, rtol=1e-12)
    renamed = tmp_path / "renamed.csv"
    raw.rename(columns={"sample": "Patient", "gene": "Target", "ct": "CT mean"}).to_csv(
        renamed, index=False
    )
    mapping = {"sample": "Patient", "gene": "Target", "ct": "CT mean"}
    got = relative_expression(load_ct_table(renamed, mapping), reference_genes=REFS)
    np.testing.assert_allclose(got.expression, reference, rtol=1e-12)
    with pytest.raises(InputError) as info:
        relative_expression(load_ct_table(renamed, mapping), reference_genes=["GAPDH", "B2M"])
    _assert_where(info.value, renamed, None, "Target")  # messages use the file's header names


def test_in_memory_frame() -> None:
    table = pd.DataFrame(
        {"sample": ["a", "a", "b", "b"], "gene": ["R", "T", "R", "T"], "ct": [20, 25.5, 21, 24]}
    )
    res = relative_expression(table, reference_genes="R")
    assert res.expression["T"].tolist() == pytest.approx([2.0**-5.5, 2.0**-3])


def test_to_cohort_columns() -> None:
    res = relative_expression(
        BASIC,
        reference_genes=REFS,
        calibrator="S1",
        method="pfaffl",
        efficiency=dict.fromkeys(["GAPDH", "ACTB", "IKZF1", "CRBN"], 2),
    )
    cohort = res.to_cohort_columns()
    assert list(cohort.columns) == ["patient_id", "IKZF1", "CRBN"]
    assert cohort["patient_id"].tolist() == ["S1", "S2", "S3"]
    assert cohort["IKZF1"].tolist() == pytest.approx([1.0, 4.0, 0.03125])
    other = res.to_cohort_columns("id", prefix="expr_", include_calibrator=False)
    assert list(other.columns) == ["id", "expr_IKZF1", "expr_CRBN"]
    assert other["id"].tolist() == ["S2", "S3"]
    clinical = pd.DataFrame({"patient_id": ["S3", "S2"], "iss": [1, 3]})
    assert clinical.merge(cohort, on="patient_id")["CRBN"].tolist() == pytest.approx([2.0, 0.5])


def test_result_is_frozen() -> None:
    res = relative_expression(BASIC, reference_genes=REFS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.method = "other"  # type: ignore[misc]


# --------------------------------------------------------------------------- validation errors


def test_error_missing_column() -> None:
    with pytest.raises(InputError, match="required column 'gene' is missing") as info:
        load_ct_table(DATA / "missing_column.csv")
    _assert_where(info.value, DATA / "missing_column.csv", 1, "gene")


def test_error_non_numeric_ct() -> None:
    with pytest.raises(InputError, match="Ct is not a number") as info:
        load_ct_table(DATA / "bad_ct_comma.tsv")
    _assert_where(info.value, DATA / "bad_ct_comma.tsv", 3, "ct")
    assert info.value.value == "31,5" and "decimal point" in str(info.value)


@pytest.mark.parametrize("cell", ["high", "3l.2", "inf"])
def test_error_non_numeric_ct_text(tmp_path: Path, cell: str) -> None:
    path = tmp_path / "ct.csv"
    path.write_text(f"sample,gene,ct\nP1,GAPDH,20\nP1,GAPDH,{cell}\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_ct_table(path)
    _assert_where(info.value, path, 3, "ct")


@pytest.mark.parametrize("cell", ["0", "-3", "50.01", "55"])
def test_error_ct_out_of_range(tmp_path: Path, cell: str) -> None:
    path = tmp_path / "ct.csv"
    path.write_text(f"sample,gene,ct\nP1,GAPDH,20\nP1,GAPDH,{cell}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"outside the valid range \(0, 50\]") as info:
        load_ct_table(path)
    _assert_where(info.value, path, 3, "ct")
    fixture = DATA / "bad_ct_range.csv"
    with pytest.raises(InputError) as info:
        load_ct_table(fixture)
    _assert_where(info.value, fixture, 4, "ct")


def test_ct_upper_bound_is_inclusive(tmp_path: Path) -> None:
    path = tmp_path / "ct.csv"
    path.write_text("sample,gene,ct\nP1,GAPDH,20\nP1,IKZF1,50\n", encoding="utf-8")
    assert load_ct_table(path)["ct"].tolist() == [20.0, 50.0]


def test_error_efficiency_out_of_range() -> None:
    with pytest.raises(InputError, match="efficiency is outside") as info:
        load_ct_table(DATA / "bad_efficiency.csv")
    _assert_where(info.value, DATA / "bad_efficiency.csv", 2, "efficiency")


@pytest.mark.parametrize(
    ("cells", "row", "message"),
    [
        (("1.9", "95"), 3, "efficiency is a percent here but a factor in row 2"),
        (("1.9", "1.8"), 3, "has another efficiency in row 2"),
        (("0.95", "1.9"), 2, "outside the accepted ranges"),
        (("200%", "1.9"), 2, "outside the accepted ranges"),
        (("fast", "1.9"), 2, "not a number"),
    ],
)
def test_error_efficiency_conventions(
    tmp_path: Path, cells: tuple[str, str], row: int, message: str
) -> None:
    path = tmp_path / "eff.csv"
    path.write_text(
        f"sample,gene,ct,efficiency\nP1,IKZF1,25,{cells[0]}\nP2,IKZF1,26,{cells[1]}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=message) as info:
        load_ct_table(path)
    _assert_where(info.value, path, row, "efficiency")


def test_error_unknown_reference_gene() -> None:
    # no single row is at fault: the message names the file and column, row is None
    with pytest.raises(InputError, match="reference gene 'gapdh' is not in the table") as info:
        relative_expression(BASIC, reference_genes=["gapdh", "ACTB"])
    _assert_where(info.value, BASIC, None, "gene")
    assert "GAPDH" in str(info.value)  # the remedy lists the genes present


def test_error_calibrator_not_present() -> None:
    with pytest.raises(InputError, match="calibrator sample 'S9' is not in the table") as info:
        relative_expression(BASIC, reference_genes=REFS, calibrator="S9", method="delta_delta_ct")
    _assert_where(info.value, BASIC, None, "sample")


def test_error_duplicate_replicate() -> None:
    path = DATA / "duplicate_replicate.csv"
    with pytest.raises(InputError, match="already appears in row 2") as info:
        load_ct_table(path)
    _assert_where(info.value, path, 4, "replicate")


def test_error_reference_missing_for_sample() -> None:
    path = DATA / "missing_reference.csv"
    with pytest.raises(InputError, match="sample 'P2' has no row for reference gene") as info:
        relative_expression(path, reference_genes="GAPDH")
    _assert_where(info.value, path, 4, "gene")  # row 4 = the sample's first row
    assert info.value.value == "GAPDH"


def test_error_missing_sample_cell_and_replicate(tmp_path: Path) -> None:
    path = tmp_path / "ct.csv"
    path.write_text("sample,gene,replicate,ct\nP1,GAPDH,1,20\n,GAPDH,2,20\n", encoding="utf-8")
    with pytest.raises(InputError, match="sample is missing") as info:
        load_ct_table(path)
    _assert_where(info.value, path, 3, "sample")
    path.write_text("sample,gene,replicate,ct\nP1,GAPDH,1,20\nP1,GAPDH,,20\n", encoding="utf-8")
    with pytest.raises(InputError, match="replicate is missing") as info:
        load_ct_table(path)
    _assert_where(info.value, path, 3, "replicate")


def test_error_missing_efficiency_for_pfaffl() -> None:
    with pytest.raises(InputError, match="no amplification efficiency for gene 'GAPDH'") as info:
        relative_expression(BASIC, reference_genes=REFS, calibrator="S1", method="pfaffl")
    _assert_where(info.value, BASIC, 2, "efficiency")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "delta_delta_ct"}, "needs a calibrator"),
        ({"method": "ddct"}, "unknown method"),
        ({"calibrator": "S1"}, "uses no calibrator"),
        ({"undetermined": "zero"}, "unknown undetermined"),
        ({"undetermined": "max", "max_ct": 60.0}, "max_ct"),
        ({"sd_flag": 0.0}, "sd_flag"),
        ({"efficiency": {"IKZF1": 1.9}}, "only by method 'pfaffl'"),
        ({"reference_genes": ["GAPDH", "ACTB", "IKZF1", "CRBN"]}, "no target"),
        ({"reference_genes": ["GAPDH", "GAPDH"]}, "distinct"),
    ],
)
def test_argument_errors(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"reference_genes": REFS} | kwargs
    with pytest.raises(AnalysisError, match=message):
        relative_expression(BASIC, **args)  # type: ignore[arg-type]
