"""make_golden.R regenerates the committed golden values; make_inputs.py the committed CSVs."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REFERENCE, assert_json_close, shared_data_dir

HERE = REFERENCE / "validation"
INPUTS = ("sim_multicohort.csv", "sim_two_arm.csv", "fisher_oscillates.csv")


def test_simulated_inputs_are_reproducible(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_inputs", HERE / "make_inputs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path in module.write_inputs(tmp_path):
        assert path.read_bytes() == (HERE / path.name).read_bytes(), path.name


@pytest.mark.r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript is not installed")
def test_make_golden_reproduces_golden(tmp_path: Path) -> None:
    if not shared_data_dir().is_dir():
        pytest.skip("shared data absent")
    # as tests.conftest.run_reference_script, plus the simulated inputs beside the script
    target = tmp_path / "tests" / "reference" / "validation"
    target.mkdir(parents=True)
    for name in (*INPUTS, "make_golden.R"):
        shutil.copy(HERE / name, target / name)
    run = subprocess.run(
        ["Rscript", str(target / "make_golden.R")],
        cwd=tmp_path,
        env=dict(os.environ, IKAROS_SHARED_DATA=str(shared_data_dir())),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    fresh = json.loads((target / "golden.json").read_text())
    stored = json.loads((HERE / "golden.json").read_text())
    assert_json_close(fresh, stored, "validation")
