"""Treatment-by-marker analysis: is a marker predictive of the treatment effect, or prognostic?

A *prognostic* marker is associated with outcome whatever the treatment; a *predictive* marker
modifies the effect of a treatment, which shows as a treatment-by-marker interaction. This module
fits, for one endpoint, marker and two-level treatment:

* Cox models ``marker + treatment + marker x treatment`` with the marker continuous (on the scale
  given) and dichotomised at the pre-specified cut (``marker > cut``), with the Wald test of the
  product term and the likelihood-ratio test against ``marker + treatment`` (1 df; reported only
  when both fits are ordinary partial-likelihood fits, not Firth);
* the treatment hazard ratio within each marker group and the marker hazard ratio (cut and
  continuous) within each arm, with patients and events per cell (a forest plot's rows);
* the Gail-Simon test of a qualitative (sign-changing) interaction over the marker groups
  (:mod:`ikaros.validation.gail_simon`);
* optionally STEPP (:mod:`ikaros.validation.stepp`).

Every Cox fit is :func:`ikaros.stats.cox.fit_cox` (Efron ties, Firth's penalty on monotone
likelihood). All of it is exploratory: subgroup and interaction analyses of one cohort generate
hypotheses. ``tests/reference/validation/make_golden.R`` checks the interaction coefficient, SE
and LR p against R ``coxph`` on GSE24080 (TT3 vs TT2 by B2M).

References
----------
Cox DR. Regression models and life-tables. J R Stat Soc B 1972;34:187-220.
Ballman KV. Biomarker: predictive or prognostic? J Clin Oncol 2015;33:3968-3971.
Gail M, Simon R. Testing for qualitative interactions between treatment effects and patient
subsets. Biometrics 1985;41:361-372.
Sargent DJ, Conley BA, Allegra C, Collette L. Clinical trial designs for predictive marker
validation in cancer treatment trials. J Clin Oncol 2005;23:2020-2027.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ikaros.errors import AnalysisError
from ikaros.stats._dist import chi2_sf
from ikaros.stats.cox import CoxFit
from ikaros.validation._cox import fit_cox_strata
from ikaros.validation._serial import VALIDATION_SCHEMA_VERSION, plain
from ikaros.validation.gail_simon import GailSimon, gail_simon
from ikaros.validation.stepp import SteppResult, stepp

__all__ = [
    "Cell",
    "InteractionModel",
    "SteppOptions",
    "SubgroupEffect",
    "TermEstimate",
    "TreatmentByMarker",
    "treatment_by_marker",
]

EXPLANATION = (
    "A prognostic marker is associated with outcome whatever the treatment; a predictive marker "
    "changes the effect of a treatment, which shows as a treatment-by-marker interaction. "
    "These analyses are exploratory: one cohort can suggest, not establish, either role."
)


@dataclass(frozen=True)
class TermEstimate:
    """One Cox term: log hazard ratio, SE, hazard ratio with CI and Wald p."""

    term: str
    coef: float
    se: float
    hr: float
    lower: float
    upper: float
    p: float


@dataclass(frozen=True)
class InteractionModel:
    """``marker + treatment + marker x treatment`` with the interaction tests.

    ``marker_coding`` is ``"continuous"`` (per unit of the marker on ``scale``) or ``"cut"``
    (``marker > cut`` vs ``<= cut``). The treatment term is the active arm vs the reference at
    marker value 0 (continuous) or in the low group (cut).
    """

    marker_coding: str
    scale: str
    terms: tuple[TermEstimate, ...]
    interaction: TermEstimate
    lr_statistic: float | None
    lr_df: int
    lr_p: float | None
    n: int
    events: int
    method: str
    firth_reason: str | None


@dataclass(frozen=True)
class Cell:
    """Patients and events in one marker group x arm cell."""

    marker_group: str
    arm: str
    n: int
    events: int


@dataclass(frozen=True)
class SubgroupEffect:
    """A hazard ratio within one subgroup (a forest-plot row).

    ``effect`` is ``"treatment"`` (active vs reference within a marker group) or
    ``"marker (cut)"`` / ``"marker (continuous)"`` (within an arm). ``n_by_level`` and
    ``events_by_level`` count the patients in each level of the compared factor.
    """

    effect: str
    within: str
    contrast: str
    n: int
    events: int
    n_by_level: dict[str, int]
    events_by_level: dict[str, int]
    coef: float | None
    se: float | None
    hr: float | None
    lower: float | None
    upper: float | None
    p: float | None
    method: str | None
    note: str | None = None


@dataclass(frozen=True)
class SteppOptions:
    """STEPP settings: windows as R ``stepp.win("sliding", r1, r2)``, landmark, permutations."""

    landmark: float
    r1: int
    r2: int
    n_perm: int = 1000
    seed: int = 2017


@dataclass(frozen=True)
class TreatmentByMarker:
    """Everything the treatment-by-marker analysis of one endpoint and marker produced."""

    schema_version: str
    label: str
    explanation: str
    marker: str
    treatment: str
    reference: str
    active: str
    scale: str
    cut: float
    group_labels: tuple[str, str]
    n: int
    events: int
    n_excluded: int
    continuous: InteractionModel | None
    cut_model: InteractionModel | None
    cells: tuple[Cell, ...]
    treatment_within_marker: tuple[SubgroupEffect, ...]
    marker_within_treatment: tuple[SubgroupEffect, ...]
    gail_simon: GailSimon | None
    stepp: SteppResult | None
    conf_level: float
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN as ``None``)."""
        out: dict[str, Any] = plain(self)
        return out


