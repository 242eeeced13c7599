"""Shared fixtures: paths, the real public cohorts prepared as the R reference scripts do."""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
#: headless Chromium on a machine without internet: no background connections, no sandbox (root)
CHROMIUM_FLAGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
REFERENCE = ROOT / "tests" / "reference"


def shared_data_dir() -> Path:
    env = os.environ.get("IKAROS_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def require_shared() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared data not found at {path} (set IKAROS_SHARED_DATA)")
    return path


@cache
def golden(name: str) -> dict:
    return json.loads((REFERENCE / name / "golden.json").read_text())


@cache
def _gse24080() -> pd.DataFrame:
    return pd.read_csv(shared_data_dir() / "gse24080" / "clinical.tsv", sep="\t")


@cache
def _commpass() -> pd.DataFrame:
    """CoMMpass OS (months) merged with baseline CD138+ expression, as make_golden.R does."""
    base = shared_data_dir() / "commpass"
    clin = pd.read_csv(base / "clinical.csv")
    dead = clin["vital_status"] == "Dead"
    days = np.where(dead, clin["days_to_death"], clin["days_to_last_follow_up"])
    clin = clin.assign(os_time=days / 30.4375, os_event=dead.astype(int))
    clin = clin[clin["os_time"].notna() & (clin["os_time"] >= 0)]
    clin["iss"] = clin["iss_stage"].map({"I": 1.0, "II": 2.0, "III": 3.0})
    expr = pd.read_csv(base / "expression_100genes_log2fpkm.csv", index_col=0)
    cols = sorted(c for c in expr.columns if "_1_BM_" in c)
    patient = ["_".join(c.split("_")[:2]) for c in cols]
    frame = expr[cols].T
    frame.index = patient
    frame = frame[~frame.index.duplicated(keep="first")]
    merged = clin.merge(frame, left_on="bcr_patient_barcode", right_index=True, how="inner")
    return merged.reset_index(drop=True)


@pytest.fixture
def gse24080() -> pd.DataFrame:
    require_shared()
    return _gse24080().copy()


@pytest.fixture
def commpass_full() -> pd.DataFrame:
    """All CoMMpass patients with a valid OS time (no expression)."""
    require_shared()
    base = shared_data_dir() / "commpass"
    clin = pd.read_csv(base / "clinical.csv")
    dead = clin["vital_status"] == "Dead"
    days = np.where(dead, clin["days_to_death"], clin["days_to_last_follow_up"])
    clin = clin.assign(os_time=days / 30.4375, os_event=dead.astype(int))
    clin = clin[clin["os_time"].notna() & (clin["os_time"] >= 0)].copy()
    clin["iss"] = clin["iss_stage"].map({"I": 1.0, "II": 2.0, "III": 3.0})
    return clin.reset_index(drop=True)


@pytest.fixture
def commpass() -> pd.DataFrame:
    require_shared()
    return _commpass().copy()


def assert_json_close(got: object, want: object, where: str = "golden", rel: float = 1e-9) -> None:
    """Same JSON structure and strings; numbers equal to ``rel`` (BLAS rounding may differ)."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), where
        for key in want:
            assert_json_close(got[key], want[key], f"{where}.{key}", rel)
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for i, (x, y) in enumerate(zip(got, want, strict=True)):
            assert_json_close(x, y, f"{where}[{i}]", rel)
    elif isinstance(want, float):
        assert got == pytest.approx(want, rel=rel, abs=1e-300), where
    else:
        assert got == want, where


def run_reference_script(name: str, tmp_path: Path, timeout: int = 600) -> Path:
    """Run tests/reference/NAME/make_golden.R in a scratch tree laid out like the repository.

    Data come from the real shared directory (``IKAROS_SHARED_DATA``); returns the folder the
    script wrote into, to be compared with the committed one.
    """
    import os as _os
    import shutil
    import subprocess

    target = tmp_path / "tests" / "reference" / name
    target.mkdir(parents=True)
    shutil.copy(REFERENCE / name / "make_golden.R", target / "make_golden.R")
    run = subprocess.run(
        ["Rscript", str(target / "make_golden.R")],
        cwd=tmp_path,
        env=dict(_os.environ, IKAROS_SHARED_DATA=str(shared_data_dir())),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return target


#: Terminal escape sequences (rich colours, progress bars) to strip from captured output.
ANSI = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07]*\x07|[()][0-9A-Za-z])")


def one_error_line(result: Any) -> str:
    """Assert a CLI result is the project's bad-input outcome and return its message.

    Exit status 2 through ``SystemExit``, nothing on stdout, no traceback, and exactly one
    non-blank stderr line starting with ``error:``.
    """
    stderr = ANSI.sub("", result.stderr)
    stdout = ANSI.sub("", result.stdout)
    shown = f"exit {result.exit_code}\nstderr: {stderr}\nstdout: {stdout}"
    assert result.exit_code == 2, shown
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in stderr + stdout, shown
    assert stdout.strip() == "", shown
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), shown
    return lines[0]
