"""The private Efron engine against R coxph / survfit.coxph and ikaros.stats.cox.fit_cox."""

from __future__ import annotations

import numpy as np
import pytest

from ikaros.performance._cox import fit_efron, predict_risk
from ikaros.stats.cox import fit_cox
from tests.performance._cohorts import MODELS, cohort, ref

CASES = [(c, m) for c, models in MODELS.items() for m in models]


@pytest.mark.parametrize(("name", "model"), CASES)
def test_coefficients_loglik_and_predicted_risk_match_r(name: str, model: str) -> None:
    c = cohort(name)
    want = ref(name)["models"][model]
    X = c.X[MODELS[name][model]].to_numpy()
    fit = fit_efron(c.time, c.event, X)
    assert fit.converged
    assert fit.coef == pytest.approx(want["coef"], abs=1e-8)
    assert fit.loglik == pytest.approx(want["loglik"], abs=1e-8)
    risk = predict_risk(c.time, c.event, X @ fit.coef, np.array(c.landmarks))
    for k in range(len(c.landmarks)):
        assert risk[:10, k] == pytest.approx(want["predicted_risk_first"][k], abs=1e-9)


def test_agrees_with_fit_cox() -> None:
    c = cohort("gse24080")
    cols = MODELS["gse24080"]["full"]
    ours = fit_efron(c.time, c.event, c.X[cols].to_numpy())
    theirs = fit_cox(c.time, c.event, c.X[cols], ph_test=False)
    assert ours.coef == pytest.approx([theirs.terms[k].coef for k in cols], abs=1e-7)
    assert ours.loglik == pytest.approx(theirs.loglik, abs=1e-7)


def test_monotone_likelihood_is_not_reported_as_converged() -> None:
    time = np.arange(1.0, 21.0)
    event = np.ones(20, dtype=np.int64)
    x = (time <= 10).astype(float)  # every early death in group 1: beta -> infinity
    assert not fit_efron(time, event, x[:, None]).converged