def _term(name: str, fit: CoxFit) -> TermEstimate:
    t = fit.terms[name]
    return TermEstimate(name, t.coef, t.se, t.hr, t.lower, t.upper, t.p)


def _interaction_model(
    time: np.ndarray,
    event: np.ndarray,
    m: np.ndarray,
    trt: np.ndarray,
    names: tuple[str, str],
    coding: str,
    scale: str,
    conf_level: float,
) -> InteractionModel:
    marker, treatment = names
    product = f"{marker}:{treatment}"
    base_X = pd.DataFrame({marker: m, treatment: trt})
    full_X = base_X.assign(**{product: m * trt})
    full = fit_cox_strata(time, event, full_X, conf_level=conf_level)
    base = fit_cox_strata(time, event, base_X, conf_level=conf_level)
    lr_stat = lr_p = None
    if full.method == base.method == "cox":
        lr_stat = max(0.0, 2.0 * (full.loglik - base.loglik))
        lr_p = float(chi2_sf(lr_stat, 1))
    return InteractionModel(
        marker_coding=coding,
        scale=scale,
        terms=tuple(_term(str(c), full) for c in full_X.columns),
        interaction=_term(product, full),
        lr_statistic=lr_stat,
        lr_df=1,
        lr_p=lr_p,
        n=full.n,
        events=full.events,
        method=full.method,
        firth_reason=full.firth_reason,
    )


def _effect(
    effect: str,
    within: str,
    contrast: str,
    time: np.ndarray,
    event: np.ndarray,
    x: np.ndarray,
    levels: dict[str, np.ndarray] | None,
    conf_level: float,
) -> SubgroupEffect:
    n_by = {k: int(v.sum()) for k, v in (levels or {}).items()}
    ev_by = {k: int(event[v].sum()) for k, v in (levels or {}).items()}
    try:
        fit = fit_cox_strata(time, event, pd.DataFrame({"x": x}), conf_level=conf_level)
    except AnalysisError as exc:
        return SubgroupEffect(
            effect,
            within,
            contrast,
            int(time.size),
            int(event.sum()),
            n_by,
            ev_by,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            f"not estimable: {exc}",
        )
    t = fit.terms["x"]
    note = f"Firth's penalised likelihood: {fit.firth_reason}" if fit.method == "firth" else None
    return SubgroupEffect(
        effect,
        within,
        contrast,
        fit.n,
        fit.events,
        n_by,
        ev_by,
        t.coef,
        t.se,
        t.hr,
        t.lower,
        t.upper,
        t.p,
        fit.method,
        note,
    )


def _two_levels(treatment: ArrayLike, reference: str | None) -> tuple[np.ndarray, str, str]:
    labels = np.asarray(pd.Series(treatment).astype("string").to_numpy(dtype=object))
    present = sorted({str(v) for v in labels if v is not None and v is not pd.NA})
    if len(present) != 2:
        raise AnalysisError(
            f"the treatment must have exactly 2 levels among the analysed patients, found "
            f"{len(present)}: {present}"
        )
    ref = present[0] if reference is None else str(reference)
    if ref not in present:
        raise AnalysisError(
            f"treatment reference level {ref!r} does not occur; the levels are {present}"
        )
    act = present[1] if ref == present[0] else present[0]
    return labels, ref, act


