"""Command-line conventions (issue 13): version, flags shown as flags, choices listed, messages
printed verbatim (rich markup never eats user text or remedies)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from ikaros import __version__
from ikaros.cli import COMMANDS, app
from ikaros.cli._common import guard
from ikaros.errors import InputError
from tests.conftest import ANSI

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"ikaros {__version__}"


@pytest.mark.parametrize("command", [c[0] for c in COMMANDS])
def test_help_has_no_type_placeholders(command: str) -> None:
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    text = ANSI.sub("", result.stdout)
    assert not re.search(r"<(bool|str|list\[str\]|int|float)>", text), text


def test_flags_and_choices_in_analyze_help() -> None:
    text = ANSI.sub("", runner.invoke(app, ["analyze", "--help"], env={"COLUMNS": "200"}).stdout)
    assert re.search(r"--report\s+Also write", text)  # a flag: no value placeholder
    assert "[none|log2]" in text and "[auto|never|always]" in text
    assert "quartile|median|tertile|upper-quartile|optimal" in text


def test_messages_are_printed_verbatim() -> None:
    @guard
    def fail() -> None:
        raise InputError(
            "value [red]x[/] is odd", file="[v2] data.csv", remedy="pip install 'ikaros[dask]'"
        )

    app1 = typer.Typer()
    app1.command()(fail)
    result = runner.invoke(app1, [])
    assert result.exit_code == 2
    out = ANSI.sub("", result.stderr)
    assert "[v2] data.csv" in out and "[red]x[/]" in out and "pip install 'ikaros[dask]'" in out


def test_help_is_fast_and_light() -> None:
    code = (
        "import sys, time; t = time.perf_counter(); from ikaros.cli import app; "
        "print(sorted(m for m in ('pandas', 'matplotlib', 'scipy') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"
