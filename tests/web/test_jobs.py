"""Worker processes belong to the server; interrupted analyses stay interrupted.

* A worker ends when the server process ends, however it ends: the parent-death signal (Linux),
  the watchdog (any platform), and processes the analysis forks (the report's figure pool) too.
  Against a real ``ikaros serve``: after ``kill -9`` of the server every process it started is
  gone within 10 s, and no analysis changes in the database afterwards.
* A restart records the analyses left running as interrupted, once; a run that finds its
  analysis recorded as interrupted stops and keeps nothing (it can never turn it into "done").
* Ctrl-C says what the server waits for; a second Ctrl-C stops the running analyses, which are
  recorded as interrupted, while queued ones stay queued for the next start.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from ikaros.web import worker
from ikaros.web.db import Database
from ikaros.web.models import Analysis
from ikaros.web.worker import run_job
from tests.web.conftest import AppFactory, upload
from tests.web.security_support import csv_bytes, demo_frame, server_process
from tests.web.test_api_restart import _insert, stop

psutil = pytest.importorskip("psutil")
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
#: long enough to be caught running: four markers, both endpoints, optimal cut, full report
LONG = {"markers": ["IKZF1", "IKZF3", "CRBN", "BSG"], "cut": "optimal", "report": True}
SHORT = {"markers": ["IKZF1"], "endpoints": ["pfs"], "report": False}


# --- the worker's side: parent-death signal, watchdog, forks ---------------------------------


def _gone(pids: list[int], timeout: float) -> float:
    """Seconds until none of ``pids`` is alive (zombies count as gone); fails after timeout."""
    start = time.monotonic()
    while True:
        alive = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        elapsed = time.monotonic() - start
        if not alive:
            return elapsed
        if elapsed > timeout:
            for pid in alive:  # do not leave them behind
                os.kill(pid, signal.SIGKILL)
            raise AssertionError(f"still alive after {timeout} s: {alive}")
        time.sleep(0.05)


_CHILD = """
import os, sys, time
from ikaros.web import worker
mode = sys.argv[1]
if mode == "late-fork":  # the forked child arms itself only after the worker is gone
    os.register_at_fork(after_in_child=lambda: time.sleep(1.0))
if mode == "signal":
    worker._arm_signal()
elif mode == "watchdog":
    worker._start_watchdog(os.getppid())
else:
    worker.die_with_parent(os.getppid())
pids = [os.getpid()]
if mode in ("fork", "late-fork"):
    pid = os.fork()
    if pid == 0:
        time.sleep(120)
        os._exit(0)
    pids.append(pid)
