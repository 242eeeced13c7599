"""Malformed input is refused cleanly: one clear message, exit status 2, no traceback, no output.

The cases live in ``tests/data/bad/`` and are listed, with the substrings their message must
contain, in ``tests/data/bad/cases.toml``. Each runs the real ``ikaros analyze`` command in
process (typer's CliRunner); three also run as a real subprocess on a pseudo-terminal, to show
that what a user sees in a terminal holds no traceback either.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ikaros.cli import app
from ikaros.cohort import load_cohort
from ikaros.results import load_results
from tests.conftest import ANSI, ROOT, one_error_line

DATA = ROOT / "tests" / "data"
BAD = DATA / "bad"
VALID = DATA / "valid_cohort.csv"
BASE_ARGS = ["--marker", "IKZF1", "--endpoint", "pfs"]
NOT_CASES = {"cases.toml", "make_binary_cases.py", "__pycache__"}

runner = CliRunner()


def _load_cases() -> list[dict[str, Any]]:
    with open(BAD / "cases.toml", "rb") as fh:
        return tomllib.load(fh)["case"]


CASES = _load_cases()


def _case_id(case: dict[str, Any]) -> str:
    return " ".join([Path(case["file"]).name, *case.get("args", [])])


def _snapshot(path: Path) -> object:
    """Bytes and modification times of a file, or of a directory and its files."""
    if not path.exists():
        return None
    if path.is_dir():
        return (
            path.stat().st_mtime_ns,
            sorted((p.name, p.read_bytes(), p.stat().st_mtime_ns) for p in path.iterdir()),
        )
    return path.read_bytes(), path.stat().st_mtime_ns


def _listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_manifest_covers_every_case_file() -> None:
    assert len(CASES) >= 45
    ids = [_case_id(c) for c in CASES]
    assert len(ids) == len(set(ids)), "two cases with the same file and arguments"
    files = {Path(c["file"]).name for c in CASES if not c["file"].startswith("..")}
    on_disk = {p.name for p in BAD.iterdir()} - NOT_CASES
    assert on_disk <= files, f"files in tests/data/bad without a case: {on_disk - files}"
    assert len(on_disk) >= 45
    for case in CASES:
        assert case["expect"], _case_id(case)
        assert (BAD / case["file"]).exists() != case.get("absent", False), _case_id(case)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_bad_input_gives_one_clear_message_and_no_output(
    case: dict[str, Any], tmp_path: Path
) -> None:
    path = BAD / case["file"]
    out = tmp_path / "out"
    if case.get("out_is_file"):
        out.write_text("a regular file in the way of --out\n")
    out_before = _snapshot(out)
    input_before = _snapshot(path)
    bad_before = _listing(BAD)
    tmp_before = _listing(tmp_path)

    args = ["analyze", str(path), *BASE_ARGS, *case.get("args", []), "--out", str(out)]
    result = runner.invoke(app, args, env={"IKAROS_DEBUG": None})

    message = one_error_line(result)
    shown = f"stderr: {ANSI.sub('', result.stderr)}"
    if case.get("names_file", True):
        assert str(path) in message, shown
    if case.get("out_is_file"):
        assert str(out) in message, shown
    for part in case["expect"]:
        assert part in message, f"{part!r} not in the message\n{shown}"

    # nothing written: no --out directory, no staging leftovers, inputs untouched
    assert _snapshot(out) == out_before
    assert _listing(tmp_path) == tmp_before
    assert _snapshot(path) == input_before
    assert _listing(BAD) == bad_before


def test_valid_cohort_passes(tmp_path: Path) -> None:
    cohort = load_cohort(
        VALID, markers=("IKZF1", "IKZF3"), endpoints=("pfs", "os"), covariates=("age",)
    )
    assert cohort.n == 12
    assert cohort.has_cytogenetics
    before = _snapshot(VALID)
    out = tmp_path / "out"
    args = ["analyze", str(VALID), *BASE_ARGS, "--covariate", "age", "--out", str(out), "-q"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr + result.stdout
    assert "error" not in result.stderr
    assert _listing(tmp_path) == ["out"]
    assert _listing(out) == [".ikaros-output", "results.json"]
    res = load_results(out)
    assert [(a.marker, a.endpoint, a.n) for a in res.analyses] == [("IKZF1", "pfs", 12)]
    assert _snapshot(VALID) == before


def _ikaros_script() -> str:
    here = Path(sys.executable).parent
    for name in ("ikaros", "ikaros.exe"):
        if (here / name).is_file():
            return str(here / name)
    found = shutil.which("ikaros")
    if found is None:
        pytest.skip("the ikaros console script is not installed")
    return found


def _run_on_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run a command with stdin, stdout and stderr on a pseudo-terminal; exit code and output."""
    import pty
    import select

    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env)
    finally:
        os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
@pytest.mark.parametrize("name", ["duplicate_id.csv", "corrupt.xlsx", "no_events.csv"])
def test_real_terminal_shows_no_traceback(name: str, tmp_path: Path) -> None:
    case = next(c for c in CASES if c["file"] == name and not c.get("args"))
    path = BAD / name
    before = _snapshot(path)
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k not in ("IKAROS_DEBUG", "NO_COLOR")}
    env.update(TERM="xterm-256color", COLUMNS="200", LINES="40")
    code, output = _run_on_terminal(
        [_ikaros_script(), "analyze", str(path), *BASE_ARGS, "--out", str(out)], env
    )
    text = ANSI.sub("", output)
    assert code == 2, output
    assert "Traceback" not in text, output
    assert "error: " in text, output
    message = next(line for line in text.splitlines() if "error: " in line)
    for part in [str(path), *case["expect"]]:
        assert part in message, f"{part!r} not in {message!r}"
    assert not out.exists()
    assert _listing(tmp_path) == []
    assert _snapshot(path) == before
