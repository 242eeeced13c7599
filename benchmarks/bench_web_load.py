"""Benchmark: a bounded load test of the web workbench on loopback.

The real server (``ikaros serve --port FREE --data-dir TMP --workers 2``, a subprocess) gets the
demo cohort (``simulate_cohort(DEMO_SEED)``, as ``ikaros demo`` writes it). Then ``--clients``
concurrent clients (threads, one ``httpx.Client`` each, with their own session and CSRF token from
``GET /api/v1/csrf``) together submit ``--analyses`` study analyses of the demo cohort (all four
markers, pfs and os; the report only with ``--report``). Each client submits an analysis and
polls it until it is done (every ``--poll`` seconds +-50 %, 0.7 s as the analysis page does);
after each poll it makes, with probability 0.4, an explorer request (random marker and endpoint,
half of them at a moved cut) and, with probability 0.2, a cohort request, as a user watching the
page would. Then it fetches results.json and submits its next analysis. Every request is timed.

Requirements (issue): zero errors -- any non-2xx answer, transport error, failed analysis or
timeout counts -- and nothing lost: at the end every submitted analysis is listed by the API as
done, its results.json is served and its SHA-256 matches the recorded one, and (read directly from
the SQLite file after the server stopped) every analysis id has a row with status done, a
non-empty results_json and the same SHA-256.

Reported: p50/p95/max latency per request type, analyses per minute and wall time; a table on
stdout and a JSON summary (``--json-out``). Exit status 1 when a requirement is not met.

Usage: python benchmarks/bench_web_load.py [--clients 20] [--analyses 200] [--report|--no-report]
       [--workers 2] [--json-out FILE] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import math
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

MARKERS = ("IKZF1", "IKZF3", "CRBN", "BSG")
ENDPOINTS = ("pfs", "os")
#: variables that would change what the server does (token, database)
_APP_ENV = ("IKAROS_TOKEN", "IKAROS_DATABASE_URL", "IKAROS_DEBUG")


# --- the server ---------------------------------------------------------------------------------


def _ikaros_command() -> list[str]:
    here = Path(sys.executable).parent
    for name in ("ikaros", "ikaros.exe"):
        if (here / name).is_file():
            return [str(here / name)]
    found = shutil.which("ikaros")
    return [found] if found else [sys.executable, "-c", "from ikaros.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_server(
    data_dir: Path, *, workers: int = 2, log_path: Path | None = None, timeout: float = 120
) -> Iterator[str]:
    """``ikaros serve`` on a free loopback port until the block ends; yields the base URL."""
    port = _free_port()
    log_path = log_path or data_dir.parent / "server.log"
    cmd = [*_ikaros_command(), "serve", "--port", str(port), "--data-dir", str(data_dir)]
    cmd += ["--workers", str(workers)]
    env = {k: v for k, v in os.environ.items() if k not in _APP_ENV}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"ikaros serve exited {proc.returncode}:\n{_tail(log_path)}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"ikaros serve did not answer in {timeout} s:\n{_tail(log_path)}"
                )
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()  # uvicorn shuts down gracefully; the job pool finishes its work
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- the load -----------------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    seconds: float
    status: int  # 0: transport error or timeout


@dataclass
class Recorder:
    """Latencies and errors of every request, from every client thread."""

    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request(
        self, client: httpx.Client, kind: str, method: str, url: str, **kwargs: Any
    ) -> httpx.Response | None:
        t0 = time.perf_counter()
        try:
            r = client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            elapsed = time.perf_counter() - t0
            self.add(Sample(kind, elapsed, 0), f"{kind} {method} {url}: {type(exc).__name__}")
            return None
        elapsed = time.perf_counter() - t0
        problem = None
        if not 200 <= r.status_code < 300:
            problem = f"{kind} {method} {url}: {r.status_code} {r.text[:200]}"
        self.add(Sample(kind, elapsed, r.status_code), problem)
        return r

    def add(self, sample: Sample, problem: str | None = None) -> None:
        with self.lock:
            self.samples.append(sample)
            if problem:
                self.errors.append(problem)

    def error(self, problem: str) -> None:
        with self.lock:
            self.errors.append(problem)


@dataclass
class Job:
    """One submitted analysis as a client saw it."""

    id: str
    submitted: float
    finished: float | None = None
    status: str = "queued"
    results_sha256: str | None = None  # recorded by the server
    served_sha256: str | None = None  # of the results.json the API served


def demo_csv() -> bytes:
    from ikaros.simulate import DEMO_SEED, simulate_cohort

    return simulate_cohort(DEMO_SEED).to_csv(index=False, lineterminator="\n").encode()


def upload_demo(url: str) -> dict[str, Any]:
    with httpx.Client(base_url=url, timeout=120) as c:
        token = c.get("/api/v1/csrf").json()["csrf_token"]
        r = c.post(
            "/api/v1/cohorts",
            files={"file": ("demo_cohort.csv", demo_csv(), "text/csv")},
            headers={"X-CSRF-Token": token},
        )
        r.raise_for_status()
        return dict(r.json())


def _client_loop(
    url: str,
    cohort: dict[str, Any],
    body: dict[str, Any],
    tickets: Iterator[int],
    ticket_lock: threading.Lock,
    rec: Recorder,
    jobs: list[Job],
    *,
    seed: int,
    poll: float,
    timeout: float,
) -> None:
    rng = random.Random(seed)
    cid = cohort["id"]
    markers, endpoints = cohort["markers"], cohort["endpoints"]
    cuts: dict[tuple[str, str], list[float]] = {}
    with httpx.Client(base_url=url, timeout=timeout) as c:
        r = rec.request(c, "csrf", "GET", "/api/v1/csrf")
        if r is None or r.status_code != 200:
            return
        headers = {"X-CSRF-Token": r.json()["csrf_token"]}

        def watch() -> None:
            """What a user looks at while waiting: the explorer, moving the cut, the cohort."""
            choice = rng.random()
            if choice < 0.4:
                m, e = rng.choice(markers), rng.choice(endpoints)
                params: dict[str, Any] = {"marker": m, "endpoint": e}
                if (m, e) in cuts and rng.random() < 0.5:
                    params["cut"] = rng.choice(cuts[(m, e)])
                got = rec.request(
                    c, "explorer", "GET", f"/api/v1/cohorts/{cid}/explorer", params=params
                )
                if got is not None and got.status_code == 200 and (m, e) not in cuts:
                    cuts[(m, e)] = [x for x in got.json()["candidates"] if x is not None]
            elif choice < 0.6:
                rec.request(c, "cohort", "GET", f"/api/v1/cohorts/{cid}")

        while True:
            with ticket_lock:
                ticket = next(tickets, None)
            if ticket is None:
                return
            submitted = time.monotonic()
            r = rec.request(
                c, "submit", "POST", f"/api/v1/cohorts/{cid}/analyses", json=body, headers=headers
            )
            if r is None or r.status_code != 202:
                continue
            job = Job(r.json()["id"], submitted)
            with rec.lock:
                jobs.append(job)
            deadline = submitted + timeout
            while time.monotonic() < deadline:
                time.sleep(poll * rng.uniform(0.5, 1.5))
                s = rec.request(c, "status", "GET", f"/api/v1/analyses/{job.id}")
                if s is None or s.status_code != 200:
                    continue
                state = s.json()
                job.status = state["status"]
                if job.status in ("done", "failed"):
                    job.finished = time.monotonic()
                    job.results_sha256 = state.get("results_sha256")
                    break
                watch()
            if job.status == "failed":
                rec.error(f"analysis {job.id} failed: {state.get('error')}")
                continue
            if job.status != "done":
                rec.error(f"analysis {job.id} not done after {timeout} s ({job.status})")
                continue
            res = rec.request(c, "results.json", "GET", f"/api/v1/analyses/{job.id}/results.json")
            if res is not None and res.status_code == 200:
                job.served_sha256 = hashlib.sha256(res.content).hexdigest()
                if job.served_sha256 != job.results_sha256:
                    rec.error(f"analysis {job.id}: results.json SHA-256 differs from the record")


def run_load(
    url: str,
    cohort: dict[str, Any],
    *,
    clients: int,
    analyses: int,
    report: bool,
    poll: float = 0.7,
    timeout: float = 900,
    seed: int = 20170715,
) -> tuple[Recorder, list[Job], float]:
    """``clients`` threads submitting ``analyses`` analyses in all; returns (recorder, jobs, s)."""
    body = {"markers": list(MARKERS), "endpoints": list(ENDPOINTS), "report": report}
    rec = Recorder()
    jobs: list[Job] = []
    tickets = iter(range(analyses))
    lock = threading.Lock()
    threads = [
        threading.Thread(
            target=_client_loop,
            args=(url, cohort, body, tickets, lock, rec, jobs),
            kwargs={"seed": seed + i, "poll": poll, "timeout": timeout},
            name=f"client-{i}",
            daemon=True,
        )
        for i in range(clients)
    ]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return rec, jobs, time.perf_counter() - t0


# --- nothing lost -------------------------------------------------------------------------------


def verify_api(url: str, cohort_id: str, jobs: list[Job], rec: Recorder) -> dict[str, str]:
    """Every job listed as done with its results.json; returns id -> SHA-256 of results.json."""
    served: dict[str, str] = {}
    with httpx.Client(base_url=url, timeout=120) as c:
        listed = c.get(f"/api/v1/cohorts/{cohort_id}/analyses")
        listed.raise_for_status()
        by_id = {a["id"]: a for a in listed.json()}
        for job in jobs:
            a = by_id.get(job.id)
            if a is None or a["status"] != "done":
                rec.error(f"verify: analysis {job.id} is {'missing' if a is None else a['status']}")
                continue
            r = c.get(f"/api/v1/analyses/{job.id}/results.json")
            if r.status_code != 200 or not r.content:
                rec.error(f"verify: results.json of {job.id}: {r.status_code}")
                continue
            sha = hashlib.sha256(r.content).hexdigest()
            if sha != a["results_sha256"]:
                rec.error(f"verify: results.json of {job.id} does not match its SHA-256")
            served[job.id] = sha
    return served


def verify_database(db_path: Path, expected: dict[str, str], rec: Recorder) -> int:
    """Read the SQLite file directly; every id done with the same results.json. Rows found."""
    uri = f"file:{db_path}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        rows = {
            r[0]: r[1:]
            for r in db.execute("SELECT id, status, results_json, results_sha256 FROM analyses")
        }
    for analysis_id, sha in expected.items():
        row = rows.get(analysis_id)
        if row is None:
            rec.error(f"database: no row for analysis {analysis_id}")
            continue
        status, text, recorded = row
        if status != "done" or not text:
            rec.error(f"database: analysis {analysis_id} is {status} with {len(text or '')} chars")
            continue
        actual = hashlib.sha256(text.encode()).hexdigest()
        if actual != recorded or actual != sha:
            rec.error(f"database: results_json of {analysis_id} differs from what the API served")
    return len(rows)


# --- the whole benchmark ------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[k]


def latency_table(samples: list[Sample]) -> dict[str, dict[str, float]]:
    """Per request type (and all together): n, errors, p50/p95/max/mean in milliseconds."""
    out: dict[str, dict[str, float]] = {}
    groups = itertools.groupby(sorted(samples, key=lambda s: s.kind), key=lambda s: s.kind)
    named = [(k, list(g)) for k, g in groups] + [("all", samples)]
    for kind, group in named:
        ms = [s.seconds * 1000 for s in group]
        if not ms:
            continue
        out[kind] = {
            "n": len(ms),
            "errors": sum(1 for s in group if not 200 <= s.status < 300),
            "p50_ms": round(_pct(ms, 50), 1),
            "p95_ms": round(_pct(ms, 95), 1),
            "p99_ms": round(_pct(ms, 99), 1),
            "max_ms": round(max(ms), 1),
            "mean_ms": round(statistics.fmean(ms), 1),
        }
    return out


def run_benchmark(
    work_dir: Path,
    *,
    clients: int = 20,
    analyses: int = 200,
    report: bool = False,
    workers: int = 2,
    poll: float = 0.7,
    timeout: float = 900,
) -> dict[str, Any]:
    """Start the server in ``work_dir``, run the load, verify; returns the JSON summary."""
    t_start = time.perf_counter()
    data_dir = work_dir / "data"
    with running_server(data_dir, workers=workers, log_path=work_dir / "server.log") as url:
        t_up = time.perf_counter()
        cohort = upload_demo(url)
        rec, jobs, load_s = run_load(
            url,
            cohort,
            clients=clients,
            analyses=analyses,
            report=report,
            poll=poll,
            timeout=timeout,
        )
        served = verify_api(url, cohort["id"], jobs, rec)
    rows = verify_database(data_dir / "ikaros.db", served, rec)
    total_s = time.perf_counter() - t_start
    done = [j for j in jobs if j.status == "done" and j.finished is not None]
    turnaround = [j.finished - j.submitted for j in done if j.finished is not None]
    lost = analyses - len(served)
    if rows != len(jobs):
        rec.error(f"database: {rows} analysis rows for {len(jobs)} submitted")
    span = (max(j.finished for j in done) - min(j.submitted for j in jobs)) if done else 0.0
    return {
        "clients": clients,
        "analyses_requested": analyses,
        "analyses_submitted": len(jobs),
        "analyses_done": len(done),
        "analyses_verified": len(served),
        "database_rows": rows,
        "lost": lost,
        "errors": len(rec.errors),
        "error_messages": rec.errors[:50],
        "requests": len(rec.samples),
        "report": report,
        "markers": list(MARKERS),
        "endpoints": list(ENDPOINTS),
        "workers": workers,
        "cpu_count": os.cpu_count(),
        "server_start_s": round(t_up - t_start, 2),
        "load_wall_s": round(load_s, 2),
        "total_wall_s": round(total_s, 2),
        "analyses_per_minute": round(60 * len(done) / span, 1) if span else 0.0,
        "analysis_turnaround_s": {
            "p50": round(_pct(turnaround, 50), 2) if turnaround else None,
            "p95": round(_pct(turnaround, 95), 2) if turnaround else None,
            "max": round(max(turnaround), 2) if turnaround else None,
        },
        "latency": latency_table(rec.samples),
    }


def print_summary(summary: dict[str, Any]) -> None:
    print(
        f"load test: {summary['clients']} clients, {summary['analyses_requested']} analyses of "
        f"the demo cohort ({len(summary['markers'])} markers x {len(summary['endpoints'])} "
        f"endpoints, report {'on' if summary['report'] else 'off'}), {summary['workers']} "
        f"analysis workers, {summary['cpu_count']} cores"
    )
    head = ("n", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms")
    print(f"{'request':<14}" + "".join(f"{h:>10}" for h in head))
    for kind, row in summary["latency"].items():
        cells = [f"{row['n']:>10}", f"{row['errors']:>10}"]
        cells += [f"{row[k]:>10.1f}" for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")]
        print(f"{kind:<14}" + "".join(cells))
    ta = summary["analysis_turnaround_s"]
    print(
        f"analyses: {summary['analyses_done']} done, {summary['analyses_verified']} verified "
        f"(API and database), {summary['lost']} lost; turnaround p50 {ta['p50']} s, p95 "
        f"{ta['p95']} s, max {ta['max']} s; {summary['analyses_per_minute']} analyses/min"
    )
    print(
        f"wall time: load {summary['load_wall_s']} s, total {summary['total_wall_s']} s "
        f"(server start {summary['server_start_s']} s); errors: {summary['errors']}"
    )
    for message in summary["error_messages"][:10]:
        print(f"  error: {message}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--analyses", type=int, default=200)
    ap.add_argument("--report", action=argparse.BooleanOptionalAction, default=False)
    ap.add_argument("--workers", type=int, default=2, help="analysis worker processes")
    ap.add_argument(
        "--poll", type=float, default=0.7, help="seconds between status polls (as the page)"
    )
    ap.add_argument("--timeout", type=float, default=900, help="seconds per analysis")
    ap.add_argument("--json-out", type=Path, help="write the summary as JSON here")
    ap.add_argument("--keep", type=Path, help="work in this directory and keep it")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="ikaros-bench-web-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        summary = run_benchmark(
            work,
            clients=args.clients,
            analyses=args.analyses,
            report=args.report,
            workers=args.workers,
            poll=args.poll,
            timeout=args.timeout,
        )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print_summary(summary)
    if args.json_out:
        args.json_out.write_text(json.dumps(summary, indent=2) + "\n")
    ok = summary["errors"] == 0 and summary["lost"] == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
