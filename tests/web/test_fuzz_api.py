"""Property-based fuzzing of the JSON API from its OpenAPI schema (Schemathesis): no 5xx, ever.

The real app is served by uvicorn on 127.0.0.1 (a free port) with a SQLite database, the demo
cohort uploaded and one analysis of it finished, so that besides random identifiers the
generated requests also reach a real cohort (explorer with its real markers, grouping variables,
endpoints and cut candidates, analyses with real markers) and a real analysis (results.json, its
files). Deletions get spare cohorts and analyses of their own, never the real ones.
State-changing requests carry the session's CSRF token, as the pages' scripts send it.
Analyses started by the fuzzer never build a report; whatever is still queued when the test
ends is cancelled by the app's shutdown.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
import uvicorn
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from ikaros.web import api
from ikaros.web.app import create_app
from ikaros.web.settings import Settings

API = "/api/v1"
#: examples per API operation and generation mode: the whole file stays well under a minute
#: (IKAROS_FUZZ_EXAMPLES=500 for a longer search)
MAX_EXAMPLES = int(os.environ.get("IKAROS_FUZZ_EXAMPLES", "40"))


@dataclass(frozen=True)
class Served:
    base_url: str
    session: requests.Session
    csrf: str
    cohort: dict[str, Any]
    analysis: dict[str, Any]
    candidates: list[float]
    spare_cohorts: list[str]
    spare_analyses: list[str]


def _wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout} s")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, demo_csv: Path) -> Iterator[Served]:
    data_dir = tmp_path_factory.mktemp("fuzz")
    settings_ = Settings.create(
        data_dir, database_url=f"sqlite:///{data_dir / 'fuzz.db'}", analysis_workers=1
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings_), log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_for(lambda: server.started, 60, "the server did not start")
        base = f"http://127.0.0.1:{port}"
        session = requests.Session()
        csrf = session.get(f"{base}{API}/csrf", timeout=30).json()["csrf_token"]
        headers = {"X-CSRF-Token": csrf}
        with demo_csv.open("rb") as fh:
            r = session.post(
                f"{base}{API}/cohorts",
                files={"file": (demo_csv.name, fh)},
                headers=headers,
                timeout=60,
            )
        assert r.status_code == 201, r.text
        cohort = r.json()
        r = session.post(
            f"{base}{API}/cohorts/{cohort['id']}/analyses",
            json={"markers": ["IKZF1"], "endpoints": ["pfs"], "report": True},
            headers=headers,
            timeout=60,
        )
        assert r.status_code == 202, r.text
        url = f"{base}{API}/analyses/{r.json()['id']}"
        _wait_for(
            lambda: session.get(url, timeout=30).json()["status"] in ("done", "failed"),
            180,
            "the analysis did not finish",
        )
        analysis = session.get(url, timeout=30).json()
        assert analysis["status"] == "done", analysis
        explorer = session.get(
            f"{base}{API}/cohorts/{cohort['id']}/explorer",
            params={"marker": "IKZF1", "endpoint": "pfs"},
            timeout=60,
        ).json()
        spare_cohorts = []
        for _ in range(2):  # for the deletions
            with demo_csv.open("rb") as fh:
                r = session.post(
                    f"{base}{API}/cohorts",
                    files={"file": (demo_csv.name, fh)},
                    headers=headers,
                    timeout=60,
                )
            spare_cohorts.append(r.json()["id"])
        spare_analyses = [
            session.post(
                f"{base}{API}/cohorts/{spare_cohorts[0]}/analyses",
                json={"markers": ["IKZF1"], "endpoints": ["pfs"], "report": False},
                headers=headers,
                timeout=60,
            ).json()["id"]
            for _ in range(2)
        ]
        yield Served(
            base,
            session,
            csrf,
            cohort,
            analysis,
            explorer["candidates"],
            spare_cohorts[1:],
            spare_analyses,
        )
    finally:
        server.should_exit = True
        thread.join(120)
        sock.close()
    assert not thread.is_alive(), "the server did not stop"


def _with_real_values(strategy: Any, real: st.SearchStrategy[dict[str, Any]]) -> Any:
    """Random values, or random values with some keys set to real ones."""
    return st.one_of(
        strategy,
        st.tuples(strategy, real).map(
            lambda pair: {**pair[0], **pair[1]} if isinstance(pair[0], dict) else pair[0]
        ),
    )


@pytest.fixture(scope="module")
def api_schema(served: Served) -> Any:
    schema = schemathesis.openapi.from_url(f"{served.base_url}{API}/openapi.json")
    cohort, analysis = served.cohort, served.analysis
    markers = st.sampled_from(cohort["markers"])
    endpoints = st.sampled_from(cohort["endpoints"])

    variables = [g["name"] for g in cohort["variables"]["groups"]]

    @schema.hook
    def before_generate_path_parameters(context: Any, strategy: Any) -> Any:
        path = context.operation.path
        real: dict[str, st.SearchStrategy[Any]] = {}
        if context.operation.method.upper() == "DELETE":  # never the real cohort or analysis
            if "{cohort_id}" in path:
                real["cohort_id"] = st.sampled_from(served.spare_cohorts)
            if "{analysis_id}" in path:
                real["analysis_id"] = st.sampled_from(served.spare_analyses)
            return _with_real_values(strategy, st.fixed_dictionaries(real))
        if "{cohort_id}" in path:
            real["cohort_id"] = st.just(cohort["id"])
        if "{analysis_id}" in path:
            real["analysis_id"] = st.just(analysis["id"])
        if "{name}" in path:
            real["name"] = st.sampled_from(analysis["files"])
        return _with_real_values(strategy, st.fixed_dictionaries(real)) if real else strategy

    @schema.hook
    def before_generate_query(context: Any, strategy: Any) -> Any:
        if not context.operation.path.endswith(("/explorer", "/explorer/export")):
            return strategy
        export = context.operation.path.endswith("/export")
        formats = {"format": st.sampled_from(["png", "svg", "csv"])} if export else {}
        by_marker = st.fixed_dictionaries(
            {"marker": markers, "endpoint": endpoints, **formats},
            optional={
                "cut": st.one_of(
                    st.sampled_from(served.candidates),
                    st.floats(allow_nan=False, allow_infinity=False),
                ),
                "split": st.sampled_from(
                    ["q1", "median", "tertile", "quartiles", "upper-quartile", "thresholds"]
                ),
                "thresholds": st.sampled_from(["0.05", "0.05,0.1", "x", "0.1,0.05"]),
            },
        )
        by_variable = st.fixed_dictionaries(
            {"variable": st.sampled_from(variables), "endpoint": endpoints, **formats},
            optional={"reference": st.sampled_from(["I", "II", "high", "nope"])},
        )
        # whole valid queries besides random ones: a random key merged in (variable beside marker,
        # an xlim) would make nearly every request invalid
        return st.one_of(strategy, by_marker, by_variable)

    @schema.hook
    def before_generate_body(context: Any, strategy: Any) -> Any:
        op = context.operation
        if not (op.method.upper() == "POST" and op.path.endswith("/analyses")):
            return strategy
        real = st.fixed_dictionaries(
            # measurement None: random text often holds control characters (rejected, 422)
            {
                "markers": st.lists(markers, min_size=1, max_size=1),
                "measurement": st.none(),
                "title": st.none(),
                "covariates": st.just([]),
                "references": st.just({}),
                "xlim": st.none(),
                # random names are never the cohort's: no treatment, no base model; no
                # performance analysis (its bootstrap would make every example slow)
                "treatment": st.none(),
                "treatment_reference": st.none(),
                "base_model": st.just([]),
                "performance": st.just(False),
            },
            optional={
                "endpoints": st.lists(endpoints, min_size=1, max_size=1),
                "cut": st.sampled_from(["quartile", "optimal", "median", "0.05,0.1"]),
                "groups": st.lists(st.sampled_from(variables), max_size=1),
            },
        )
        return _with_real_values(strategy, real)

    @schema.hook
    def map_body(context: Any, body: Any) -> Any:
        """Analyses started by the fuzzer never build the (slower) report."""
        op = context.operation
        if op.path.endswith("/analyses") and isinstance(body, dict):
            return {**body, "report": False}
        return body

    return schema


def _operations() -> list[tuple[str, str, bool]]:
    """(method, path, takes input) of every API operation, known without starting the app."""
    bare = FastAPI()
    bare.include_router(api.router)
    out = []
    for path, methods in bare.openapi()["paths"].items():
        for method, spec in methods.items():
            inputs = bool(spec.get("parameters") or spec.get("requestBody"))
            out.append((method.upper(), path, inputs))
    return sorted(out)


OPERATIONS = _operations()
#: negative cases (invalid parameters and bodies) for every operation that takes any input
CASES = [
    pytest.param(method, path, mode, id=f"{method} {path} {mode}")
    for method, path, inputs in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if inputs or mode == GenerationMode.POSITIVE
]

#: the status of a successful call: valid generated requests must get it at least once (uploads
#: of random bytes are never a valid cohort)
SUCCESS = {
    ("GET", f"{API}/health"): 200,
    ("GET", f"{API}/csrf"): 200,
    ("GET", f"{API}/projects"): 200,
    ("POST", f"{API}/projects"): 201,
    ("GET", f"{API}/cohorts"): 200,
    ("GET", f"{API}/cohorts/{{cohort_id}}"): 200,
    ("GET", f"{API}/cohorts/{{cohort_id}}/overview.csv"): 200,
    ("GET", f"{API}/cohorts/{{cohort_id}}/explorer"): 200,
    ("GET", f"{API}/cohorts/{{cohort_id}}/explorer/export"): 200,
    ("DELETE", f"{API}/cohorts/{{cohort_id}}"): 204,
    ("DELETE", f"{API}/analyses/{{analysis_id}}"): 204,
    ("GET", f"{API}/audit"): 200,
    ("GET", f"{API}/cohorts/{{cohort_id}}/analyses"): 200,
    ("POST", f"{API}/cohorts/{{cohort_id}}/analyses"): 202,
    ("GET", f"{API}/analyses/{{analysis_id}}"): 200,
    ("GET", f"{API}/analyses/{{analysis_id}}/results.json"): 200,
    ("GET", f"{API}/analyses/{{analysis_id}}/files/{{name}}"): 200,
}


def test_every_api_operation_is_fuzzed(api_schema: Any) -> None:
    in_schema = {
        (op.method.upper(), op.path)
        for result in api_schema.get_all_operations()
        for op in [result.ok()]
    }
    assert in_schema == {(method, path) for method, path, _ in OPERATIONS}


# Hypothesis is driven directly with each operation's strategy (schemathesis' own pytest
# integration, ``schema.parametrize()``, fails on pytest 9.2: it reads ``Function._nodeid``).
@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_no_server_errors(
    api_schema: Any, served: Served, method: str, path: str, mode: GenerationMode
) -> None:
    operation = api_schema[path][method]
    statuses: list[int] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call_and_validate(
            base_url=served.base_url,
            session=served.session,
            headers={"X-CSRF-Token": served.csrf},
            checks=[not_a_server_error],
            timeout=60,
        )
        statuses.append(response.status_code)

    run()
    assert statuses
    # the valid requests reached the real cohort and analysis, not only "404 not found"
    success = SUCCESS.get((method, path))
    if mode == GenerationMode.POSITIVE and success is not None:
        assert success in statuses, sorted(set(statuses))
