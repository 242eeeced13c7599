"""model.json: versioned schema, exact round trip, deterministic text, nulls with reasons."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from ikaros.errors import InputError, SchemaVersionError
from ikaros.model.result import (
    MODEL_SCHEMA_VERSION,
    ModelResult,
    load_model_json,
    model_from_json,
    model_to_json,
)
from ikaros.model.run import demo_cohort, run_model


def test_round_trip_is_exact(demo_result: ModelResult, tmp_path: Path) -> None:
    text = model_to_json(demo_result)
    path = tmp_path / "model.json"
    path.write_text(text)
    back = load_model_json(path)
    assert back == demo_result
    assert model_to_json(back) == text


def test_schema_fields(demo_result: ModelResult) -> None:
    data = json.loads(model_to_json(demo_result))
    assert data["model_schema_version"] == MODEL_SCHEMA_VERSION
    assert "hypothesis-generating" in data["disclaimer"].lower()
    assert {p["status"] for p in data["parameters"]} <= {"published", "derived", "assumed"}
    assert len(data["patients"]) == 60
    assert data["options"]["marker"] == "IKZF1"
    for key in ("pk_check", "dose_response", "tornado", "theta_fit", "classes", "trajectories"):
        assert data[key], key


def test_same_input_same_bytes(demo_result: ModelResult) -> None:
    again = run_model(demo_cohort("IKZF1"), "IKZF1", fit=True, seed=1, software={"ikaros": "test"})
    assert model_to_json(again) == model_to_json(demo_result)


def test_other_major_version_refused(demo_result: ModelResult) -> None:
    data = json.loads(model_to_json(demo_result))
    data["model_schema_version"] = "2.0"
    with pytest.raises(SchemaVersionError, match=r"2\.0"):
        model_from_json(json.dumps(data))
    data["model_schema_version"] = "1.7"  # a later minor version is read
    assert model_from_json(json.dumps(data)).options == demo_result.options


@pytest.mark.parametrize("text", ["{", "[]", '{"a": 1}'])
def test_not_a_model_result(text: str) -> None:
    with pytest.raises(InputError):
        model_from_json(text)


def test_logrank_null_with_reason(demo_result: ModelResult) -> None:
    """When every patient falls in one class, the log-rank P is null and says why."""
    result = run_model(
        demo_cohort("IKZF1"),
        "IKZF1",
        overrides={"theta": 100.0},
        doses=(25.0,),
        schedules=("21/28",),
    )
    assert result.n_sensitive == 60
    assert result.logrank_p is None and "every patient" in result.logrank_note
    data = json.loads(model_to_json(result))
    assert data["logrank_p"] is None
    assert next(c for c in data["classes"] if c["label"] == "resistant")["curve"] is None
    assert replace(demo_result).logrank_p is not None
