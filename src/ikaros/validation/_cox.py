"""The one Cox entry point of this package: ``fit_cox(time, event, X, strata=...)``.

:func:`fit_cox_strata` calls :func:`ikaros.stats.cox.fit_cox` (Efron ties; Firth's penalty on a
monotone likelihood when unstratified; separate baseline hazards per stratum as R
``coxph(... + strata(s))``) without the proportional-hazards test, and turns a fit without an
estimate (``method = "none"``: unconverged, or a stratified monotone likelihood, for which no
Firth fit exists) into :class:`ikaros.errors.AnalysisError` with the engine's reason, so that
callers report "not estimable" instead of NaN numbers.
"""

from __future__ import annotations

import pandas as pd
from numpy.typing import ArrayLike

from ikaros.errors import AnalysisError
from ikaros.stats.cox import CoxFit, FirthMode, fit_cox

__all__ = ["ENGINE", "fit_cox_strata"]

#: Named in results next to stratified estimates.
ENGINE = "ikaros.stats.cox (Efron ties, strata)"


def fit_cox_strata(
    time: ArrayLike,
    event: ArrayLike,
    covariates: pd.DataFrame,
    strata: ArrayLike | None = None,
    *,
    firth: FirthMode = "auto",
    conf_level: float = 0.95,
) -> CoxFit:
    """Cox fit with Efron ties, optionally stratified; raises when there is no estimate.

    Parameters
    ----------
    time, event, covariates
        As :func:`ikaros.stats.cox.fit_cox` (complete cases, one numeric column per term).
    strata
        Stratum label per row, or ``None`` for an unstratified model.
    firth
        Firth mode of :func:`ikaros.stats.cox.fit_cox` (unstratified fits only).
    conf_level
        Level of the Wald intervals.

    Returns
    -------
    ikaros.stats.cox.CoxFit
        ``method`` is ``"cox"`` or ``"firth"``.

    Raises
    ------
    AnalysisError
        The engine's input errors, and fits without an estimate (``method = "none"``).
    """
    fit = fit_cox(
        time,
        event,
        covariates,
        firth=firth,
        ph_test=False,
        conf_level=conf_level,
        strata=strata,
    )
    if fit.method == "none":
        raise AnalysisError(fit.note or "the Cox model has no estimate")
    return fit
