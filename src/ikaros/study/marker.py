"""One continuous marker x one survival endpoint: the analysis of Kronke et al. (2017), any cut.

The primary grouping is the pre-specified cut (``--cut``: lowest quartile vs the rest by
default, or median, tertiles, upper quartile, fixed thresholds); the four quartile groups are
always described beside it. Per grouping: Kaplan-Meier with landmark survival and median,
log-rank (k groups), trend over ordered groups, log-rank stratified by cytogenetic risk. Cox on
the continuous marker (univariate, and with cytogenetic risk where known and the covariates),
Cox on the groups (indicators against the lowest group), subgroups by cytogenetic risk with the
marker-by-risk interaction, and optionally a maximally selected (optimised) cut.

References
----------
Kronke J, Kuchenbauer F, Kull M, et al. IKZF1 expression is a prognostic marker in newly
diagnosed standard-risk multiple myeloma treated with lenalidomide and intensive chemotherapy: a
study of the German Myeloma Study Group (DSMM). Leukemia 2017;31:1363-1367.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ikaros.cohort import Cohort
from ikaros.errors import AnalysisError, InputError
from ikaros.groups import Grouping, make_grouping, quartile_groups, quartiles
from ikaros.results import Analysis, Exclusions, GroupSummary, Interaction, OptimalCut, Subgroup
from ikaros.stats.cox import CoxFit
from ikaros.stats.logrank import logrank, logrank_trend
from ikaros.stats.survdata import SurvivalData
from ikaros.study._common import fit_complete, km_groups, transformed
from ikaros.study.options import StudyOptions
from ikaros.summaries import cox_model, cox_term, interaction_result, test_result

__all__ = ["MarkerAnalysis", "cut_record", "group_terms"]

_RISK = {"standard": 0.0, "high": 1.0}


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def cut_record(grouping: Grouping, kind: str) -> dict[str, Any]:
    """How the groups were formed, for the results file and every caption."""
    c = grouping.cutpoints
    rules = {
        "quartile": f"Q1 = values <= 25th percentile (type 7) = {_fmt(c[0])}",
        "median": f"low = values <= median = {_fmt(c[0])}",
        "tertile": f"T1 <= 33.3rd percentile ({_fmt(c[0])}) < T2 <= 66.7th percentile "
        f"({_fmt(c[-1])}) < T3",
        "upper-quartile": f"Q4 = values > 75th percentile (type 7) = {_fmt(c[0])}",
        "thresholds": "groups at the pre-specified thresholds "
        + ", ".join(_fmt(v) for v in c)
        + " (a value equal to a threshold belongs to the lower group)",
    }
    return {
        "kind": kind,
        "origin": grouping.origin,
        "value": c[0],
        "values": list(c),
        "labels": list(grouping.labels),
        "derived_from_data": kind != "thresholds",
        "rule": rules[kind],
    }


def group_terms(marker: str, grouping: Grouping) -> dict[str, int]:
    """Cox term name -> group code, each group against the first (lowest) one."""
    ref = grouping.labels[0]
    return {f"{marker} {lab} vs {ref}": i for i, lab in enumerate(grouping.labels) if i > 0}


def _check_spread(cohort: Cohort, x: pd.Series, marker: str) -> None:
    """A marker whose variance overflows holds a value no model can use (a typing error)."""
    values = x.to_numpy(dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        sd = float(np.std(values))
    if np.isfinite(sd):
        return
    row = x.index[int(np.argmax(np.abs(values)))]
    usual = values[np.abs(values) < 1e150]
    others = (
        f"; the other values lie between {np.min(usual):.4g} and {np.max(usual):.4g}"
        if usual.size
        else ""
    )
    raise InputError(
        f"marker value is too large for any model (its square overflows{others})",
        file=cohort.source,
        row=int(row),
        column=cohort.source_column(marker),
        value=x.loc[row],
        has_value=True,
        remedy="check the value (a typing error?); expression is never this large",
    )


class MarkerAnalysis:
    """Everything computed for one marker and one survival endpoint."""

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
        times = self.frame[self.tcol]
        if times.nunique() == 1:
            raise AnalysisError(
                f"{cohort.source}, column {src(self.tcol)!r}: all {len(self.frame)} patients "
                f"have the same time ({times.iloc[0]:g} months), so survival cannot be compared. "
                "Remedy: check the time column (durations from the time origin, e.g. diagnosis, "
                "to the event or last follow-up)"
            )
        self.x = transformed(cohort, self.frame, marker, options.transform)
        _check_spread(cohort, self.x, marker)
        self.time = self.frame[self.tcol].to_numpy(dtype=float)
        self.event = self.frame[self.ecol].to_numpy(dtype=np.int64)
        self.surv = SurvivalData.prepare(self.time, self.event)  # sorted once for every fit
        values = self.frame[marker]
        self.notes: list[str] = []
        try:
            self.primary = make_grouping(
                values, options.cut_kind, name=marker, thresholds=options.thresholds
            )
        except AnalysisError as exc:
            raise AnalysisError(
                f"{cohort.source}, column {src(marker)!r} ({endpoint}): {exc}"
            ) from None
        self.q4: Grouping | None
        try:
            self.q4 = quartile_groups(values, name=marker, four=True)
        except AnalysisError as exc:
            self.q4 = None
            self.notes.append(f"the four quartile groups are not described: {exc}")
        self.q_values = quartiles(values)

    # -- helpers -------------------------------------------------------------------------
    def _groups(
        self, grouping: Grouping, mask: np.ndarray | None = None
    ) -> dict[str, GroupSummary]:
        o = self.options
        return km_groups(
            self.time, self.event, grouping, o.landmark, o.conf_level, mask, survival=self.surv
        )

    def _adjusters(self) -> list[str]:
        cols = []
        if self.cohort.has_cytogenetics:
            cols.append("cyto_high_risk")
        cols.extend(c for c in self.options.covariates if c not in cols)
        return cols

    def _cox(
        self, columns: dict[str, pd.Series | str], mask: pd.Series | None = None
    ) -> tuple[CoxFit, int]:
        o = self.options
        return fit_complete(
            self.frame,
            self.time,
            self.event,
            columns,
            firth=o.firth,
            conf_level=o.conf_level,
            mask=mask,
            survival=self.surv,
        )

    def _indicators(self) -> dict[str, pd.Series | str]:
        return {
            term: pd.Series((self.primary.codes == code).astype(float), index=self.frame.index)
            for term, code in group_terms(self.marker, self.primary).items()
        }

    # -- the analysis --------------------------------------------------------------------
    def run(self) -> Analysis:
        o = self.options
        m = self.marker
        g = self.primary
        labels = g.label_array()
        surv = self.surv
        lr = logrank(self.time, self.event, labels, order=g.labels, survival=surv)
        trend = (
            logrank_trend(self.time, self.event, labels, order=g.labels, survival=surv)
            if len(g.labels) > 2
            else None
        )
        q4 = self.q4
        lr4 = trend4 = None
        if q4 is not None:
            lab4 = q4.label_array()
            lr4 = logrank(self.time, self.event, lab4, order=q4.labels, survival=surv)
            trend4 = logrank_trend(self.time, self.event, lab4, order=q4.labels, survival=surv)
        stratified = None
        if self.cohort.has_cytogenetics:
            risk = self.frame["cyto_high_risk"]
            ok = risk.notna().to_numpy()
            if ok.sum() >= 8:
                try:
                    stratified = logrank(
                        self.time[ok],
                        self.event[ok],
                        labels[ok],
                        strata=risk.to_numpy()[ok],
                        order=g.labels,
                        strata_name="cyto_high_risk",
                        survival=surv.subset(ok),
                    )
                except AnalysisError as exc:
                    self.notes.append(f"stratified log-rank not computed: {exc}")
        uni_fit, _ = self._cox({m: self.x})
        sd = float(self.x.std(ddof=1))
        uni = cox_model(uni_fit, sd={m: sd})
        indicators = self._indicators()
        group_fit, _ = self._cox(indicators)
        adjusters = self._adjusters()
        multi = group_multi = None
        if adjusters:
            cols: dict[str, pd.Series | str] = {
                m: self.x,
                **{c: self.cohort.covariate_source(c) for c in adjusters},
            }
            fit, excl = self._cox(cols)
            multi = cox_model(fit, sd={m: sd}, excluded=excl)
            fit, excl = self._cox(
                {**indicators, **{c: self.cohort.covariate_source(c) for c in adjusters}}
            )
            group_multi = cox_model(fit, excluded=excl)
        subgroups, interaction = self._subgroups()
        optimal = self._optimal_cut() if o.optimal else None
        kind = o.cut_kind
        return Analysis(
            marker=m,
            endpoint=self.endpoint,
            transform=o.transform,
            n=len(self.frame),
            events=int(self.event.sum()),
            excluded=self.exclusions,
            quartiles=self.q_values,
            cut=cut_record(g, kind),
            groups=self._groups(g),
            logrank=test_result(lr, "log-rank"),
            quartile_groups={} if q4 is None else self._groups(q4),
            logrank_quartiles=None if lr4 is None else test_result(lr4, "log-rank"),
            trend_quartiles=(
                None if trend4 is None else test_result(trend4, "log-rank trend (scores 1-4)")
            ),
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
            trend=(
                test_result(trend, f"log-rank trend (scores 1-{len(g.labels)})") if trend else None
            ),
        )

    def _optimal_cut(self) -> OptimalCut | None:
        from ikaros.cutpoints import maxstat_cutpoint, optimal_grouping

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
        lr = logrank(
            self.time,
            self.event,
            grouping.label_array(),
            order=grouping.labels,
            survival=self.surv,
        )
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
        g = self.primary
        out = []
        for name, code in _RISK.items():
            mask = (risk == code).to_numpy()
            n, ev = int(mask.sum()), int(self.event[mask].sum())
            note = None
            lr = cox = None
            if n == 0:
                continue
            groups = self._groups(g, mask)
            try:
                lr = test_result(
                    logrank(
                        self.time[mask],
                        self.event[mask],
                        g.label_array()[mask],
                        order=g.labels,
                        survival=self.surv.subset(mask),
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
