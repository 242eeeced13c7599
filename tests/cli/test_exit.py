"""The end of a command: exit status as sys.exit gives it, exit handlers run, output flushed.

``ikaros.cli.main`` exits without tearing the interpreter down; what a user or a calling
script sees must be what ``sys.exit`` would have given.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROGRAM = """
import atexit, sys, threading, time
from ikaros.cli import _exit
atexit.register(lambda: print("handler", flush=False))
def late():
    time.sleep(0.3)
    print("thread", flush=False)
threading.Thread(target=late).start()
sys.stdout.write("x" * 200000 + "\\n")  # more than a pipe holds, unflushed
_exit({code})
"""


@pytest.mark.parametrize(
    ("code", "status", "stderr"), [("None", 0, ""), ("0", 0, ""), ("3", 3, ""), ("'no'", 1, "no")]
)
def test_exit_is_sys_exit_s(code: str, status: int, stderr: str) -> None:
    run = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(code=code)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONUNBUFFERED": "", "PATH": ""},
    )
    assert run.returncode == status
    assert run.stderr.strip() == stderr
    lines = run.stdout.splitlines()
    assert lines == ["x" * 200000, "thread", "handler"]  # the thread joined, then the handlers


def test_the_entry_point_exits_with_the_command_s_status() -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "ikaros", "--version"], capture_output=True, text=True, timeout=60
    )
    assert (ok.returncode, ok.stdout.strip()) == (0, f"ikaros {_version()}")
    bad = subprocess.run(
        [sys.executable, "-m", "ikaros", "analyze", "/nonexistent/cohort.csv", "-e", "pfs",
         "-m", "IKZF1", "-o", "/nonexistent/out"],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr


def _version() -> str:
    from ikaros import __version__

    return __version__


def test_a_profiler_still_gets_its_findings_written(tmp_path: Path) -> None:
    stats = tmp_path / "version.prof"
    run = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(stats), "-m", "ikaros", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert stats.stat().st_size > 0
