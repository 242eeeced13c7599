"""The console script builds only the command it runs (ikaros.cli.build_app): the same help,
errors and results as the application with every command."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ikaros.cli import COMMANDS, GROUPS, app, build_app

ANSI = re.compile(r"\x1b\[[0-9;]*m")
NAMES = [name for name, _, _ in COMMANDS + GROUPS]


def _run(cli: object, args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args)  # type: ignore[arg-type]
    return result.exit_code, ANSI.sub("", result.stdout), ANSI.sub("", result.stderr)


@pytest.mark.parametrize("name", NAMES)
def test_one_command_answers_as_all_of_them(name: str) -> None:
    one = build_app(name)
    cases = [[name, "--help"], [name, "--no-such-option"]]
    if name != "serve":  # without arguments, serve starts the web server
        cases.append([name])
    for args in cases:
        assert _run(one, args) == _run(app, args)


def test_one_command_has_only_that_command() -> None:
    import typer.main

    group = typer.main.get_command(build_app("analyze"))
    assert list(group.commands) == ["analyze"]  # type: ignore[attr-defined]
    assert sorted(typer.main.get_command(app).commands) == sorted(NAMES)  # type: ignore[attr-defined]


def test_the_console_script_runs_a_command(tmp_path: Path) -> None:
    bad = tmp_path / "cohort.csv"
    bad.write_text("patient_id,pfs_time,pfs_event,IKZF1\nP1,twelve,1,0.5\nP2,3,0,0.7\n")
    args = ["analyze", str(bad), "-m", "IKZF1", "-e", "pfs", "--out", str(tmp_path / "out")]
    run = subprocess.run(
        [sys.executable, "-m", "ikaros.cli", *args], capture_output=True, text=True
    )
    assert run.returncode == 2, run.stderr
    assert "row 2" in run.stderr and "'pfs_time'" in run.stderr and "twelve" in run.stderr
    assert not (tmp_path / "out").exists()
    unknown = subprocess.run(
        [sys.executable, "-m", "ikaros.cli", "analyz"], capture_output=True, text=True
    )
    assert unknown.returncode == 2 and "Did you mean 'analyze'?" in unknown.stderr
