"""The analysis worker process: runs one analysis at a time for :mod:`ikaros.web.jobs`.

* :func:`die_with_parent` (the pool's initializer) ties the worker to the server: on Linux the
  kernel sends it SIGKILL when the server thread that started it ends
  (``prctl(PR_SET_PDEATHSIG)``); everywhere a watchdog thread exits it within
  :data:`WATCHDOG_INTERVAL` seconds of noticing that its parent is gone. Processes the analysis
  forks (the report's figure pool) are armed the same way. SIGINT is ignored: Ctrl-C in the
  terminal reaches the whole process group, and it is the server that decides.
* :func:`run_job` takes a queued analysis up under a random run id and writes progress and the
  final status only while the analysis is still ``running`` under that id. An analysis recorded
  as interrupted meanwhile is never turned into "done": the run stops and deletes its outputs.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import logging
import os
import secrets
import shutil
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, update

from ikaros.errors import IkarosError
from ikaros.web.db import Database
from ikaros.web.models import Analysis, Cohort, utcnow
from ikaros.web.storage import FileStore, analysis_dir

__all__ = ["WATCHDOG_INTERVAL", "die_with_parent", "run_job"]

log = logging.getLogger("ikaros.web")
_WORKER_DB: dict[str, Database] = {}
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCHDOG_INTERVAL = 0.5


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(WATCHDOG_INTERVAL)
        if os.getppid() != parent_pid:
            os._exit(70)


def _arm_signal() -> None:
    """Linux: the kernel sends SIGKILL when the thread that started this process ends."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def _start_watchdog(parent_pid: int) -> None:
    """Any platform: exit within :data:`WATCHDOG_INTERVAL` of the parent being gone."""
    threading.Thread(
        target=_watch_parent, args=(parent_pid,), daemon=True, name="ikaros-watchdog"
    ).start()


def _arm(parent_pid: int) -> None:
    """End this process when ``parent_pid`` ends: parent-death signal and watchdog."""
    _arm_signal()
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(70)
    _start_watchdog(parent_pid)


_FORKING_PID: list[int] = []  # the pid that is forking, recorded before the fork


def _record_forking_pid() -> None:
    _FORKING_PID[:] = [os.getpid()]


def _arm_forked_child() -> None:
    # a fork clears the parent-death signal and copies no threads: arm them again, so that the
    # processes the analysis forks (the report's figure pool) end with the worker. The parent is
    # the pid recorded before the fork, not os.getppid(): if the worker died before this hook
    # ran, getppid() is already the reaper's and the child would watch the wrong process.
    _arm(_FORKING_PID[0] if _FORKING_PID else os.getppid())


def die_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this process (and its forks) when the server ``parent_pid`` ends.

    Also ignores SIGINT (the server handles Ctrl-C for its workers).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _arm(parent_pid)
    os.register_at_fork(before=_record_forking_pid, after_in_child=_arm_forked_child)


class _Disowned(BaseException):
    """The analysis is no longer this run's (recorded as interrupted meanwhile): stop.

    A BaseException so that no ``except Exception`` inside the analysis can swallow it.
    """


def _db(url: str) -> Database:
    if url not in _WORKER_DB:
        _WORKER_DB[url] = Database(url)
    return _WORKER_DB[url]


def _owned_update(db: Database, analysis_id: str, run_id: str, **values: Any) -> bool:
    """Update the analysis if it is still running under ``run_id``; whether it was."""
    with db.session() as s:
        result = s.execute(
            update(Analysis)
            .where(
                Analysis.id == analysis_id,
                Analysis.status == "running",
                Analysis.run_id == run_id,
            )
            .values(**values)
        )
        return cast(CursorResult[Any], result).rowcount == 1


def _claim(db: Database, analysis_id: str, run_id: str) -> dict[str, Any] | None:
    """Take a queued analysis up (queued -> running under ``run_id``); its inputs, or None."""
    with db.session() as s:
        result = s.execute(
            update(Analysis)
            .where(Analysis.id == analysis_id, Analysis.status == "queued")
            .values(
                status="running",
                run_id=run_id,
                started_at=utcnow(),
                progress_label="loading cohort",
            )
        )
        if cast(CursorResult[Any], result).rowcount != 1:
            return None
        a = s.get(Analysis, analysis_id)
        c = s.get(Cohort, a.cohort_id) if a is not None else None
        assert a is not None and c is not None
        return {
            "params": dict(a.params),
            "with_report": a.with_report,
            "sha256": c.sha256,
            "file_format": c.file_format,
            "name": c.name,
            "time_unit": c.time_unit,
            "mapping": c.mapping,
            "expression": c.expression,
        }


def run_job(database_url: str, data_dir: str, analysis_id: str) -> str:
    """Run one analysis (in a worker process); returns its final status."""
    from ikaros.files import staged_output
    from ikaros.report.build import build_report, plan_figures
    from ikaros.results import to_json
    from ikaros.study import plan_size, run_study, software_versions
    from ikaros.web.analysis_params import load_for, study_options
    from ikaros.web.ingest import expression_ref
    from ikaros.web.mapping import CohortSpec

    db = _db(database_url)
    root = Path(data_dir)
    run_id = secrets.token_hex(16)
    job = _claim(db, analysis_id, run_id)
    if job is None:
        return "skipped"
    params = job["params"]
    out_dir = analysis_dir(root / "analyses", analysis_id)
    try:
        files = FileStore(root / "files")
        cohort = load_for(
            files.path(job["sha256"], job["file_format"]),
            job["name"],
            CohortSpec.from_json(job["mapping"], job["time_unit"]),
            params,
            expression_ref(files, job["expression"]),
        )
        options = study_options(params)
        steps = plan_size(options)
        state = {"done": 0, "total": steps, "last": 0.0}

        def step(label: str) -> None:
            state["done"] += 1
            now = time.monotonic()
            if now - state["last"] > 0.25:
                state["last"] = now
                progress = min(0.99, (state["done"] - 1) / state["total"])
                if not _owned_update(
                    db, analysis_id, run_id, progress=progress, progress_label=label
                ):
                    raise _Disowned

        results = run_study(
            cohort, options, progress=step, command=f"ikaros serve: analysis {analysis_id}"
        )
        text = to_json(results)
        with staged_output(out_dir) as stage:
            stage.write_text("results.json", text)
            if job["with_report"]:
                state["total"] = steps + len(plan_figures(results)) + 2
                build_report(results, stage.path, progress=step)
            if not _owned_update(db, analysis_id, run_id, progress_label="writing the outputs"):
                raise _Disowned
        done = _owned_update(
            db,
            analysis_id,
            run_id,
            status="done",
            progress=1.0,
            progress_label="done",
            results_json=text,
            results_sha256=hashlib.sha256(text.encode()).hexdigest(),
            software=software_versions(),
            finished_at=utcnow(),
        )
        if not done:
            raise _Disowned
        return "done"
    except _Disowned:
        shutil.rmtree(out_dir, ignore_errors=True)
        log.warning(
            "analysis %s was recorded as interrupted meanwhile; result dropped", analysis_id
        )
        return "disowned"
    except IkarosError as exc:
        _owned_update(
            db, analysis_id, run_id, status="failed", error=exc.message, finished_at=utcnow()
        )
        return "failed"
    except Exception as exc:  # recorded, never lost; the server log has the traceback
        log.exception("analysis %s failed", analysis_id)
        _owned_update(
            db,
            analysis_id,
            run_id,
            status="failed",
            error=f"internal error ({type(exc).__name__}); the server log has the details. "
            "This is a bug in ikaros; please report it",
            finished_at=utcnow(),
        )
        return "failed"
