"""Expression matrices: orientation, sample-to-patient matching, genes set aside, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ikaros.errors import InputError
from ikaros.scan.matrix import align_matrix, load_matrix

PATIENTS = [f"P{i:02d}" for i in range(1, 9)]


def _matrix(tmp_path: Path, frame: pd.DataFrame, name: str = "m.csv") -> pd.DataFrame:
    path = tmp_path / name
    if name.endswith(".parquet"):
        frame.reset_index(names="gene").to_parquet(path)
    else:
        frame.to_csv(path, sep="," if name.endswith(".csv") else "\t")
    return load_matrix(path)


def _genes_by_samples() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    samples = [*PATIENTS[:6], "X99"]
    return pd.DataFrame(rng.normal(size=(4, 7)), index=["G1", "G2", "G3", "G4"], columns=samples)


@pytest.mark.parametrize("name", ["m.csv", "m.tsv", "m.parquet"])
def test_orientation_is_detected_either_way(tmp_path: Path, name: str) -> None:
    gxs = _genes_by_samples()
    a = align_matrix(_matrix(tmp_path, gxs, name), PATIENTS)
    b = align_matrix(_matrix(tmp_path, gxs.T, "t_" + name), PATIENTS)
    assert a.orientation == "genes x samples" and b.orientation == "samples x genes"
    assert a.genes == b.genes == ("G1", "G2", "G3", "G4")
    assert a.patient_ids == tuple(PATIENTS[:6])
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_allclose(a.values[:, 0], gxs.loc["G1", PATIENTS[:6]].to_numpy())
    assert a.unmatched_samples == ("X99",)
    assert a.patients_without_sample == ("P07", "P08")


def test_sample_pattern_maps_commpass_style_names(tmp_path: Path) -> None:
    gxs = _genes_by_samples()
    gxs.columns = [f"MMRF_{c}_1_BM_CD138pos" for c in gxs.columns]
    gxs["MMRF_P01_2_BM_CD138pos"] = 0.0  # a relapse sample: does not fit the pattern
    frame = _matrix(tmp_path, gxs)
    with pytest.raises(InputError, match="sample-pattern"):
        align_matrix(frame, PATIENTS)
    a = align_matrix(frame, PATIENTS, sample_pattern=r"^MMRF_(P\d+)_1_BM")
    assert a.patient_ids == tuple(PATIENTS[:6])
    assert "MMRF_P01_2_BM_CD138pos" in a.unmatched_samples


def test_missing_and_constant_genes_are_set_aside_and_reported(tmp_path: Path) -> None:
    gxs = _genes_by_samples()
    gxs.loc["G2", "P03"] = np.nan
    gxs.loc["G3", :] = 1.5
    a = align_matrix(_matrix(tmp_path, gxs), PATIENTS)
    assert a.genes == ("G1", "G4")
    assert a.genes_missing == ("G2",) and a.genes_constant == ("G3",)
    text = " ".join(a.report())
    assert "missing values" in text and "without variation" in text


def test_duplicate_samples_of_a_patient_keep_the_first(tmp_path: Path) -> None:
    gxs = _genes_by_samples()
    gxs.columns = [f"{c}_a" for c in gxs.columns]
    gxs["P01_b"] = 9.0
    a = align_matrix(_matrix(tmp_path, gxs), PATIENTS, sample_pattern=r"^(P\d+)_")
    assert a.duplicate_samples == ("P01_b",)
    assert not np.any(a.values == 9.0)


def test_non_numeric_value_names_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("gene,P01,P02\nG1,1.0,2.0\nG2,3.0,high\n")
    with pytest.raises(InputError, match=r"row 3, column 'P02'.*'high'"):
        load_matrix(path)


def test_no_match_and_unknown_format(tmp_path: Path) -> None:
    frame = _matrix(tmp_path, _genes_by_samples())
    with pytest.raises(InputError, match="no sample"):
        align_matrix(frame, ["A", "B"])
    (tmp_path / "m.xls").write_text("x")
    with pytest.raises(InputError, match="unsupported"):
        load_matrix(tmp_path / "m.xls")
    with pytest.raises(InputError, match="not found"):
        load_matrix(tmp_path / "nope.csv")
