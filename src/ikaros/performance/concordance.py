"""Harrell's and Uno's concordance of a risk score, as R ``survival::concordance`` computes them.

For a risk score ``r`` (higher = worse prognosis, e.g. a Cox linear predictor) a pair of patients
is comparable when the one with the shorter time had the event; a censoring tied with a death
counts as later (the censored patient was still at risk). The pair is concordant when the earlier
death has the higher score, discordant when lower, and tied on x when the scores are equal; pairs
of deaths at the same time ("tied on y") are not comparable. With pair weights ``w``,

    C = (concordant + tied.x / 2) / (concordant + discordant + tied.x)

Harrell's C has ``w = 1``; Uno's C weights a pair by ``1 / G(t-)^2`` at the earlier death time
``t`` (``G``: reverse Kaplan-Meier, :mod:`ikaros.performance._censoring`) and drops pairs whose
earlier death is after the truncation time ``tau`` (``concordance(..., timewt = "n/G2",
ymax = tau)``). The variance is R's infinitesimal-jackknife estimate: each patient's influence
sums the weights of the concordant, discordant and x-tied pairs it belongs to,

    dfbeta_i = [(I_conc - I_disc) - D (I_conc + I_disc + I_tied.x)] / N,   var(C) = sum dfbeta^2 / 4

(``D`` Somers' d, ``N`` the weighted number of comparable pairs); the time weights are held fixed,
as in R. The covariance of two scores' C on the same patients is the cross-product of their
dfbetas, which gives the standard error of a change in C (``concordance(fit1, fit2)``).

Why own code: scikit-survival's ``concordance_index_censored`` has no standard error and its
``concordance_index_ipcw`` (Uno) treats ties in time and the censoring weights differently from
R; lifelines' ``concordance_index`` has neither weights nor variance. R's ``timefix`` (merging
times that differ by rounding error) is not applied: pass times as they are.

References
----------
Harrell FE, Califf RM, Pryor DB, Lee KL, Rosati RA. Evaluating the yield of medical tests.
JAMA 1982;247:2543-2546.
Uno H, Cai T, Pencina MJ, D'Agostino RB, Wei LJ. On the C-statistics for evaluating overall
adequacy of risk prediction procedures with censored survival data. Stat Med 2011;30:1105-1117.
Therneau TM, Atkinson EJ. Concordance. Vignette of the R package survival, version 3.5.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ikaros.errors import AnalysisError
from ikaros.performance._censoring import CensoringKM
from ikaros.performance._checks import FloatArray, as_score, as_survival, z_value

__all__ = [
    "Concordance",
    "ConcordanceDifference",
    "concordance_difference",
    "harrell_c",
    "uno_c",
]

_BLOCK = 256  # death rows compared with everyone per step (memory ~ _BLOCK x n)


@dataclass(frozen=True)
class Concordance:
    """A concordance index with its infinitesimal-jackknife standard error and Wald CI.

    ``counts`` are the (weighted) numbers of concordant, discordant, tied.x, tied.y and tied.xy
    pairs, as R reports them. ``dfbeta`` (per patient, not serialised) gives covariances.
    """

    method: Literal["harrell", "uno"]
    c: float
    se: float
    lower: float
    upper: float
    conf_level: float
    n: int
    events: int
    tau: float | None
    counts: dict[str, float]
    dfbeta: FloatArray = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (without the per-patient dfbeta)."""
        return {
            "method": self.method,
            "c": self.c,
            "se": self.se,
            "lower": self.lower,
            "upper": self.upper,
            "conf_level": self.conf_level,
            "n": self.n,
            "events": self.events,
            "tau": self.tau,
            "counts": dict(self.counts),
        }


@dataclass(frozen=True)
class ConcordanceDifference:
    """``C(new) - C(reference)`` on the same patients with the IJ standard error and Wald CI."""

    c_reference: float
    c_new: float
    delta: float
    se: float
    lower: float
    upper: float
    conf_level: float

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return dict(self.__dict__)


def _pair_sums(
    time: FloatArray,
    event: NDArray[np.int64],
    score: FloatArray,
    weight_at_death: FloatArray,
) -> tuple[NDArray[np.float64], NDArray[np.float64], dict[str, float]]:
    """Per-patient influence sums (n x 3: conc, disc, tied.x) and the weighted pair counts."""
    n = time.size
    infl = np.zeros((n, 3))
    counts = np.zeros(5)
    deaths = np.flatnonzero(event == 1)
    for start in range(0, deaths.size, _BLOCK):
        rows = deaths[start : start + _BLOCK]
        ti = time[rows][:, None]
        later = (time[None, :] > ti) | ((time[None, :] == ti) & (event[None, :] == 0))
        w = weight_at_death[rows][:, None] * later
        si = score[rows][:, None]
        conc = w * (si > score[None, :])
        disc = w * (si < score[None, :])
        tied = w * (si == score[None, :])
        for k, m in enumerate((conc, disc, tied)):
            infl[rows, k] += m.sum(axis=1)
            infl[:, k] += m.sum(axis=0)
            counts[k] += m.sum()
        # tied on y: both deaths at the same time (each unordered pair once)
        same = (time[None, :] == ti) & (event[None, :] == 1) & (rows[:, None] < np.arange(n))
        wy = weight_at_death[rows][:, None] * same
        counts[3] += wy.sum()
        counts[4] += (wy * (si == score[None, :])).sum()
    counts[3] -= counts[4]
    names = ("concordant", "discordant", "tied.x", "tied.y", "tied.xy")
    return infl, counts, dict(zip(names, counts.tolist(), strict=True))


