"""A model result of the demo cohort shared by the result, figure and report tests."""

from __future__ import annotations

import pytest

from ikaros.model.result import ModelResult
from ikaros.model.run import demo_cohort, run_model


@pytest.fixture(scope="session")
def demo_result() -> ModelResult:
    """IKZF1, 25 mg on days 1-21 of 28, theta fitted to PFS (about 4 s)."""
    return run_model(demo_cohort("IKZF1"), "IKZF1", fit=True, seed=1, software={"ikaros": "test"})
