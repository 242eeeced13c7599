"""Time-varying Cox and Clopper-Pearson intervals against R (tests/reference/course/golden.json).

The interval tables ``tests/reference/course/tv_*.csv`` are written by ikaros
(``make_inputs.py``) and fitted by R's ``coxph(Surv(start, stop, event) ~ ...)`` in
``make_golden.R``; here ikaros fits the same files. Tolerances: coefficients 1e-6 relative,
standard errors and CI limits 1e-6 relative, p-values 1e-5 relative, log-likelihoods 1e-8
absolute; Clopper-Pearson limits 1e-8 absolute against ``binom.test``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ikaros.course.stats import clopper_pearson, fit_time_varying_cox
from ikaros.errors import AnalysisError
from tests.conftest import assert_json_close
from tests.course.helpers import REF
from tests.course.reference_inputs import MODELS, build_inputs, csv_text

GOLDEN: dict[str, Any] = json.loads((REF / "golden.json").read_text(encoding="utf-8"))
FITS = [
    (name, key) for name, spec in GOLDEN["cox"].items() for key in spec["fits"]
]  # fmt: skip
REL = 1e-6


@cache
def table(name: str) -> pd.DataFrame:
    return pd.read_csv(
        REF / f"tv_{name}.csv", float_precision="round_trip", dtype={"patient_id": str}
    )


def test_golden_covers_every_model() -> None:
    assert set(GOLDEN["cox"]) == set(MODELS)
    for name, (_, covariate_sets) in MODELS.items():
        assert [f["covariates"] for f in GOLDEN["cox"][name]["fits"].values()] == covariate_sets


@pytest.mark.parametrize(("name", "key"), FITS, ids=[f"{n}~{k}" for n, k in FITS])
def test_time_varying_cox_matches_r(name: str, key: str) -> None:
    ref = GOLDEN["cox"][name]["fits"][key]
    fit = fit_time_varying_cox(table(name), ref["covariates"])
    assert (fit.n_patients, fit.n_intervals, fit.events) == (
        ref["n_patients"],
        ref["n_intervals"],
        ref["events"],
    )
    for cov in ref["covariates"]:
        term = fit.terms[cov]
        assert term.coef == pytest.approx(ref["coef"][cov], rel=REL), cov
        assert term.se == pytest.approx(ref["se"][cov], rel=REL), cov
        assert term.lower == pytest.approx(ref["lower"][cov], rel=REL), cov
        assert term.upper == pytest.approx(ref["upper"][cov], rel=REL), cov
        assert term.p == pytest.approx(ref["p"][cov], rel=1e-5), cov
    assert fit.loglik == pytest.approx(ref["loglik"], abs=1e-8)
    assert fit.loglik_null == pytest.approx(ref["loglik_null"], abs=1e-8)


def test_time_varying_cox_refuses_what_it_cannot_fit() -> None:
    t = table("handmade_os")
    with pytest.raises(AnalysisError, match="single value"):
        fit_time_varying_cox(t.assign(c=1.0), ["c"])
    with pytest.raises(AnalysisError, match="at least one event"):
        fit_time_varying_cox(t.assign(event=0), ["cum_exposure"])
    with pytest.raises(AnalysisError, match="stop > start"):
        fit_time_varying_cox(t.assign(stop=t["start"]), ["cum_exposure"])
    # a covariate that separates the events: the likelihood is monotone
    sep = t.assign(x=np.where(t["event"] == 1, 1.0, 0.0))
    with pytest.raises(AnalysisError, match="did not converge"):
        fit_time_varying_cox(sep, ["x"])


@pytest.mark.parametrize(
    "case",
    GOLDEN["binom"],
    ids=[f"{c['count']:g}/{c['n']:g}@{c['conf_level']}" for c in GOLDEN["binom"]],
)
def test_clopper_pearson_matches_binom_test(case: dict[str, float]) -> None:
    p = clopper_pearson(int(case["count"]), int(case["n"]), conf_level=case["conf_level"])
    assert p.estimate == pytest.approx(case["estimate"], abs=1e-15)
    assert p.lower == pytest.approx(case["lower"], abs=1e-8)
    assert p.upper == pytest.approx(case["upper"], abs=1e-8)


def test_clopper_pearson_rejects_impossible_counts() -> None:
    for count, n in ((3, 2), (-1, 5), (0, 0)):
        with pytest.raises(AnalysisError):
            clopper_pearson(count, n)


def test_reference_inputs_are_reproduced_by_ikaros() -> None:
    """The stored CSV files are exactly what ikaros derives from its seeded cohorts today."""
    for name, frame in build_inputs().items():
        stored = (REF / f"tv_{name}.csv").read_text(encoding="utf-8")
        assert csv_text(frame) == stored, name


@pytest.mark.r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript is not installed")
def test_make_golden_reproduces_golden_json(tmp_path: Path) -> None:
    target = tmp_path / "tests" / "reference" / "course"
    target.mkdir(parents=True)
    for path in REF.glob("tv_*.csv"):
        shutil.copy(path, target / path.name)
    shutil.copy(REF / "make_golden.R", target / "make_golden.R")
    run = subprocess.run(
        ["Rscript", str(target / "make_golden.R")],
        cwd=tmp_path,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    fresh = json.loads((target / "golden.json").read_text())
    assert_json_close(fresh, GOLDEN)