def c_value(time: FloatArray, event: NDArray[np.int64], score: FloatArray) -> float:
    """Harrell's C only (no variance): the fast path of the bootstrap procedures."""
    deaths = np.flatnonzero(event == 1)
    conc = disc = tied = 0
    for start in range(0, deaths.size, _BLOCK):
        rows = deaths[start : start + _BLOCK]
        ti = time[rows][:, None]
        later = (time[None, :] > ti) | ((time[None, :] == ti) & (event[None, :] == 0))
        sign = np.sign(score[rows][:, None] - score[None, :])
        conc += int(np.count_nonzero(later & (sign > 0)))
        disc += int(np.count_nonzero(later & (sign < 0)))
        tied += int(np.count_nonzero(later & (sign == 0)))
    total = conc + disc + tied
    return float((conc + tied / 2) / total) if total else float("nan")


def _concordance(
    method: Literal["harrell", "uno"],
    time: FloatArray,
    event: NDArray[np.int64],
    score: FloatArray,
    weight_at_death: FloatArray,
    tau: float | None,
    conf_level: float,
) -> Concordance:
    infl, counts, named = _pair_sums(time, event, score, weight_at_death)
    npair = counts[0] + counts[1] + counts[2]
    if npair <= 0:
        raise AnalysisError("no comparable pairs: the concordance index is not defined")
    somers = (counts[0] - counts[1]) / npair
    dfbeta = ((infl[:, 0] - infl[:, 1]) - somers * infl.sum(axis=1)) / npair / 2.0
    c = (somers + 1.0) / 2.0
    se = float(np.sqrt(np.sum(dfbeta**2)))
    z = z_value(conf_level)
    return Concordance(
        method=method,
        c=float(c),
        se=se,
        lower=float(c - z * se),
        upper=float(c + z * se),
        conf_level=conf_level,
        n=int(time.size),
        events=int(event.sum()),
        tau=tau,
        counts=named,
        dfbeta=dfbeta,
    )


def harrell_c(
    time: ArrayLike, event: ArrayLike, score: ArrayLike, *, conf_level: float = 0.95
) -> Concordance:
    """Harrell's C of a risk score (higher = worse), as ``concordance(..., reverse = TRUE)``.

    Parameters
    ----------
    time, event
        Follow-up times and 0/1 event indicators.
    score
        Risk score, e.g. a Cox linear predictor.
    conf_level
        Level of the Wald interval ``C +/- z se``.

    Returns
    -------
    Concordance
    """
    t, e = as_survival(time, event)
    s = as_score(score, t.size)
    return _concordance("harrell", t, e, s, np.ones(t.size), None, conf_level)


def uno_c(
    time: ArrayLike,
    event: ArrayLike,
    score: ArrayLike,
    tau: float,
    *,
    conf_level: float = 0.95,
) -> Concordance:
    """Uno's C truncated at ``tau``, as ``concordance(..., timewt = "n/G2", ymax = tau)``.

    Parameters
    ----------
    time, event, score
        As :func:`harrell_c`.
    tau
        Truncation time: pairs whose earlier death is after ``tau`` do not count. Choose it
        where the censoring distribution is still well estimated (``G(tau)`` not near 0).
    conf_level
        Level of the Wald interval.

    Returns
    -------
    Concordance
    """
    t, e = as_survival(time, event)
    s = as_score(score, t.size)
    if not np.isfinite(tau) or tau <= 0:
        raise AnalysisError(f"the truncation time tau must be positive (got {tau})")
    if e.sum() < 2:  # R falls back to unit weights with fewer than two deaths
        weights = np.ones(t.size)
    else:
        g = CensoringKM(t, e).G_minus(t)
        with np.errstate(divide="ignore"):
            weights = np.where(e == 1, 1.0 / g**2, 0.0)
    weights = np.where(t > tau, 0.0, weights)
    return _concordance("uno", t, e, s, weights, float(tau), conf_level)


def concordance_difference(
    reference: Concordance, new: Concordance, *, conf_level: float = 0.95
) -> ConcordanceDifference:
    """Change in C between two scores on the same patients, with the IJ covariance of R.

    Both indices must be of the same kind and computed on the same patients in the same order.
    """
    if reference.dfbeta.size != new.dfbeta.size or reference.method != new.method:
        raise AnalysisError("compare concordance indices of one kind on the same patients")
    diff = new.dfbeta - reference.dfbeta
    se = float(np.sqrt(np.sum(diff**2)))
    delta = new.c - reference.c
    z = z_value(conf_level)
    return ConcordanceDifference(
        c_reference=reference.c,
        c_new=new.c,
        delta=delta,
        se=se,
        lower=delta - z * se,
        upper=delta + z * se,
        conf_level=conf_level,
    )
