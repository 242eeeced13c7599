"""The study analysis plan: a validated cohort and options in, :class:`~ikaros.results.Results` out.

For every marker x endpoint it runs the analysis of Kronke et al. (2017): lowest quartile vs the
rest and all four quartiles (Kaplan-Meier, landmark survival, log-rank, trend, stratified
log-rank), Cox on the continuous marker (univariate and with cytogenetic risk and covariates),
Cox on the quartile group, subgroups by cytogenetic risk with the interaction test; and for every
marker its association with ISS stage and best response. The CLI and the web layer call
:func:`run_study`; nothing here prints or plots.

References
----------
Kronke J, Kuchenbauer F, Kull M, et al. IKZF1 expression is a prognostic marker in newly
diagnosed standard-risk multiple myeloma treated with lenalidomide and intensive chemotherapy: a
study of the German Myeloma Study Group (DSMM). Leukemia 2017;31:1363-1367.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata

import numpy as np
import pandas as pd

from ikaros import __version__
from ikaros.cohort import Cohort
from ikaros.cutpoints import maxstat_cutpoint, optimal_grouping
from ikaros.errors import AnalysisError, InputError
from ikaros.groups import Grouping, quartile_groups
from ikaros.results import (
    SCHEMA_VERSION,
    Analysis,
    CohortSummary,
    EndpointSummary,
    Exclusions,
    InputInfo,
    Interaction,
    MarkerAssociation,
    OptimalCut,
    Options,
    Results,
    Subgroup,
)
from ikaros.stats.cox import CoxFit, fit_cox
from ikaros.stats.km import CI_METHOD, kaplan_meier, median_followup
from ikaros.stats.logrank import logrank, logrank_trend
from ikaros.stats.rank_tests import jonckheere_terpstra, kruskal_wallis, mann_whitney
from ikaros.summaries import (
    cox_model,
    cox_term,
    group_summaries,
    interaction_result,
    median_result,
    rank_result,
    test_result,
)

__all__ = ["GOOD_RESPONSE", "POOR_RESPONSE", "StudyOptions", "run_study", "software_versions"]

GOOD_RESPONSE = ("sCR", "CR", "VGPR")
POOR_RESPONSE = ("PR", "MR", "SD")
_RISK = {"standard": 0.0, "high": 1.0}
Progress = Callable[[str], None]


@dataclass(frozen=True)
class StudyOptions:
    """What to analyse and how.

    Parameters
    ----------
    markers, endpoints, covariates
        Marker columns, endpoint names, and extra covariates for the multivariable models.
    transform
        ``"none"`` or ``"log2"``: scale of the marker in Cox models (groups use raw values).
    landmark
        Landmark time in months for survival estimates (default 36 = 3 years).
    conf_level
        Confidence level of every interval.
    firth
        ``"auto"``, ``"never"`` or ``"always"``: see :func:`ikaros.stats.cox.fit_cox`.
    """

    markers: tuple[str, ...]
    endpoints: tuple[str, ...]
    covariates: tuple[str, ...] = ()
    transform: str = "none"
    landmark: float = 36.0
    conf_level: float = 0.95
    firth: str = "auto"
    seed: int | None = None
    measurement: str | None = None
    cut: str = "quartile"
    cut_pmethod: str = "Lau94"
    n_permutations: int = 10000
    n_bootstrap: int = 0
    minprop: float = 0.1
    maxprop: float = 0.9

    def __post_init__(self) -> None:
        if self.transform not in ("none", "log2"):
            raise InputError(
                f"transform must be 'none' or 'log2', got {self.transform!r}",
                remedy="use --transform none or --transform log2",
            )
        if not (self.landmark > 0 and np.isfinite(self.landmark)):
            raise InputError(
                f"landmark must be a positive number of months, got {self.landmark}",
                remedy="use e.g. --landmark 36",
            )
        if not 0.5 <= self.conf_level < 1.0:
            raise InputError(
                f"conf_level must lie in [0.5, 1), got {self.conf_level}",
                remedy="use e.g. 0.95",
            )
        if self.firth not in ("auto", "never", "always"):
            raise InputError(
                f"firth must be auto, never or always, got {self.firth!r}",
                remedy="use --firth auto",
            )
        if self.cut not in ("quartile", "optimal"):
            raise InputError(
                f"cut must be 'quartile' or 'optimal', got {self.cut!r}",
                remedy="use --cut quartile (pre-specified) or --cut optimal",
            )
        if self.cut_pmethod not in ("Lau94", "condMC", "both"):
            raise InputError(
                f"cut p-value method must be Lau94, condMC or both, got {self.cut_pmethod!r}",
                remedy="use --cut-pmethod Lau94",
            )
        if not self.markers:
            raise InputError("no marker given", remedy="name at least one with --marker")
        if not self.endpoints:
            raise InputError("no endpoint given", remedy="name at least one with --endpoint")


def software_versions() -> dict[str, str]:
    """Versions of Python and the numerical libraries, for the reproducibility record."""
    out = {"python": platform.python_version(), "ikaros": __version__}
    for dist in ("numpy", "scipy", "pandas", "lifelines", "firthmodels", "statsmodels"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:  # pragma: no cover - all are dependencies
            out[dist] = "not installed"
    return out


def _transformed(cohort: Cohort, frame: pd.DataFrame, marker: str, transform: str) -> pd.Series:
    x = frame[marker].astype(float)
    if transform == "none":
        return x
    bad = x <= 0
    if bad.any():
        row = bad[bad].index[0]
        raise InputError(
            "log2 transform needs positive marker values",
            file=cohort.source,
            row=int(row),
            column=cohort.source_column(marker),
            value=x.loc[row],
            has_value=True,
            remedy="use --transform none, or supply expression on a linear (positive) scale",
        )
    return pd.Series(np.log2(x.to_numpy()), index=x.index)


def _design(frame: pd.DataFrame, columns: dict[str, pd.Series | str]) -> pd.DataFrame:
    return pd.DataFrame(
        {name: (frame[src] if isinstance(src, str) else src) for name, src in columns.items()}
    ).astype(float)


class _MarkerEndpoint:
    """Everything computed for one marker and one endpoint."""

    def __init__(self, cohort: Cohort, options: StudyOptions, marker: str, endpoint: str) -> None:
        self.cohort = cohort
        self.options = options
        self.marker = marker
        self.endpoint = endpoint
        self.tcol, self.ecol = f"{endpoint}_time", f"{endpoint}_event"
        data = cohort.data
        has_endpoint = data[self.tcol].notna()
        has_marker = data[marker].notna()
        self.frame = data[has_endpoint & has_marker]
        self.exclusions = Exclusions(
            missing_marker=int((has_endpoint & ~has_marker).sum()),
            missing_endpoint=int((~has_endpoint).sum()),
            total=int(len(data) - len(self.frame)),
        )
        src = cohort.source_column
        if len(self.frame) < 8:
            raise AnalysisError(
                f"{cohort.source}: {marker} x {endpoint}: only {len(self.frame)} patients have "
                f"both {src(marker)!r} and {src(self.tcol)!r} "
                f"({self.exclusions.missing_marker} lack the marker, "
                f"{self.exclusions.missing_endpoint} the endpoint); at least 8 are needed"
            )
        if self.frame[self.ecol].sum() == 0:
            raise AnalysisError(
                f"{cohort.source}: {marker} x {endpoint}: no events ({src(self.ecol)!r} is 0 for "
                f"all {len(self.frame)} patients); survival cannot be compared. Remedy: check "
                "the event coding (1 = event observed, 0 = censored)"
            )
        self.x = _transformed(cohort, self.frame, marker, options.transform)
        self.time = self.frame[self.tcol].to_numpy(dtype=float)
        self.event = self.frame[self.ecol].to_numpy(dtype=np.int64)
        try:
            self.q1 = quartile_groups(self.frame[marker], name=marker)
            self.q4 = quartile_groups(self.frame[marker], name=marker, four=True)
        except AnalysisError as exc:
            raise AnalysisError(
                f"{cohort.source}, column {src(marker)!r} ({endpoint}): {exc}"
            ) from None
        self.notes: list[str] = []

    # -- survival by group -------------------------------------------------------------
    def _groups(self, grouping: Grouping, mask: np.ndarray | None = None) -> dict:
        m = np.ones(self.time.size, dtype=bool) if mask is None else mask
        curves = []
        for i, label in enumerate(grouping.labels):
            sel = m & (grouping.codes == i)
            if sel.sum() == 0:
                continue
            curves.append(
                kaplan_meier(
                    self.time[sel], self.event[sel], label=label, conf_level=self.options.conf_level
                )
            )
        return group_summaries(curves, grouping, self.options.landmark)

    def _adjusters(self) -> list[str]:
        cols = []
        if self.cohort.has_cytogenetics:
            cols.append("cyto_high_risk")
        cols.extend(c for c in self.options.covariates if c not in cols)
        return cols

    def _cox(
        self, columns: dict[str, pd.Series | str], mask: pd.Series | None = None
    ) -> tuple[CoxFit, int]:
        design = _design(self.frame, columns)
        keep = design.notna().all(axis=1)
        if mask is not None:
            keep &= mask
        return (
            fit_cox(
                self.time[keep.to_numpy()],
                self.event[keep.to_numpy()],
                design[keep],
                firth=self.options.firth,  # type: ignore[arg-type]
                conf_level=self.options.conf_level,
            ),
            int((~keep).sum()) if mask is None else 0,
        )

    def run(self) -> Analysis:
        o = self.options
        m = self.marker
        labels = self.q1.label_array()
        high = pd.Series((self.q1.codes == 1).astype(float), index=self.frame.index)
        group_term = f"{m} Q2-4 vs Q1"
        lr = logrank(self.time, self.event, labels, order=self.q1.labels)
        lr4 = logrank(self.time, self.event, self.q4.label_array(), order=self.q4.labels)
        trend = logrank_trend(self.time, self.event, self.q4.label_array(), order=self.q4.labels)
        stratified = None
        if self.cohort.has_cytogenetics:
            risk = self.frame["cyto_high_risk"]
            ok = risk.notna().to_numpy()
            if ok.sum() >= 8:
                stratified = logrank(
                    self.time[ok],
                    self.event[ok],
                    labels[ok],
                    strata=risk.to_numpy()[ok],
                    order=self.q1.labels,
                    strata_name="cyto_high_risk",
                )
        uni_fit, _ = self._cox({m: self.x})
        sd = float(self.x.std(ddof=1))
        uni = cox_model(uni_fit, sd={m: sd})
        group_fit, _ = self._cox({group_term: high})
        adjusters = self._adjusters()
        multi = group_multi = None
        if adjusters:
            cols: dict[str, pd.Series | str] = {m: self.x, **{c: c for c in adjusters}}
            fit, excl = self._cox(cols)
            multi = cox_model(fit, sd={m: sd}, excluded=excl)
            fit, excl = self._cox({group_term: high, **{c: c for c in adjusters}})
            group_multi = cox_model(fit, excluded=excl)
        subgroups, interaction = self._subgroups()
        optimal = self._optimal_cut() if o.cut == "optimal" else None
        return Analysis(
            marker=m,
            endpoint=self.endpoint,
            transform=o.transform,
            n=len(self.frame),
            events=int(self.event.sum()),
            excluded=self.exclusions,
            quartiles=quartile_tuple(self.q4.cutpoints),
            cut={
                "kind": "quartile",
                "origin": self.q1.origin,
                "value": self.q1.cutpoints[0],
                "rule": "Q1 = values <= 25th percentile (type 7)",
            },
            groups=self._groups(self.q1),
            logrank=test_result(lr, "log-rank"),
            quartile_groups=self._groups(self.q4),
            logrank_quartiles=test_result(lr4, "log-rank"),
            trend_quartiles=test_result(trend, "log-rank trend (scores 1-4)"),
            logrank_stratified=(
                test_result(stratified, "log-rank stratified by cyto_high_risk")
                if stratified
                else None
            ),
            cox_continuous=cox_term(uni_fit, m, sd),
            cox_univariate=uni,
            cox_group=cox_model(group_fit),
            cox_multivariable=multi,
            cox_group_multivariable=group_multi,
            subgroups=subgroups,
            interaction=interaction,
            notes=tuple(self.notes),
            optimal_cut=optimal,
        )

    def _optimal_cut(self) -> OptimalCut | None:
        o = self.options
        x = self.frame[self.marker].to_numpy(dtype=float)
        try:
            cp = maxstat_cutpoint(
                self.time,
                self.event,
                x,
                minprop=o.minprop,
                maxprop=o.maxprop,
                pmethod=o.cut_pmethod,  # type: ignore[arg-type]
                n_permutations=o.n_permutations,
                n_bootstrap=o.n_bootstrap,
                seed=0 if o.seed is None else o.seed,
            )
        except AnalysisError as exc:
            self.notes.append(f"optimal cutpoint not computed: {exc}")
            return None
        grouping = optimal_grouping(x, cp)
        lr = logrank(self.time, self.event, grouping.label_array(), order=grouping.labels)
        return OptimalCut(
            cutpoint=cp.cutpoint,
            statistic=cp.statistic,
            p_lau94=cp.p_lau94,
            p_permutation=cp.p_permutation,
            n_permutations=cp.n_permutations,
            p_unadjusted=cp.p_unadjusted,
            minprop=cp.minprop,
            maxprop=cp.maxprop,
            ci_lower=cp.ci_lower,
            ci_upper=cp.ci_upper,
            n_bootstrap=cp.n_bootstrap,
            groups=self._groups(grouping),
            logrank=test_result(lr, "log-rank at the optimised cut (NOT corrected for the search)"),
        )

    def _subgroups(self) -> tuple[tuple[Subgroup, ...], Interaction | None]:
        if not self.cohort.has_cytogenetics:
            return (), None
        risk = self.frame["cyto_high_risk"]
        out = []
        for name, code in _RISK.items():
            mask = (risk == code).to_numpy()
            n, ev = int(mask.sum()), int(self.event[mask].sum())
            note = None
            lr = cox = None
            if n == 0:
                continue
            groups = self._groups(self.q1, mask)
            try:
                lr = test_result(
                    logrank(
                        self.time[mask],
                        self.event[mask],
                        self.q1.label_array()[mask],
                        order=self.q1.labels,
                    ),
                    "log-rank",
                )
            except AnalysisError as exc:
                note = f"log-rank not computed: {exc}"
            try:
                fit, _ = self._cox({self.marker: self.x}, mask=pd.Series(mask, index=risk.index))
                cox = cox_model(fit, sd={self.marker: float(self.x[mask].std(ddof=1))})
            except AnalysisError as exc:
                note = (note + "; " if note else "") + f"Cox not computed: {exc}"
            out.append(Subgroup(f"{name} risk", n, ev, groups, lr, cox, note))
        interaction = None
        term = f"{self.marker}:cyto_high_risk"
        try:
            base, _ = self._cox({self.marker: self.x, "cyto_high_risk": "cyto_high_risk"})
            full, _ = self._cox(
                {self.marker: self.x, "cyto_high_risk": "cyto_high_risk", term: self.x * risk}
            )
            interaction = interaction_result(full, base, term)
        except AnalysisError as exc:
            self.notes.append(f"interaction test not computed: {exc}")
        return tuple(out), interaction


def quartile_tuple(cuts: Sequence[float]) -> tuple[float, float, float]:
    return float(cuts[0]), float(cuts[1]), float(cuts[2])


def _associations(cohort: Cohort, marker: str) -> MarkerAssociation:
    data = cohort.data
    notes: list[str] = []
    kw = jt = mw = None
    if "iss" in data:
        sub = data[[marker, "iss"]].dropna()
        try:
            kw = rank_result(kruskal_wallis(sub[marker], sub["iss"].astype(int), order=[1, 2, 3]))
            jt = rank_result(
                jonckheere_terpstra(sub[marker], sub["iss"].astype(int), order=[1, 2, 3])
            )
        except AnalysisError as exc:
            notes.append(f"ISS tests not computed: {exc}")
    if "best_response" in data:
        resp = data["best_response"]
        good = data.loc[resp.isin(GOOD_RESPONSE), marker].dropna()
        poor = data.loc[resp.isin(POOR_RESPONSE), marker].dropna()
        try:
            mw = rank_result(mann_whitney(good, poor, names=("CR/VGPR", "PR/SD")))
        except AnalysisError as exc:
            notes.append(f"response test not computed: {exc}")
    by_iss: dict[str, tuple[float, ...]] = {}
    if "iss" in data:
        sub = data[[marker, "iss"]].dropna()
        by_iss = {
            str(k): tuple(float(v) for v in sub.loc[sub["iss"] == k, marker]) for k in (1, 2, 3)
        }
    by_resp: dict[str, tuple[float, ...]] = {}
    if "best_response" in data:
        resp = data["best_response"]
        for label, codes in (("CR/VGPR", GOOD_RESPONSE), ("PR/SD", POOR_RESPONSE)):
            by_resp[label] = tuple(float(v) for v in data.loc[resp.isin(codes), marker].dropna())
    return MarkerAssociation(
        marker, kw, jt, mw, notes=tuple(notes), values_by_iss=by_iss, values_by_response=by_resp
    )


def _cohort_summary(cohort: Cohort, endpoints: Sequence[str]) -> CohortSummary:
    data = cohort.data
    eps = {}
    for e in endpoints:
        sub = data[[f"{e}_time", f"{e}_event"]].dropna()
        eps[e] = EndpointSummary(
            n=len(sub),
            events=int(sub[f"{e}_event"].sum()),
            not_evaluable=cohort.n - len(sub),
            median_followup=median_result(median_followup(sub[f"{e}_time"], sub[f"{e}_event"])),
        )
    cyto: dict[str, int] = {}
    if "cyto_high_risk" in data:
        r = data["cyto_high_risk"]
        cyto = {
            "standard": int((r == 0).sum()),
            "high": int((r == 1).sum()),
            "missing": int(r.isna().sum()),
        }
    iss = {}
    if "iss" in data:
        iss = {str(k): int((data["iss"] == k).sum()) for k in (1, 2, 3)}
        iss["missing"] = int(data["iss"].isna().sum())
    resp = {}
    if "best_response" in data:
        counts = data["best_response"].value_counts()
        resp = {c: int(counts.get(c, 0)) for c in ("sCR", "CR", "VGPR", "PR", "MR", "SD", "PD")}
        resp["missing"] = int(data["best_response"].isna().sum())
    age: dict[str, float | None] = {}
    if "age" in data:
        a = data["age"].dropna()
        age = {
            "median": float(a.median()) if len(a) else None,
            "min": float(a.min()) if len(a) else None,
            "max": float(a.max()) if len(a) else None,
            "missing": float(data["age"].isna().sum()),
        }
    sex: dict[str, int] = {}
    if "sex" in data:
        counts = data["sex"].value_counts()
        sex = {str(k): int(v) for k, v in sorted(counts.items())}
        sex["missing"] = int(data["sex"].isna().sum())
    return CohortSummary(cohort.n, eps, cyto, iss, resp, age, sex)


def run_study(
    cohort: Cohort,
    options: StudyOptions,
    *,
    progress: Progress | None = None,
    command: str | None = None,
) -> Results:
    """Run the full study analysis.

    Parameters
    ----------
    cohort
        A validated cohort holding every requested marker, endpoint and covariate.
    options
        What to analyse.
    progress
        Called with a short description before each marker x endpoint.
    command
        The command line, recorded in the results for reproducibility.
    """
    for name, have, kind in (
        (options.markers, cohort.markers, "marker"),
        (options.endpoints, cohort.endpoints, "endpoint"),
        (options.covariates, cohort.covariates, "covariate"),
    ):
        missing = [x for x in name if x not in have]
        if missing:
            raise InputError(
                f"{kind}(s) {missing} were not validated in the cohort",
                file=cohort.source,
                remedy=f"load the cohort with these {kind}s",
            )
    analyses = []
    warnings: list[str] = list(cohort.notes)
    for marker in options.markers:
        for endpoint in options.endpoints:
            if progress:
                progress(f"{marker} x {endpoint}")
            a = _MarkerEndpoint(cohort, options, marker, endpoint).run()
            analyses.append(a)
            for label, model in (
                ("group", a.cox_group),
                ("multivariable", a.cox_multivariable),
                ("group multivariable", a.cox_group_multivariable),
            ):
                if model is not None and model.method == "firth":
                    warnings.append(
                        f"{marker} x {endpoint}: {label} Cox fitted with Firth's "
                        f"penalised likelihood because {model.firth_reason}"
                    )
            if a.cox_univariate.ph and a.cox_univariate.ph.global_test.p < 0.05:
                warnings.append(
                    f"{marker} x {endpoint}: proportional-hazards test p = "
                    f"{a.cox_univariate.ph.global_test.p:.3g} for the marker"
                )
    associations = tuple(_associations(cohort, m) for m in options.markers)
    return Results(
        schema_version=SCHEMA_VERSION,
        ikaros_version=__version__,
        software=software_versions(),
        input=InputInfo(
            cohort.source,
            cohort.sha256,
            cohort.n,
            cohort.time_unit,
            dict(cohort.column_map),
            cohort.expression_source,
            cohort.expression_sha256,
        ),
        options=Options(
            options.markers,
            options.endpoints,
            options.covariates,
            options.transform,
            options.landmark,
            options.conf_level,
            options.firth,
            CI_METHOD,
            "efron",
            options.seed,
            options.measurement,
            options.cut,
        ),
        cohort=_cohort_summary(cohort, options.endpoints),
        analyses=tuple(analyses),
        marker_associations=associations,
        command=command,
        warnings=tuple(warnings),
    )
