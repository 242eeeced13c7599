"""The R reference scripts regenerate the committed golden values (so anyone can).

Each script is copied into a scratch tree laid out like the repository and run there with
``IKAROS_SHARED_DATA`` pointing at the real data; its ``golden.json`` must equal the committed
one (numbers to 1e-9 relative, which allows for the last of jsonlite's 15 printed digits).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REFERENCE, shared_data_dir

SCRIPTS = ["survival", "ph"]


def _same(a: object, b: object, where: str = "") -> None:
    if isinstance(b, dict):
        assert isinstance(a, dict) and a.keys() == b.keys(), where
        for k in b:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(b, list):
        assert isinstance(a, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-300), where
    else:
        assert a == b, where


@pytest.mark.r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript is not installed")
@pytest.mark.parametrize("name", SCRIPTS)
def test_reference_script_reproduces_golden(name: str, tmp_path: Path) -> None:
    if not shared_data_dir().is_dir():
        pytest.skip("shared data absent")
    target = tmp_path / "tests" / "reference" / name
    target.mkdir(parents=True)
    shutil.copy(REFERENCE / name / "make_golden.R", target / "make_golden.R")
    env = dict(os.environ, IKAROS_SHARED_DATA=str(shared_data_dir()))
    run = subprocess.run(
        ["Rscript", str(target / "make_golden.R")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    fresh = json.loads((target / "golden.json").read_text())
    stored = json.loads((REFERENCE / name / "golden.json").read_text())
    _same(fresh, stored, name)
