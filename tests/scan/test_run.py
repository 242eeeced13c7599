"""The scan plan: backends agree, q-values, labels, and the CLI on real CoMMpass data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests
from typer.testing import CliRunner

from ikaros.cli import app
from ikaros.cohort import cohort_from_frame
from ikaros.scan.matrix import align_matrix
from ikaros.scan.run import ScanOptions, bh_qvalues, column_quantiles, run_scan
from tests.conftest import golden, require_shared

runner = CliRunner()


def _simulated(n: int = 120, genes: int = 40, seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, genes))
    lin = 0.8 * X[:, 0] - 0.6 * X[:, 1]
    t = rng.exponential(30 * np.exp(-lin))
    c = rng.uniform(10, 80, n)
    ids = [f"P{i:03d}" for i in range(n)]
    clinical = pd.DataFrame(
        {
            "patient_id": ids,
            "os_time": np.round(np.minimum(t, c), 2),
            "os_event": (t <= c).astype(int),
            "age": rng.integers(40, 80, n),
        }
    )
    matrix = pd.DataFrame(X.T, index=[f"G{j:03d}" for j in range(genes)], columns=ids)
    return clinical, matrix


def _scan(options: ScanOptions) -> pd.DataFrame:
    clinical, matrix = _simulated()
    cohort = cohort_from_frame(clinical, endpoints=("os",), covariates=options.covariates)
    aligned = align_matrix(matrix, list(clinical["patient_id"]))
    return run_scan(cohort, aligned, options).table


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return _scan(ScanOptions("os", covariates=("age",), block_size=1000))


def test_effects_found_and_q_values_are_bh(reference: pd.DataFrame) -> None:
    top = reference.nsmallest(2, "cox_p")["gene"].tolist()
    assert sorted(top) == ["G000", "G001"]
    g0 = reference.set_index("gene").loc["G000"]
    assert g0["cox_hr"] > 1 and g0["adj_hr"] > 1
    np.testing.assert_allclose(
        reference["cox_q"], multipletests(reference["cox_p"], method="fdr_bh")[1]
    )
    assert (reference["q1_cut_origin"] == "prespecified").all()
    assert (reference["opt_cut_origin"] == "optimised").all()
    assert (reference["opt_p_lau94"] >= reference["opt_p_unadjusted"]).all()


def test_block_size_does_not_change_results(reference: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        _scan(ScanOptions("os", covariates=("age",), block_size=7)),
        reference,
        check_exact=False,
        rtol=1e-12,
    )


@pytest.mark.parametrize("scheduler", ["threads", "processes"])
def test_dask_schedulers_match_in_process(reference: pd.DataFrame, scheduler: str) -> None:
    got = _scan(ScanOptions("os", covariates=("age",), block_size=1000, scheduler=scheduler))
    pd.testing.assert_frame_equal(got, reference, check_exact=False, rtol=1e-12)


def test_dask_local_cluster_matches_in_process(reference: pd.DataFrame) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        got = _scan(
            ScanOptions(
                "os", covariates=("age",), block_size=15, scheduler=cluster.scheduler_address
            )
        )
    pd.testing.assert_frame_equal(got, reference, check_exact=False, rtol=1e-12)


@pytest.mark.parametrize("clinical_as", ["derived", "exported"])
def test_cli_scan_on_commpass(
    tmp_path: Path, commpass_full: pd.DataFrame, clinical_as: str
) -> None:
    """On a derived clinical table, and on the GDC export as it is (patient id, OS time and
    event derived by the command's options): the same patients and R coxph's numbers."""
    data = require_shared() / "commpass"
    if clinical_as == "derived":
        clinical = tmp_path / "clinical.csv"
        commpass_full.rename(columns={"bcr_patient_barcode": "patient_id"})[
            ["patient_id", "os_time", "os_event", "iss"]
        ].to_csv(clinical, index=False)
        derive: list[str] = []
    else:
        clinical = data / "clinical.csv"
        derive = [
            "--map", "patient_id=bcr_patient_barcode",
            "--time-from", "os=days_to_death,days_to_last_follow_up",
            "--event-from", "os=vital_status:Dead",
            "--time-unit", "days",
        ]  # fmt: skip
    out = tmp_path / "scan"
    r = runner.invoke(
        app,
        [
            "scan",
            "--expression",
            str(data / "expression_100genes_log2fpkm.csv"),
            "--clinical",
            str(clinical),
            "--endpoint",
            "os",
            "--sample-pattern",
            r"^(MMRF_[0-9]+)_1_BM",
            *derive,
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "scan_summary.json").read_text())
    assert summary["n"] == 762 and summary["events"] == 153
    assert summary["expression"]["orientation"] == "genes x samples"
    table = pd.read_parquet(out / "scan.parquet").set_index("gene")
    assert (out / "volcano.png").is_file() and (out / "scan.csv").is_file()
    G = golden("survival")
    for case in G["cox"]:
        if case["dataset"] == "commpass" and case["model"] == "continuous":
            want = case["terms"][0]
            got = table.loc[case["marker"]]
            assert got["cox_hr"] == pytest.approx(want["hr"], rel=1e-6)
            assert got["cox_lower"] == pytest.approx(want["lower"], rel=1e-6)
            assert got["cox_p"] == pytest.approx(want["p"], rel=1e-4)


def test_cli_scan_bad_derivation_is_one_message(tmp_path: Path) -> None:
    """A malformed --event-from: exit 2, the option, the value and an example; nothing written."""
    data = require_shared() / "commpass"
    out = tmp_path / "scan"
    r = runner.invoke(
        app,
        [
            "scan", "-x", str(data / "expression_100genes_log2fpkm.csv"),
            "-c", str(data / "clinical.csv"), "-e", "os",
            "--map", "patient_id=bcr_patient_barcode",
            "--time-from", "os=days_to_death,days_to_last_follow_up",
            "--event-from", "os=vital_status", "--out", str(out),
        ],
    )  # fmt: skip
    assert r.exit_code == 2
    assert "--event-from" in r.output and "os=vital_status" in r.output
    assert "Traceback" not in r.output and not out.exists()


def test_bh_qvalues_equal_statsmodels_and_keep_nan() -> None:
    rng = np.random.default_rng(8)
    p = rng.uniform(size=500) ** 3
    p[::9] = p[4]  # ties
    p[[3, 77]] = np.nan
    q = bh_qvalues(p)
    ok = ~np.isnan(p)
    assert np.isnan(q[[3, 77]]).all()
    np.testing.assert_allclose(q[ok], multipletests(p[ok], method="fdr_bh")[1], rtol=1e-14)
    assert bh_qvalues(np.array([np.nan])).tolist() != [0.0]


@pytest.mark.parametrize("n", [7, 8, 10, 101, 1000])
def test_column_quantiles_equal_numpy(n: int) -> None:
    rng = np.random.default_rng(n)
    X = np.round(rng.normal(size=(n, 40)), 1)  # ties
    X[:, 0] = 2.5  # constant
    for probs in ((0.25, 0.5), (0.1, 0.75, 0.9, 1 / 3)):
        np.testing.assert_array_equal(column_quantiles(X, probs), np.quantile(X, probs, axis=0))


def test_cli_scan_writes_the_same_table_as_csv_and_parquet(tmp_path: Path) -> None:
    clinical, matrix = _simulated()
    clinical.to_csv(tmp_path / "clinical.csv", index=False)
    matrix.to_parquet(tmp_path / "matrix.parquet")
    out = tmp_path / "scan"
    r = runner.invoke(
        app,
        ["scan", "-x", str(tmp_path / "matrix.parquet"), "-c", str(tmp_path / "clinical.csv"),
         "-e", "os", "--out", str(out), "--quiet"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    table = pd.read_parquet(out / "scan.parquet")
    text = pd.read_csv(out / "scan.csv", float_precision="round_trip")
    assert list(text.columns) == list(table.columns)
    for col in table.columns:
        if table[col].dtype == bool:
            assert set(text[col]) <= {True, False}
            assert (text[col] == table[col]).all()
        elif table[col].dtype.kind == "f":
            np.testing.assert_array_equal(text[col].to_numpy(), table[col].to_numpy())
        else:
            assert (text[col].fillna("") == table[col]).all(), col
    ref = _scan(ScanOptions("os"))
    pd.testing.assert_frame_equal(table, ref, check_exact=True)
    summary = json.loads((out / "scan_summary.json").read_text())
    assert summary["genes"] == len(table) and len(summary["expression"]["sha256"]) == 64
