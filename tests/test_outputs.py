"""Output directories hold one coherent run, or nothing (issue 10).

- a reused --out is replaced as a whole (no file of the earlier run stays beside new ones);
- a non-empty directory that ikaros did not write is refused before any work;
- SIGTERM removes the stage; a stage left by a killed process is removed at the next start;
- "nothing written" is said only when true (disk full, read-only: the path is named);
- ``ikaros report`` validates results.json (types, ranges, structure, encoding) before rendering.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ikaros.cli import app
from ikaros.output import MARKER
from ikaros.simulate import DEMO_SEED, simulate_cohort
from tests.conftest import ANSI, one_error_line

runner = CliRunner()


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cohort") / "cohort.csv"
    path.write_text(
        simulate_cohort(DEMO_SEED).to_csv(index=False, lineterminator="\n"), encoding="utf-8"
    )
    return path


def _run(*args: str) -> None:
    result = runner.invoke(app, [*args, "-q"], env={"IKAROS_DEBUG": None})
    assert result.exit_code == 0, ANSI.sub("", result.stderr)


def _tree(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


def test_reused_out_is_replaced_as_a_whole(cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run("analyze", str(cohort), "-m", "IKZF1", "-e", "pfs", "--report", "--out", str(out))
    assert (out / "report.html").is_file() and (out / "figures").is_dir()
    _run("analyze", str(cohort), "-m", "IKZF3", "-e", "pfs", "--out", str(out))
    assert _tree(out) == sorted([MARKER, "results.json"])
    res = json.loads((out / "results.json").read_text())
    assert [a["marker"] for a in res["analyses"]] == ["IKZF3"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no stage or old folder left


def test_report_into_results_dir_keeps_results_and_replaces_old_report(
    cohort: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    _run("analyze", str(cohort), "-m", "IKZF1", "-e", "pfs", "--report", "--out", str(out))
    stale = out / "figures" / "stale_figure.png"
    stale.write_bytes(b"old")
    results = (out / "results.json").read_bytes()
    _run("report", str(out), "--no-pdf")
    assert (out / "results.json").read_bytes() == results
    assert not stale.exists()
    assert not (out / "report.pdf").exists()  # the old PDF belonged to the old report


def test_foreign_non_empty_out_is_refused(cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "mydata"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    args = ["analyze", str(cohort), "-m", "IKZF1", "-e", "pfs", "--out", str(out)]
    message = one_error_line(runner.invoke(app, args, env={"IKAROS_DEBUG": None}))
    assert "not empty and was not written by ikaros" in message
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_disk_full_names_the_path_and_writes_nothing(
    cohort: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ikaros import output

    def full(self: output.OutputStage, relative: str, text: str) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device", str(self.path / relative))

    monkeypatch.setattr(output.OutputStage, "write_text", full)
    out = tmp_path / "out"
    args = ["analyze", str(cohort), "-m", "IKZF1", "-e", "pfs", "--out", str(out)]
    message = one_error_line(runner.invoke(app, args, env={"IKAROS_DEBUG": None}))
    assert "No space left on device" in message and "results.json" in message
    assert "free disk space" in message and "Nothing was written" in message
    assert [p.name for p in tmp_path.iterdir()] == []


def test_sigterm_removes_the_stage(cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "ikaros.cli",
        "analyze",
        str(cohort),
        "-m",
        "IKZF1",
        "-e",
        "pfs",
        "--report",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(tmp_path.glob(".out.stage-*")):
        time.sleep(0.05)
    assert list(tmp_path.glob(".out.stage-*")), "the command never staged its output"
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []


def test_stage_of_a_killed_process_is_removed_at_next_start(cohort: Path, tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / f".out.stage-{dead.pid}-abc123"
    left.mkdir()
    (left / "results.json").write_text("{}")
    _run("analyze", str(cohort), "-m", "IKZF1", "-e", "pfs", "--out", str(tmp_path / "out"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# ----------------------------------------------------------------------------- report input


@pytest.fixture(scope="module")
def results_text(cohort: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("res") / "out"
    _run("analyze", str(cohort), "-m", "IKZF1", "-e", "pfs", "--out", str(out))
    return (out / "results.json").read_text()


def _tamper(text: str, edit: str) -> str:
    data = json.loads(text)
    a = data["analyses"][0]
    if edit == "survival":
        a["groups"]["Q1"]["landmark"]["survival"] = 1.7
    elif edit == "n_text":
        a["n"] = "60"
    elif edit == "unequal":
        a["groups"]["Q1"]["curve"]["surv"].pop()
    elif edit == "p":
        a["logrank"]["p"] = -0.2
    elif edit == "events":
        a["groups"]["Q1"]["events"] = a["groups"]["Q1"]["n"] + 1
    return json.dumps(data)


@pytest.mark.parametrize(
    "edit,expect",
    [
        ("survival", "not a probability"),
        ("n_text", "expected an integer"),
        ("unequal", "values but time has"),
        ("p", "not a probability"),
        ("events", "must lie between 0 and n"),
    ],
)
def test_report_validates_results(
    results_text: str, tmp_path: Path, edit: str, expect: str
) -> None:
    d = tmp_path / "res"
    d.mkdir()
    (d / "results.json").write_text(_tamper(results_text, edit))
    message = one_error_line(runner.invoke(app, ["report", str(d)], env={"IKAROS_DEBUG": None}))
    assert expect in message and "results.json" in message
    assert sorted(p.name for p in d.iterdir()) == ["results.json"]


@pytest.mark.parametrize("form", ["utf16", "nested", "not-json"])
def test_report_on_unreadable_results(results_text: str, tmp_path: Path, form: str) -> None:
    d = tmp_path / "res"
    d.mkdir()
    path = d / "results.json"
    if form == "utf16":
        path.write_bytes(results_text.encode("utf-16"))
    elif form == "nested":
        path.write_text("[" * 100_000 + "]" * 100_000)
    else:
        path.write_text("{'schema_version': 1}")
    result = runner.invoke(app, ["report", str(d), "--no-pdf", "-q"], env={"IKAROS_DEBUG": None})
    if form == "utf16":  # a re-encoded but intact file is read
        assert result.exit_code == 0, ANSI.sub("", result.stderr)
        return
    message = one_error_line(result)
    assert "results.json" in message


def test_report_says_which_command_made_another_directory(tmp_path: Path) -> None:
    d = tmp_path / "cp"
    d.mkdir()
    (d / "cutpoint.json").write_text("{}")
    message = one_error_line(runner.invoke(app, ["report", str(d)], env={"IKAROS_DEBUG": None}))
    assert "ikaros cutpoint" in message


def test_no_stage_folders_left_after_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("patient_id,pfs_time,pfs_event,IKZF1\nA,1,2,0.5\n", encoding="utf-8")
    args = ["analyze", str(path), "-m", "IKZF1", "-e", "pfs", "--out", str(tmp_path / "o")]
    one_error_line(runner.invoke(app, args, env={"IKAROS_DEBUG": None}))
    assert sorted(os.listdir(tmp_path)) == ["c.csv"]
