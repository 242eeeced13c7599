"""docs/api.md runs as written, and the public API is documented and thin over the CLI's code."""

from __future__ import annotations

import inspect
import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ikaros
from ikaros.cli import app
from tests.conftest import ROOT, require_shared

DOC = ROOT / "docs" / "api.md"


def test_walkthrough_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = require_shared()
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 8
    code = "\n".join(blocks).replace('Path("../shared/data")', f"Path({str(shared)!r})")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "api_walkthrough"}
    exec(compile(code, str(DOC), "exec"), namespace)


def test_every_public_name_has_a_numpydoc_docstring() -> None:
    for name in ikaros.__all__:
        if name == "__version__":
            continue
        obj = getattr(ikaros, name)
        doc = inspect.getdoc(obj)
        assert doc and len(doc) > 40, f"ikaros.{name} has no docstring"
        if callable(obj) and not isinstance(obj, type):
            params = [p for p in inspect.signature(obj).parameters if p != "self"]
            assert "Returns" in doc, f"ikaros.{name}: no Returns section"
            if params:
                assert "Parameters" in doc, f"ikaros.{name}: no Parameters section"
                for p in params:
                    assert p in doc, f"ikaros.{name}: parameter {p!r} not documented"


def test_analyze_equals_the_command(tmp_path: Path) -> None:
    frame = ikaros.demo_cohort()
    path = tmp_path / "demo.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["analyze", str(path), "-m", "IKZF1", "-e", "pfs", "--out", str(out), "-q"]
    )
    assert result.exit_code == 0, result.stderr
    from_cli = ikaros.Results.from_json(out)
    from_api = ikaros.analyze(frame, markers=["IKZF1"], endpoints=["pfs"])
    a, b = from_cli.to_frame(), from_api.to_frame()
    assert a.equals(b)
    assert from_cli.groups_frame().equals(from_api.groups_frame())
    cli_json = json.loads((out / "results.json").read_text())
    api_json = json.loads(from_api.to_json())
    for key in ("analyses", "marker_associations", "cohort"):
        assert cli_json[key] == api_json[key]


def test_import_is_light() -> None:
    import subprocess
    import sys

    code = "import sys, ikaros; print([m for m in ('pandas', 'scipy') if m in sys.modules])"
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    assert run.stdout.strip() == "[]"
