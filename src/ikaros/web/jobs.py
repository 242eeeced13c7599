"""Background analyses: worker processes, owned by the server, running :func:`run_job`.

Each job (:mod:`ikaros.web.worker`) reads its parameters from the database, loads the stored
cohort, runs the analysis (and the report), writes the outputs atomically into the analysis
directory and records the status, progress, software versions and results.json in the database.
A job that cannot finish is recorded as failed with its message.

The workers belong to the server:

* A worker dies with the server, however the server ends (``kill -9`` included): on Linux the
  kernel sends it SIGKILL when the server thread that started it ends
  (``prctl(PR_SET_PDEATHSIG)``); everywhere a watchdog thread in the worker exits it within
  half a second of noticing that its parent is gone. All worker processes are started by one
  dispatcher thread that lives as long as the runner (the parent-death signal follows the
  starting *thread*, so workers must not be started from short-lived request threads).
* Workers ignore SIGINT: Ctrl-C in the terminal reaches the whole process group, and it is the
  server that decides (first Ctrl-C: finish the running analyses; second: stop them).
* A run owns its analysis through ``run_id``, set when it takes the analysis up. Progress and the
  final status are written only while the analysis is still ``running`` under that ``run_id``,
  so once an analysis has been recorded as interrupted nothing can turn it into "done" later
  (a run that finds itself disowned stops and removes its outputs).
* At start-up, analyses left ``running`` by a server that is gone are recorded once as
  interrupted (failed, with the reason) and ``queued`` ones are taken up again.

One server per database: a second server starting on the same database would record the first
one's running analyses as interrupted (and the first one's workers would then stop them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing as mp
import os
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from functools import partial
from pathlib import Path

from sqlalchemy import select, update

from ikaros.web.db import Database
from ikaros.web.models import Analysis, utcnow
from ikaros.web.storage import analysis_dir
from ikaros.web.worker import die_with_parent, run_job

__all__ = ["JobRunner", "run_job"]

log = logging.getLogger("ikaros.web")


def _when(t: datetime | None) -> str:
    return "an unknown time" if t is None else f"{t:%Y-%m-%d %H:%M:%S} UTC"


def _plural(n: int, word: str) -> str:
    """``1 analysis``, ``2 analyses``, ``2 running analyses``."""
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word[:-2]}es" if word.endswith("is") else f"{n} {word}s"


class JobRunner:
    """Hands queued analyses to worker processes, at most ``workers`` at a time.

    ``notify`` receives the messages for the operator (what a shutdown waits for).
    """

    def __init__(
        self,
        db: Database,
        data_dir: Path,
        workers: int,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.db = db
        self.data_dir = data_dir
        self.workers = workers
        self.notify = notify or log.warning
        self._lock = threading.Lock()
        self._waiting: deque[str] = deque()
        self._in_flight: dict[str, Future[str] | None] = {}
        self._dispatcher: ThreadPoolExecutor | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._stopping = False
        self._forced = threading.Event()
        #: why analyses ended by the stop of the server were interrupted
        self._stop_reason = "the server stopped"

    # start-up ------------------------------------------------------------------------------

    def start(self) -> None:
        """Record orphaned runs as interrupted, clean their leftovers, take up queued work."""
        with self.db.session() as s:
            orphans = list(s.scalars(select(Analysis).where(Analysis.status == "running")))
            for a in orphans:
                a.status, a.finished_at = "failed", utcnow()
                a.error = (
                    "interrupted: the server stopped while this analysis was running (started "
                    f"at {_when(a.started_at)}); nothing of it was kept. Run it again"
                )
            orphan_ids = [a.id for a in orphans]
            queued = list(
                s.scalars(
                    select(Analysis.id)
                    .where(Analysis.status == "queued")
                    .order_by(Analysis.created_at)
                )
            )
        if orphan_ids:
            self.notify(
                f"recorded {_plural(len(orphan_ids), 'analysis')} left running by the previous "
                "server as interrupted: " + ", ".join(orphan_ids)
            )
        self._remove_leftovers(orphan_ids, queued)
        with self._lock:
            self._stopping = False
            self._dispatcher = ThreadPoolExecutor(1, thread_name_prefix="ikaros-jobs")
        for analysis_id in queued:
            self.submit(analysis_id)

    def _remove_leftovers(self, orphans: list[str], queued: list[str]) -> None:
        root = self.data_dir / "analyses"
        for analysis_id in orphans + queued:
            shutil.rmtree(analysis_dir(root, analysis_id), ignore_errors=True)
        if root.is_dir():
            for stage in root.glob(".*.stage-*"):  # of runs killed while writing
                shutil.rmtree(stage, ignore_errors=True)

    # dispatching ---------------------------------------------------------------------------

    def submit(self, analysis_id: str) -> None:
        """Queue an analysis; while the server is stopping it stays queued for the next start."""
        with self._lock:
            if self._dispatcher is None:
                raise RuntimeError("job runner not started")
            if self._stopping:
                return
            self._waiting.append(analysis_id)
            self._dispatcher.submit(self._pump)

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.workers,
            mp_context=mp.get_context("spawn"),
            initializer=die_with_parent,
            initargs=(os.getpid(),),
        )

    def _pool_submit(self, analysis_id: str) -> Future[str]:
        args = (self.db.url, str(self.data_dir), analysis_id)
        with self._lock:
            if self._pool is None:
                self._pool = self._new_pool()
            pool = self._pool
        try:
            return pool.submit(run_job, *args)
        except BrokenProcessPool:  # a worker died earlier: a fresh pool
            pool.shutdown(wait=False)
            with self._lock:
                pool = self._pool = self._new_pool()
            return pool.submit(run_job, *args)

    def _pump(self) -> None:
        """Start waiting analyses while workers are free (dispatcher thread only)."""
        while True:
            with self._lock:
                if self._stopping or not self._waiting or len(self._in_flight) >= self.workers:
                    return
                analysis_id = self._waiting.popleft()
                self._in_flight[analysis_id] = None
            try:
                future = self._pool_submit(analysis_id)
            except Exception as exc:  # pragma: no cover - cannot start processes at all
                log.exception("cannot start a worker for analysis %s", analysis_id)
                with self._lock:
                    self._in_flight.pop(analysis_id, None)
                self._record_failure(analysis_id, f"no worker could be started ({exc})")
                continue
            with self._lock:
                self._in_flight[analysis_id] = future
            future.add_done_callback(partial(self._finished, analysis_id))

    def _record_failure(self, analysis_id: str, error: str, *, queued_too: bool = True) -> None:
        states = ("queued", "running") if queued_too else ("running",)
        try:
            with self.db.session() as s:
                s.execute(
                    update(Analysis)
                    .where(Analysis.id == analysis_id, Analysis.status.in_(states))
                    .values(status="failed", error=error, finished_at=utcnow())
                )
        except Exception:  # pragma: no cover - database gone while shutting down
            log.exception("could not record the failure of analysis %s", analysis_id)

    def _status(self, analysis_id: str) -> str | None:
        with self.db.session() as s:
            return s.scalar(select(Analysis.status).where(Analysis.id == analysis_id))

    def _finished(self, analysis_id: str, future: Future[str]) -> None:
        exc = None if future.cancelled() else future.exception()
        resubmit = False
        if exc is not None:
            if self._stopping:
                # killed with the server: running ones are interrupted, queued ones stay queued
                self._record_failure(
                    analysis_id,
                    f"interrupted: {self._stop_reason} before this analysis finished; nothing of "
                    "it was kept. Run it again",
                    queued_too=False,
                )
            elif isinstance(exc, BrokenProcessPool) and self._status(analysis_id) == "queued":
                resubmit = True  # another job's worker died before this one started
            elif isinstance(exc, BrokenProcessPool):
                log.error("analysis %s: worker failed: %r", analysis_id, exc)
                self._record_failure(
                    analysis_id,
                    "the analysis worker stopped unexpectedly; the system may have ended it "
                    "(out of memory?)",
                )
            else:  # raised by run_job outside its own error handling
                log.error("analysis %s: worker failed: %r", analysis_id, exc)
                self._record_failure(
                    analysis_id,
                    f"internal error in the analysis worker ({type(exc).__name__}); the server "
                    "log has the details. This is a bug in ikaros; please report it",
                )
        with self._lock:
            self._in_flight.pop(analysis_id, None)
            if resubmit:
                self._waiting.appendleft(analysis_id)
            if self._stopping or self._dispatcher is None:
                return
            with contextlib.suppress(RuntimeError):  # dispatcher shut down meanwhile
                self._dispatcher.submit(self._pump)

    # shutting down -------------------------------------------------------------------------

    def running(self) -> list[str]:
        """Analyses handed to a worker and not finished."""
        with self._lock:
            return list(self._in_flight)

    def force(self) -> None:
        """Ask a waiting :meth:`drain` to stop the running analyses now (signal-safe)."""
        self._forced.set()

    def _describe(self, ids: list[str]) -> str:
        """The analyses with their progress (just the ids if the database cannot say)."""
        try:
            with self.db.session() as s:
                rows = s.execute(
                    select(Analysis.id, Analysis.progress, Analysis.progress_label).where(
                        Analysis.id.in_(ids)
                    )
                ).all()
        except Exception:  # the database is gone: the message must still be given
            return ", ".join(ids)
        return ", ".join(f"{i} ({p:.0%}, {label or 'starting'})" for i, p, label in rows)

    async def drain(self, remind_every: float = 15.0) -> None:
        """Take no more work; wait for the running analyses, or stop them once forced."""
        with self._lock:
            self._stopping = True
            waiting = len(self._waiting)
        running = self.running()
        if running:
            self.notify(
                f"waiting for {_plural(len(running), 'running analysis')} to finish: "
                f"{self._describe(running)}. "
                + (
                    f"{_plural(waiting, 'queued analysis')} will run at the next start. "
                    if waiting
                    else ""
                )
                + "Press Ctrl-C again to stop now (the running analyses are then recorded as "
                "interrupted)."
            )
        last = time.monotonic()
        while self.running():
            if self._forced.is_set():
                self.notify(
                    f"stopping {_plural(len(self.running()), 'running analysis')} now; recorded "
                    "as interrupted"
                )
                self.shutdown(force=True)
                return
            await asyncio.sleep(0.1)
            if time.monotonic() - last > remind_every and self.running():
                last = time.monotonic()
                self.notify(f"still waiting for: {self._describe(self.running())}")

    def _kill_workers(self, pool: ProcessPoolExecutor) -> None:
        kill = getattr(pool, "kill_workers", None)  # Python >= 3.14
        if kill is not None:
            kill()
            return
        processes = getattr(pool, "_processes", None) or {}
        for process in list(processes.values()):
            with contextlib.suppress(Exception):
                process.kill()

    def shutdown(self, force: bool = False) -> None:
        """Stop the workers: after the running analyses finish, or at once with ``force``.

        Analyses still running when forced are recorded as interrupted; queued ones stay
        queued (the next start takes them up). Safe to call more than once.
        """
        force = force or self._forced.is_set()
        with self._lock:
            self._stopping = True
            if force:
                self._stop_reason = "the server was stopped (forced)"
            pool, self._pool = self._pool, None
            dispatcher, self._dispatcher = self._dispatcher, None
            in_flight = list(self._in_flight)
        if dispatcher is not None:  # let a dispatch in progress end (it sees _stopping next)
            with contextlib.suppress(RuntimeError):
                dispatcher.submit(lambda: None).result()
        with self._lock:
            late, self._pool = self._pool, None  # a pool a dispatch in progress created
        for p in (pool, late):
            if p is not None:
                if force:
                    self._kill_workers(p)
                p.shutdown(wait=True, cancel_futures=True)
        if dispatcher is not None:
            # only now: the parent-death signal ends the workers with the thread that started them
            dispatcher.shutdown(wait=True)
        for analysis_id in in_flight if force else []:
            self._record_failure(
                analysis_id,
                f"interrupted: {self._stop_reason} before this analysis finished; nothing of it "
                "was kept. Run it again",
                queued_too=False,
            )