print(" ".join(map(str, pids)), flush=True)
time.sleep(120)
"""
_PARENT = """
import os, signal, subprocess, sys
child = subprocess.Popen(
    [sys.executable, "-c", sys.argv[1], sys.argv[2]],
    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
)  # holds none of our pipes: the test sees the parent end, not the child
print(child.stdout.readline().decode().strip(), flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # as kill -9 would
"""


@pytest.mark.parametrize(
    "mode",
    [
        pytest.param("signal", marks=linux_only),
        "watchdog",
        pytest.param("fork", marks=linux_only),
        pytest.param("late-fork", marks=linux_only),
    ],
)
def test_a_worker_ends_with_its_parent(mode: str) -> None:
    parent = subprocess.run(
        [sys.executable, "-c", _PARENT, _CHILD, mode],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert parent.returncode == -signal.SIGKILL, parent.stderr
    pids = [int(p) for p in parent.stdout.split()]
    assert len(pids) == (2 if mode.endswith("fork") else 1)
    # the watchdog polls; a late fork arms itself 1 s after the worker ended
    limit = {"watchdog": 2.0 + worker.WATCHDOG_INTERVAL, "late-fork": 3.0}.get(mode, 2.0)
    assert _gone(pids, timeout=limit) < limit


# --- a run never overwrites an interrupted analysis -------------------------------------------


@pytest.fixture
def stored_cohort(make_client: AppFactory, database_url: str, tmp_path: Path) -> Iterator[Any]:
    """A data directory and database holding the demo cohort; the app is stopped again."""
    data_dir = tmp_path / "data"
    client = make_client(data_dir=data_dir, database_url=database_url)
    path = tmp_path / "demo.csv"
    path.write_bytes(csv_bytes(demo_frame()))
    r = upload(client, path)
    assert r.status_code == 201, r.text
    stop(client)
    yield data_dir, database_url, r.json()["id"]
    worker._WORKER_DB.pop(database_url, None)


def _row(database_url: str, analysis_id: str) -> dict[str, Any]:
    db = Database(database_url)
    try:
        with db.session() as s:
            a = s.get(Analysis, analysis_id)
            assert a is not None
            return {
                k: getattr(a, k)
                for k in (
                    "status",
                    "error",
                    "progress",
                    "progress_label",
                    "results_json",
                    "finished_at",
                    "run_id",
                )
            }
    finally:
        db.dispose()


def _interrupt(database_url: str, analysis_id: str) -> None:
    """What a restart does to an analysis left running."""
    db = Database(database_url)
    try:
        with db.session() as s:
            s.execute(
                update(Analysis)
                .where(Analysis.id == analysis_id)
                .values(status="failed", error="interrupted: test")
            )
    finally:
        db.dispose()


def test_a_disowned_run_keeps_nothing(stored_cohort: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir, url, cohort_id = stored_cohort
    import ikaros.results
    import ikaros.study

    real_study, real_json = ikaros.study.run_study, ikaros.results.to_json

    # interrupted while the analysis runs: the next progress report stops it
    during = _insert(url, cohort_id, status="queued")

    def study_interrupted(*args: Any, **kwargs: Any) -> Any:
        _interrupt(url, during)
        return real_study(*args, **kwargs)

    monkeypatch.setattr(ikaros.study, "run_study", study_interrupted)
    assert run_job(url, str(data_dir), during) == "disowned"
    row = _row(url, during)
    assert (row["status"], row["error"], row["results_json"]) == (
        "failed",
        "interrupted: test",
        None,
    )
    assert not (data_dir / "analyses" / during).exists()

    # interrupted after the analysis, while the outputs are written: nothing lands
    after = _insert(url, cohort_id, status="queued")

    def json_interrupted(results: Any) -> str:
        _interrupt(url, after)
        return str(real_json(results))

    monkeypatch.setattr(ikaros.study, "run_study", real_study)
    monkeypatch.setattr(ikaros.results, "to_json", json_interrupted)
    assert run_job(url, str(data_dir), after) == "disowned"
    row = _row(url, after)
    assert (row["status"], row["error"], row["results_json"]) == (
        "failed",
        "interrupted: test",
        None,
    )
    assert not (data_dir / "analyses" / after).exists()
    assert not list((data_dir / "analyses").glob(".*stage*"))

    # not interrupted: the same run records its results
    monkeypatch.setattr(ikaros.results, "to_json", real_json)
    ok = _insert(url, cohort_id, status="queued")
    assert run_job(url, str(data_dir), ok) == "done"
    row = _row(url, ok)
    assert row["status"] == "done" and row["results_json"] and row["run_id"]
    assert (data_dir / "analyses" / ok / "results.json").is_file()
    # an analysis already taken up by another run is left alone
    assert run_job(url, str(data_dir), ok) == "skipped"
    assert _row(url, ok) == row


# --- a real server -------------------------------------------------------------------------------


def _start(url: str, count_long: int = 1, count_short: int = 1) -> tuple[list[str], list[str]]:
    """Upload the demo cohort; queue long analyses then short ones; returns their ids."""
    client = httpx.Client(base_url=url, timeout=120)
    headers = {"X-CSRF-Token": client.get("/api/v1/csrf").json()["csrf_token"]}
    r = client.post(
        "/api/v1/cohorts", files={"file": ("demo.csv", csv_bytes(demo_frame()))}, headers=headers
    )
    assert r.status_code == 201, r.text
    ids: list[list[str]] = [[], []]
    for n, body, out in ((count_long, LONG, ids[0]), (count_short, SHORT, ids[1])):
        for _ in range(n):
            a = client.post(
                f"/api/v1/cohorts/{r.json()['id']}/analyses", json=body, headers=headers
            )
            assert a.status_code == 202, a.text
            out.append(a.json()["id"])
    return ids[0], ids[1]


def _statuses(db_file: Path) -> dict[str, tuple[Any, ...]]:
    with sqlite3.connect(db_file) as db:
        rows = db.execute(
            "SELECT id, status, progress, progress_label, error, finished_at, results_json "
            "FROM analyses"
        ).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def _wait_running(db_file: Path, analysis_id: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while _statuses(db_file)[analysis_id][0] != "running":
        assert time.monotonic() < deadline, f"{analysis_id} never started"
        time.sleep(0.2)
    time.sleep(1.0)  # well into it (figure pool processes may be running)


def test_kill_9_of_the_server(make_client: AppFactory, tmp_path: Path) -> None:
    data = tmp_path / "data"
    db_file = data / "ikaros.db"
    with server_process(data, workers=1) as (proc, url, _log):
        (long_id, queued_id), _ = _start(url, count_long=2, count_short=0)
        _wait_running(db_file, long_id)
        started = [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
        assert started, "no worker process"
        proc.kill()
        proc.wait()
        took = _gone(started, timeout=10)
    print(f"{len(started)} processes of the server gone {took:.2f} s after kill -9")
    before = _statuses(db_file)
    assert before[long_id][0] == "running" and before[queued_id][0] == "queued"
    time.sleep(3)
    assert _statuses(db_file) == before  # nobody is left to write

    # (the queued one would be run by the restarted server; it is not needed here)
    with sqlite3.connect(db_file) as db:
        db.execute("UPDATE analyses SET status = 'failed' WHERE id = ?", (queued_id,))
    # the restarted server records the orphan once, as interrupted
    app = make_client(data_dir=data)
    interrupted = app.get(f"/api/v1/analyses/{long_id}").json()
    assert interrupted["status"] == "failed", interrupted
    assert interrupted["error"].startswith("interrupted: the server stopped while this analysis")
    assert interrupted["files"] == []
    assert not (data / "analyses" / long_id).exists()
    stop(app)
    again = make_client(data_dir=data)
    assert again.get(f"/api/v1/analyses/{long_id}").json() == interrupted


def test_ctrl_c_waits_and_a_second_one_stops(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db_file = data / "ikaros.db"
    with server_process(data, workers=1) as (proc, url, log):
        (long_id,), (short_id,) = _start(url)
        _wait_running(db_file, long_id)
        started = [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
        proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 15
        while "Press Ctrl-C again" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        text = log.read_text()
        assert f"waiting for 1 running analysis to finish: {long_id} (" in text
        assert "1 queued analysis will run at the next start" in text
        time.sleep(1)
        assert proc.poll() is None  # still waiting for the analysis
        assert _statuses(db_file)[long_id][0] == "running"
        proc.send_signal(signal.SIGINT)
        t0 = time.monotonic()
        proc.wait(timeout=30)
        print(f"stopped {time.monotonic() - t0:.2f} s after the second Ctrl-C")
        _gone(started, timeout=5)
    assert "stopping 1 running analysis now" in log.read_text()
    final = _statuses(db_file)
    assert final[long_id][0] == "failed"
    assert str(final[long_id][3]).startswith("interrupted: the server was stopped (forced)")
    assert final[short_id][0] == "queued"  # taken up at the next start
    assert "Traceback" not in log.read_text()