def treatment_by_marker(
    time: ArrayLike,
    event: ArrayLike,
    marker: ArrayLike,
    treatment: ArrayLike,
    *,
    cut: float,
    marker_name: str = "marker",
    treatment_name: str = "treatment",
    reference: str | None = None,
    scale: str = "none",
    group_labels: Sequence[str] = ("low", "high"),
    stepp_options: SteppOptions | None = None,
    conf_level: float = 0.95,
) -> TreatmentByMarker:
    """Treatment-by-marker interaction, subgroup effects, Gail-Simon test and STEPP.

    Parameters
    ----------
    time, event
        Follow-up times and 0/1 events.
    marker
        Marker values on the analysis ``scale`` (e.g. already log2-transformed).
    treatment
        Treatment label per patient; exactly two levels among the complete cases.
    cut
        Pre-specified cut on the same scale: ``marker <= cut`` is the low group.
    marker_name, treatment_name
        Term names (``marker_name:treatment_name`` is the product).
    reference
        Reference treatment level (default: the first in sorted order).
    scale
        Name of the marker scale, for the report (``"none"``, ``"log2"``).
    group_labels
        Labels of the low and high marker groups.
    stepp_options
        Run STEPP with these settings (``None``: no STEPP).
    conf_level
        Level of every Wald interval.

    Returns
    -------
    TreatmentByMarker
        Complete cases only (``n_excluded`` counts the rest).

    References
    ----------
    Gail & Simon, Biometrics 1985; Bonetti & Gelber, Biostatistics 2004; Ballman, J Clin Oncol
    2015.
    """
    t_all = np.asarray(time, dtype=float)
    e_all = np.asarray(event, dtype=float)
    x_all = np.asarray(marker, dtype=float)
    trt_series = pd.Series(treatment).reset_index(drop=True)
    if not (t_all.size == e_all.size == x_all.size == len(trt_series)):
        raise AnalysisError("time, event, marker and treatment must have the same length")
    ok = (
        np.isfinite(t_all) & np.isfinite(e_all) & np.isfinite(x_all) & trt_series.notna().to_numpy()
    )
    t, e, x = t_all[ok], e_all[ok].astype(np.int64), x_all[ok]
    labels, ref, act = _two_levels(trt_series[ok], reference)
    if not np.isfinite(cut):
        raise AnalysisError(f"the marker cut must be a finite number, got {cut}")
    lo_lab, hi_lab = str(group_labels[0]), str(group_labels[1])
    trt = (labels == act).astype(float)
    high = (x > cut).astype(float)
    if high.sum() == 0 or high.sum() == high.size:
        raise AnalysisError(f"the cut {cut:g} leaves one marker group empty")
    notes: list[str] = []
    names = (marker_name, treatment_name)
    continuous = cut_model = None
    try:
        continuous = _interaction_model(t, e, x, trt, names, "continuous", scale, conf_level)
    except AnalysisError as exc:
        notes.append(f"continuous interaction model not estimable: {exc}")
    try:
        cut_model = _interaction_model(
            t, e, high, trt, (f"{marker_name}>{cut:g}", treatment_name), "cut", scale, conf_level
        )
    except AnalysisError as exc:
        notes.append(f"cut interaction model not estimable: {exc}")

    groups = {lo_lab: high == 0, hi_lab: high == 1}
    arms = {ref: trt == 0, act: trt == 1}
    cells = tuple(
        Cell(g, a, int((gm & am).sum()), int(e[gm & am].sum()))
        for g, gm in groups.items()
        for a, am in arms.items()
    )
    within_marker = tuple(
        _effect(
            "treatment",
            g,
            f"{act} vs {ref}",
            t[gm],
            e[gm],
            trt[gm],
            {ref: trt[gm] == 0, act: trt[gm] == 1},
            conf_level,
        )
        for g, gm in groups.items()
    )
    within_arm: list[SubgroupEffect] = []
    for a, am in arms.items():
        within_arm.append(
            _effect(
                "marker (cut)",
                a,
                f"{hi_lab} vs {lo_lab}",
                t[am],
                e[am],
                high[am],
                {lo_lab: high[am] == 0, hi_lab: high[am] == 1},
                conf_level,
            )
        )
        within_arm.append(
            _effect(
                "marker (continuous)",
                a,
                f"per unit of {marker_name} ({scale})",
                t[am],
                e[am],
                x[am],
                None,
                conf_level,
            )
        )
    gs = None
    est = [w for w in within_marker if w.coef is not None and w.se is not None]
    if len(est) == 2:
        gs = gail_simon(
            [float(w.coef) for w in est],  # type: ignore[arg-type]
            [float(w.se) for w in est],  # type: ignore[arg-type]
            [w.within for w in est],
        )
    else:
        notes.append("Gail-Simon test not computed: a treatment effect is not estimable")
    st = None
    if stepp_options is not None:
        try:
            st = stepp(
                t,
                e,
                x,
                trt,
                landmark=stepp_options.landmark,
                r1=stepp_options.r1,
                r2=stepp_options.r2,
                n_perm=stepp_options.n_perm,
                seed=stepp_options.seed,
                conf_level=conf_level,
                marker_name=marker_name,
                reference_label=ref,
                active_label=act,
            )
        except AnalysisError as exc:
            notes.append(f"STEPP not computed: {exc}")
    return TreatmentByMarker(
        schema_version=VALIDATION_SCHEMA_VERSION,
        label="exploratory",
        explanation=EXPLANATION,
        marker=marker_name,
        treatment=treatment_name,
        reference=ref,
        active=act,
        scale=scale,
        cut=float(cut),
        group_labels=(lo_lab, hi_lab),
        n=int(t.size),
        events=int(e.sum()),
        n_excluded=int((~ok).sum()),
        continuous=continuous,
        cut_model=cut_model,
        cells=cells,
        treatment_within_marker=within_marker,
        marker_within_treatment=tuple(within_arm),
        gail_simon=gs,
        stepp=st,
        conf_level=conf_level,
        notes=tuple(notes),
    )
