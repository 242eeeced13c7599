"""DataFrame-in, DataFrame-out wrappers of the statistics, for notebooks.

Thin over the functions the study uses (:mod:`ikaros.stats`, :mod:`ikaros.cutpoints`,
:mod:`ikaros.stats.competing`, :mod:`ikaros.scan`): the same numbers, checked against R in the
test suite. Columns are named by the caller; rows with a missing value in a used column are
dropped and counted in ``DataFrame.attrs["excluded"]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ikaros.cutpoints import Cutpoint

__all__ = [
    "cox",
    "cumulative_incidence",
    "cutpoint",
    "fine_gray",
    "gray_test",
    "kaplan_meier",
    "logrank_test",
]


def _complete(frame: pd.DataFrame, columns: Sequence[str]) -> tuple[pd.DataFrame, int]:
    from ikaros.errors import InputError

    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"column {missing[0]!r} is not in the DataFrame",
            remedy=f"use one of its columns: {', '.join(map(str, frame.columns))}",
        )
    sub = frame[list(columns)].dropna()
    return sub, len(frame) - len(sub)


def kaplan_meier(
    frame: pd.DataFrame,
    time: str,
    event: str,
    *,
    group: str | None = None,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Kaplan-Meier estimate per group as R's ``summary(survfit(...), censored = TRUE)``.

    Parameters
    ----------
    frame
        One row per patient.
    time, event
        Columns of follow-up time and 0/1 event indicator.
    group
        Column of the groups (optional).
    conf_level
        Level of the pointwise intervals.

    Returns
    -------
    pandas.DataFrame
        ``group``, ``time``, ``n_risk``, ``n_event``, ``n_censor``, ``surv``, ``lower``,
        ``upper`` (log-log interval, Greenwood variance); one row per distinct time. Medians
        with CIs are in ``attrs["medians"]`` ({group: (median, lower, upper)}).
    """
    import numpy as np
    import pandas as pd

    from ikaros.stats.km import kaplan_meier as km

    cols = [time, event] + ([group] if group else [])
    sub, excluded = _complete(frame, cols)
    labels = ["all"] if group is None else list(dict.fromkeys(sub[group].astype(str)))
    parts, medians = [], {}
    for label in labels:
        sel = sub if group is None else sub[sub[group].astype(str) == label]
        c = km(
            sel[time].to_numpy(float),
            sel[event].to_numpy(float),
            label=label,
            conf_level=conf_level,
        )
        parts.append(
            pd.DataFrame(
                {
                    "group": label,
                    "time": c.time,
                    "n_risk": c.n_risk,
                    "n_event": c.n_event,
                    "n_censor": c.n_censor,
                    "surv": c.surv,
                    "lower": np.asarray(c.lower, dtype=float),
                    "upper": np.asarray(c.upper, dtype=float),
                }
            )
        )
        medians[label] = (c.median.estimate, c.median.lower, c.median.upper)
    out = pd.concat(parts, ignore_index=True)
    out.attrs.update({"medians": medians, "excluded": excluded})
    return out


def logrank_test(
    frame: pd.DataFrame, time: str, event: str, group: str, *, strata: str | None = None
) -> dict[str, Any]:
    """k-group log-rank test (optionally stratified), as R ``survdiff``.

    Parameters
    ----------
    frame
        One row per patient.
    time, event, group
        Columns of time, 0/1 event and group.
    strata
        Column of the strata (optional).

    Returns
    -------
    dict
        ``statistic``, ``df``, ``p`` and per group ``observed``/``expected``.
    """
    from ikaros.stats.logrank import logrank

    cols = [time, event, group] + ([strata] if strata else [])
    sub, excluded = _complete(frame, cols)
    r = logrank(
        sub[time].to_numpy(float),
        sub[event].to_numpy(int),
        sub[group].astype(str).to_numpy(),
        strata=None if strata is None else sub[strata].to_numpy(),
    )
    out: dict[str, Any] = {"statistic": float(r.statistic), "df": int(r.df), "p": float(r.p)}
    for name in ("observed", "expected", "groups"):
        if hasattr(r, name):
            value = getattr(r, name)
            out[name] = [str(v) for v in value] if name == "groups" else [float(v) for v in value]
    out["excluded"] = excluded
    return out


