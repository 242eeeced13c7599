"""Prognostic performance of the study's Cox models (``--performance``; TRIPOD / REMARK).

For one marker and one survival endpoint, on the patients with every term of every model
present (so that the models are compared on the same patients):

- ``marker``: the marker alone (on the study's scale);
- ``marker + covariates``: with cytogenetic risk (where known) and the covariates;
- ``base``: the standard variables of ``--base-model`` (e.g. ISS, cytogenetic risk);
- ``base + marker``: the base model plus the marker, and its added value over the base model
  (likelihood-ratio test of the nested models, change in Harrell's C with a bootstrap CI).

Each model gets Harrell's and Uno's C, AUC(t) and the Brier score at the landmark, the
integrated Brier score, calibration at the landmark, net benefit (decision curve) and Harrell's
bootstrap optimism correction (:func:`ikaros.performance.assess_model`). The numbers are checked
against survival::concordance, riskRegression::Score and rms::validate in
tests/reference/performance.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ikaros.cohort import Cohort
from ikaros.errors import AnalysisError
from ikaros.study._common import design, transformed
from ikaros.study.options import StudyOptions

__all__ = ["marker_performance"]


def _models(
    cohort: Cohort, options: StudyOptions, marker: str, x: pd.Series
) -> dict[str, dict[str, pd.Series | str]]:
    adjusters = (["cyto_high_risk"] if cohort.has_cytogenetics else []) + [
        c for c in options.covariates if c != "cyto_high_risk"
    ]
    models: dict[str, dict[str, pd.Series | str]] = {"marker": {marker: x}}
    if adjusters:
        models["marker + covariates"] = {
            marker: x,
            **{c: cohort.covariate_source(c) for c in adjusters},
        }
    if options.base_model:
        base: dict[str, pd.Series | str] = {
            c: cohort.covariate_source(c) for c in options.base_model
        }
        models["base"] = base
        models["base + marker"] = {**base, marker: x}
    return models


def marker_performance(
    cohort: Cohort, options: StudyOptions, marker: str, endpoint: str
) -> dict[str, Any]:
    """Performance of every model of ``marker`` for ``endpoint`` (JSON-ready dict)."""
    from ikaros.performance import added_value, assess_model

    tcol, ecol = f"{endpoint}_time", f"{endpoint}_event"
    data = cohort.data[cohort.data[tcol].notna() & cohort.data[marker].notna()]
    x = transformed(cohort, data, marker, options.transform)
    models = _models(cohort, options, marker, x)
    union: dict[str, pd.Series | str] = {}
    for cols in models.values():
        union.update(cols)
    full = design(data, union)
    keep = full.notna().all(axis=1).to_numpy()
    time = data[tcol].to_numpy(dtype=float)[keep]
    event = data[ecol].to_numpy(dtype=np.int64)[keep]
    out: dict[str, Any] = {
        "n": int(keep.sum()),
        "events": int(event.sum()),
        "excluded_missing_terms": int((~keep).sum()),
        "landmark": options.landmark,
        "bootstrap": options.performance_bootstrap,
        "seed": options.seed if options.seed is not None else 20240601,
        "models": {},
        "added_value": None,
        "notes": [],
    }
    seed = out["seed"]
    for name, cols in models.items():
        X = full.loc[keep, list(cols)].reset_index(drop=True)
        try:
            perf = assess_model(
                time,
                event,
                X,
                landmarks=options.landmark,
                name=name,
                B=options.performance_bootstrap,
                seed=seed,
                conf_level=options.conf_level,
            )
            out["models"][name] = perf.to_dict()
        except AnalysisError as exc:
            out["notes"].append(f"{name}: performance not computed: {exc}")
    if options.base_model:
        X = full.loc[keep, list(models["base + marker"])].reset_index(drop=True)
        try:
            av = added_value(
                time,
                event,
                X,
                list(options.base_model),
                B=options.performance_bootstrap,
                seed=seed,
                conf_level=options.conf_level,
            )
            out["added_value"] = av.to_dict()
        except AnalysisError as exc:
            out["notes"].append(f"added value over the base model not computed: {exc}")
    return out
