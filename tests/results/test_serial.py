"""results.json text: lists of numbers written as the json module writes them, byte for byte
(ikaros.results.serial writes repeated curve values from a cache)."""

from __future__ import annotations

import json
import random

import pytest

from ikaros.results.serial import _emit, to_json

C_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


def _text(value: object) -> str:
    out: list[str] = []
    _emit(value, "", out)
    return "".join(out)


@pytest.mark.parametrize(
    "values",
    [
        [1.0, 1.0, 1, 1, 1.0, 0.0, -0.0, -0.0, 0.0, 0, None, None, 2.5, 2.5],
        [1e-05, 1e-05, 1e16, 1e16, 0.1 + 0.2, 5e-324, 1.7976931348623157e308],
        [0.5, None, 0.5, 1, 1.0, 1],  # equal values of another type are not reused
        [1.5, "a", 1.5],  # not a list of numbers: the json module writes it
        [True, 1.0, True],
        [],
    ],
)
def test_number_lists_as_the_json_module_writes_them(values: list[object]) -> None:
    assert _text(values) == C_ENCODER.encode(values)


def test_curves_of_random_numbers() -> None:
    rng = random.Random(20170715)
    for _ in range(200):
        pool = [
            rng.random(),
            -0.0,
            0.0,
            1,
            1.0,
            None,
            rng.uniform(-1e6, 1e6),
            10.0 ** -rng.randint(1, 300),
        ]
        values = [rng.choice(pool) for _ in range(rng.randint(0, 60))]
        assert _text(values) == C_ENCODER.encode(values)


def test_a_study_file_is_unchanged_by_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    import ikaros.results.serial as serial
    from ikaros.cohort import cohort_from_frame
    from ikaros.simulate import simulate_cohort
    from ikaros.study import StudyOptions, run_study

    cohort = cohort_from_frame(simulate_cohort(7), markers=("IKZF1",), endpoints=("pfs", "os"))
    results = run_study(cohort, StudyOptions(markers=("IKZF1",), endpoints=("pfs", "os")))
    cached = to_json(results)
    monkeypatch.setattr(serial, "_number_list", C_ENCODER.encode)
    assert cached == to_json(results)
    assert cached.count("null") > 0 and len(cached) > 50_000