def cox(
    frame: pd.DataFrame,
    time: str,
    event: str,
    covariates: Sequence[str],
    *,
    strata: str | None = None,
    firth: str = "auto",
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Cox proportional-hazards regression (Efron ties) as R ``coxph``; Firth when needed.

    Parameters
    ----------
    frame
        One row per patient.
    time, event
        Columns of time and 0/1 event.
    covariates
        Numeric columns, one term each (code factors as indicators).
    strata
        Column of the strata (optional; R ``strata()``).
    firth
        ``"auto"`` (Firth's penalised likelihood only when the estimate does not exist),
        ``"never"`` or ``"always"``.
    conf_level
        Level of the Wald intervals.

    Returns
    -------
    pandas.DataFrame
        One row per term: ``coef``, ``se``, ``hr``, ``lower``, ``upper``, ``z``, ``p``.
        ``attrs`` holds the model: ``n``, ``events``, ``method`` ("cox", "firth" or "none"),
        ``loglik``, ``lr_statistic``, ``lr_df``, ``lr_p``, ``note``, ``excluded``.
    """
    import pandas as pd

    from ikaros.stats.cox import fit_cox

    cols = [time, event, *covariates] + ([strata] if strata else [])
    sub, excluded = _complete(frame, cols)
    kwargs: dict[str, Any] = {"firth": firth, "conf_level": conf_level}
    if strata is not None:
        kwargs["strata"] = sub[strata].to_numpy()
    fit = fit_cox(
        sub[time].to_numpy(float),
        sub[event].to_numpy(int),
        sub[list(covariates)].astype(float),
        **kwargs,
    )
    out = pd.DataFrame(
        [
            {
                "term": name,
                "coef": t.coef,
                "se": t.se,
                "hr": t.hr,
                "lower": t.lower,
                "upper": t.upper,
                "z": t.z,
                "p": t.p,
            }
            for name, t in fit.terms.items()
        ]
    ).set_index("term")
    out.attrs.update(
        {
            "n": fit.n,
            "events": fit.events,
            "method": fit.method,
            "ties": fit.ties,
            "loglik": fit.loglik,
            "lr_statistic": fit.lr_statistic,
            "lr_df": fit.lr_df,
            "lr_p": fit.lr_p,
            "note": getattr(fit, "note", None) or fit.firth_reason,
            "excluded": excluded,
        }
    )
    return out


def cutpoint(
    frame: pd.DataFrame,
    marker: str,
    time: str,
    event: str,
    *,
    minprop: float = 0.1,
    maxprop: float = 0.9,
    pmethod: str = "Lau94",
    n_permutations: int = 10000,
    n_bootstrap: int = 0,
    seed: int = 1,
) -> Cutpoint:
    """Maximally selected log-rank cutpoint with its search-corrected p (as R ``maxstat``).

    Parameters
    ----------
    frame
        One row per patient.
    marker, time, event
        Columns of the marker, time and 0/1 event.
    minprop, maxprop
        Range of the search: the low group holds between these shares of the patients.
    pmethod
        ``"Lau94"``, ``"condMC"`` (permutation) or ``"both"``.
    n_permutations, n_bootstrap, seed
        Permutations of condMC, bootstrap replicates of the cutpoint's CI, and their seed.

    Returns
    -------
    Cutpoint
        Labelled ``origin = "optimised"``: report ``p_lau94`` or ``p_permutation``, never
        ``p_unadjusted``.
    """
    from ikaros.cutpoints import maxstat_cutpoint

    sub, _ = _complete(frame, [marker, time, event])
    return maxstat_cutpoint(
        sub[time],
        sub[event],
        sub[marker],
        minprop=minprop,
        maxprop=maxprop,
        pmethod=pmethod,  # type: ignore[arg-type]
        n_permutations=n_permutations,
        n_bootstrap=n_bootstrap,
        seed=seed,
    )


def cumulative_incidence(
    frame: pd.DataFrame,
    time: str,
    status: str,
    *,
    group: str | None = None,
    causes: Mapping[int, str] | None = None,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Aalen-Johansen cumulative incidence of every cause (as ``cmprsk::cuminc``).

    Parameters
    ----------
    frame
        One row per patient.
    time, status
        Columns of time and cause (0 = censored, 1, 2, ... = cause).
    group
        Column of the groups (optional).
    causes
        Names of the cause codes, e.g. ``{1: "progression", 2: "death"}``.
    conf_level
        Level of the log(-log) intervals.

    Returns
    -------
    pandas.DataFrame
        One row per group x cause x time: ``group``, ``cause``, ``time``, ``n_risk``,
        ``n_event``, ``cif``, ``variance`` (cuminc's), ``lower``, ``upper``.
    """
    import pandas as pd

    from ikaros.stats.competing import aalen_johansen

    cols = [time, status] + ([group] if group else [])
    sub, excluded = _complete(frame, cols)
    curves = aalen_johansen(
        sub[time].to_numpy(float),
        sub[status].to_numpy(int),
        groups=None if group is None else sub[group].astype(str).to_numpy(),
        cause_labels=dict(causes) if causes else None,
        conf_level=conf_level,
    )
    parts = [
        pd.DataFrame(
            {
                "group": g,
                "cause": cause,
                "time": c.time,
                "n_risk": c.n_risk,
                "n_event": c.n_event,
                "cif": c.estimate,
                "variance": c.variance,
                "lower": c.lower,
                "upper": c.upper,
            }
        )
        for g, by_cause in curves.items()
        for cause, c in by_cause.items()
    ]
    out = pd.concat(parts, ignore_index=True)
    out.attrs["excluded"] = excluded
    return out


def gray_test(
    frame: pd.DataFrame,
    time: str,
    status: str,
    group: str,
    *,
    cause: int | str = 1,
    causes: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """Gray's test of equal cumulative incidence of ``cause`` across groups.

    Parameters
    ----------
    frame
        One row per patient.
    time, status, group
        Columns of time, cause (0 = censored) and group.
    cause, causes
        The cause tested (code or name) and the names of the codes.

    Returns
    -------
    dict
        ``statistic``, ``df``, ``p``, ``cause``, ``excluded``.
    """
    from ikaros.stats.competing import gray_test as gray

    sub, excluded = _complete(frame, [time, status, group])
    g = gray(
        sub[time].to_numpy(float),
        sub[status].to_numpy(int),
        sub[group].astype(str).to_numpy(),
        cause,
        cause_labels=dict(causes) if causes else None,
    )
    return {
        "statistic": g.statistic,
        "df": g.df,
        "p": g.p,
        "cause": g.cause,
        "excluded": excluded,
    }


def fine_gray(
    frame: pd.DataFrame,
    time: str,
    status: str,
    covariates: Sequence[str],
    *,
    cause: int | str = 1,
    causes: Mapping[int, str] | None = None,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Fine-Gray subdistribution hazard ratios (as ``cmprsk::crr``), one row per term.

    Parameters
    ----------
    frame
        One row per patient.
    time, status
        Columns of time and cause (0 = censored).
    covariates
        Numeric columns, one term each.
    cause, causes
        The cause of interest (code or name) and the names of the codes.
    conf_level
        Level of the Wald intervals (robust sandwich variance).

    Returns
    -------
    pandas.DataFrame
        ``coef``, ``se``, ``shr``, ``lower``, ``upper``, ``z``, ``p`` per term; ``attrs`` holds
        ``n``, ``events``, ``competing``, ``converged``, ``monotone`` and ``note``.
    """
    import pandas as pd

    from ikaros.stats.competing import fine_gray as fg

    sub, excluded = _complete(frame, [time, status, *covariates])
    fit = fg(
        sub[time].to_numpy(float),
        sub[status].to_numpy(int),
        sub[list(covariates)].astype(float).reset_index(drop=True),
        cause,
        conf_level=conf_level,
        cause_labels=dict(causes) if causes else None,
    )
    out = pd.DataFrame(
        [
            {
                "term": k,
                "coef": t.coef,
                "se": t.se,
                "shr": t.hr,
                "lower": t.lower,
                "upper": t.upper,
                "z": t.z,
                "p": t.p,
            }
            for k, t in fit.terms.items()
        ]
    ).set_index("term")
    out.attrs.update(
        {
            "n": fit.n,
            "events": fit.events,
            "competing": fit.competing,
            "converged": fit.converged,
            "monotone": getattr(fit, "monotone", False),
            "note": getattr(fit, "note", None),
            "excluded": excluded,
        }
    )
    return out
