"""The load test of benchmarks/bench_web_load.py at a CI-friendly scale.

The real server (``ikaros serve --workers 2``) on loopback, 4 concurrent clients, 12 analyses of
the demo cohort (4 markers x 2 endpoints, no report) with status polls and explorer/cohort
requests in between: zero errors, and nothing lost -- every analysis is done, listed by the API,
its results.json is served with the recorded SHA-256, and the SQLite file (read directly after
the server stopped) holds exactly these analyses with the same results.json. The full-scale run
(20 clients, 200 analyses) is ``python benchmarks/bench_web_load.py``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from tests.conftest import ROOT

CLIENTS, ANALYSES = 4, 12


def _harness() -> ModuleType:
    name = "bench_web_load"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_small_load(tmp_path: Path) -> None:
    bench = _harness()
    summary = bench.run_benchmark(tmp_path, clients=CLIENTS, analyses=ANALYSES, report=False)
    bench.print_summary(summary)  # shown with pytest -s, and on failure
    assert summary["errors"] == 0, summary["error_messages"]
    assert summary["lost"] == 0
    assert summary["analyses_submitted"] == ANALYSES
    assert summary["analyses_done"] == summary["analyses_verified"] == ANALYSES
    assert summary["database_rows"] == ANALYSES
    latency = summary["latency"]
    assert {"csrf", "submit", "status", "results.json", "all"} <= set(latency)
    assert latency["csrf"]["n"] == CLIENTS
    assert latency["submit"]["n"] == latency["results.json"]["n"] == ANALYSES
    assert all(row["errors"] == 0 for row in latency.values())
    assert latency["all"]["n"] == summary["requests"]
    assert summary["analyses_per_minute"] > 0
