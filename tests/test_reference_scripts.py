"""The R reference scripts regenerate the committed golden values (so anyone can).

Each script is copied into a scratch tree laid out like the repository and run there with
``IKAROS_SHARED_DATA`` pointing at the real data; its ``golden.json`` must equal the committed
one (numbers to 1e-9 relative, which allows for the last of jsonlite's 15 printed digits).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import REFERENCE, assert_json_close, run_reference_script, shared_data_dir

SCRIPTS = ["survival", "ph", "real_cohorts", "performance"]


@pytest.mark.r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript is not installed")
@pytest.mark.parametrize("name", SCRIPTS)
def test_reference_script_reproduces_golden(name: str, tmp_path: Path) -> None:
    if not shared_data_dir().is_dir():
        pytest.skip("shared data absent")
    target = run_reference_script(name, tmp_path)
    fresh = json.loads((target / "golden.json").read_text())
    stored = json.loads((REFERENCE / name / "golden.json").read_text())
    assert_json_close(fresh, stored, name)
