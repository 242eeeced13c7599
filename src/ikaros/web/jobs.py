"""Background analyses: a pool of worker processes running :func:`ikaros.study.run_study`.

Each job reads its parameters from the database, loads the stored cohort, runs the analysis (and
the report), writes the outputs atomically into the analysis directory and records the status,
progress, software versions and results.json in the database. A job that cannot finish is
recorded as failed with its message; analyses left queued or running by a stopped server are
taken up again (queued) or marked interrupted (running) when the server starts.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing as mp
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ikaros.errors import IkarosError
from ikaros.web.db import Database
from ikaros.web.models import Analysis, Cohort, utcnow
from ikaros.web.storage import FileStore, analysis_dir

__all__ = ["JobRunner", "run_job"]

log = logging.getLogger("ikaros.web")
_WORKER_DB: dict[str, Database] = {}


def _db(url: str) -> Database:
    if url not in _WORKER_DB:
        _WORKER_DB[url] = Database(url)
    return _WORKER_DB[url]


def _update(db: Database, analysis_id: str, **values: Any) -> None:
    with db.session() as s:
        a = s.get(Analysis, analysis_id)
        if a is not None:
            for k, v in values.items():
                setattr(a, k, v)


def run_job(database_url: str, data_dir: str, analysis_id: str) -> str:
    """Run one analysis (in a worker process); returns its final status."""
    from ikaros.files import staged_output
    from ikaros.report.build import build_report, plan_figures
    from ikaros.results import to_json
    from ikaros.study import StudyOptions, run_study, software_versions
    from ikaros.web.ingest import load_stored

    db = _db(database_url)
    root = Path(data_dir)
    with db.session() as s:
        a = s.get(Analysis, analysis_id)
        if a is None or a.status not in ("queued",):
            return "skipped"
        c = s.get(Cohort, a.cohort_id)
        assert c is not None
        params = dict(a.params)
        with_report = a.with_report
        a.status, a.started_at, a.progress_label = "running", utcnow(), "loading cohort"
        cohort_path = FileStore(root / "files").path(c.sha256, c.file_format)
        cohort_name, time_unit = c.name, c.time_unit
    try:
        cohort = load_stored(cohort_path, cohort_name, time_unit)
        options = StudyOptions(
            markers=tuple(params["markers"]),
            endpoints=tuple(params["endpoints"]),
            landmark=float(params.get("landmark", 36.0)),
            cut=str(params.get("cut", "quartile")),
            measurement=params.get("measurement") or None,
        )
        steps = len(options.markers) * len(options.endpoints)
        state = {"done": 0, "total": steps, "last": 0.0}

        def step(label: str) -> None:
            state["done"] += 1
            now = time.monotonic()
            if now - state["last"] > 0.25:
                state["last"] = now
                _update(
                    db,
                    analysis_id,
                    progress=min(0.99, (state["done"] - 1) / state["total"]),
                    progress_label=label,
                )

        results = run_study(
            cohort, options, progress=step, command=f"ikaros serve: analysis {analysis_id}"
        )
        text = to_json(results)
        with staged_output(analysis_dir(root / "analyses", analysis_id)) as stage:
            stage.write_text("results.json", text)
            if with_report:
                state["total"] = steps + len(plan_figures(results)) + 2
                build_report(results, stage.path, progress=step)
        _update(
            db,
            analysis_id,
            status="done",
            progress=1.0,
            progress_label="done",
            results_json=text,
            results_sha256=hashlib.sha256(text.encode()).hexdigest(),
            software=software_versions(),
            finished_at=utcnow(),
        )
        return "done"
    except IkarosError as exc:
        _update(db, analysis_id, status="failed", error=exc.message, finished_at=utcnow())
        return "failed"
    except Exception as exc:  # recorded, never lost; the server log has the traceback
        log.exception("analysis %s failed", analysis_id)
        _update(
            db,
            analysis_id,
            status="failed",
            error=f"internal error ({type(exc).__name__}); the server log has the details. "
            "This is a bug in ikaros; please report it",
            finished_at=utcnow(),
        )
        return "failed"


class JobRunner:
    """Submits analyses to worker processes and records crashes of the workers themselves."""

    def __init__(self, db: Database, data_dir: Path, workers: int) -> None:
        self.db = db
        self.data_dir = data_dir
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"))

    def start(self) -> None:
        self._pool = self._new_pool()
        with self.db.session() as s:
            for a in s.scalars(select(Analysis).where(Analysis.status == "running")):
                a.status, a.error, a.finished_at = (
                    "failed",
                    "interrupted: the server stopped during this analysis; run it again",
                    utcnow(),
                )
            queued = list(s.scalars(select(Analysis.id).where(Analysis.status == "queued")))
        for analysis_id in queued:
            self.submit(analysis_id)

    def submit(self, analysis_id: str) -> None:
        if self._pool is None:
            raise RuntimeError("job runner not started")
        try:
            future = self._pool.submit(run_job, self.db.url, str(self.data_dir), analysis_id)
        except BrokenProcessPool:  # a worker died earlier: start a fresh pool
            self._pool = self._new_pool()
            future = self._pool.submit(run_job, self.db.url, str(self.data_dir), analysis_id)
        future.add_done_callback(lambda f: self._finished(analysis_id, f))

    def _finished(self, analysis_id: str, future: Future[str]) -> None:
        if future.cancelled():  # shut down before it started: still queued, taken up at start-up
            return
        exc = future.exception()
        if exc is None:
            return
        log.error("analysis %s: worker failed: %r", analysis_id, exc)
        try:
            with self.db.session() as s:
                a = s.get(Analysis, analysis_id)
                if a is not None and a.status in ("queued", "running"):
                    a.status, a.error, a.finished_at = (
                        "failed",
                        f"the analysis worker stopped unexpectedly ({type(exc).__name__})",
                        utcnow(),
                    )
        except Exception:  # pragma: no cover - database gone while shutting down
            log.exception("could not record the failure of analysis %s", analysis_id)

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
