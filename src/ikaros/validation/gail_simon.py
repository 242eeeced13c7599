"""Gail-Simon test of a qualitative (sign-changing) treatment-by-subgroup interaction.

Given treatment effects ``D_i`` (here log hazard ratios) with standard errors ``s_i`` in ``k``
disjoint subgroups, the statistics are ``Q- = sum (D_i/s_i)^2 [D_i > 0]`` and
``Q+ = sum (D_i/s_i)^2 [D_i < 0]``. The null hypothesis is that all true effects have the same
sign (or are 0); it is rejected when both are large. The p-value of ``c = min(Q-, Q+)`` is its
largest probability under the null, reached when ``k - 1`` true effects are 0 and the remaining
one lies infinitely far on one side (then ``Q+`` is chi-square with ``h ~ Binom(k - 1, 1/2)`` df)::

    P(min(Q-, Q+) >= c) = sum_{h=1}^{k-1} Binom(h; k-1, 1/2) P(chi^2_h >= c)

(Gail & Simon 1985, eq. 2.3). With all true effects 0 the test is conservative. No Python
package implements it (R: ``QualInt``); the tests reproduce Gail & Simon's Table 1.

References
----------
Gail M, Simon R. Testing for qualitative interactions between treatment effects and patient
subsets. Biometrics 1985;41:361-372.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ikaros.errors import AnalysisError
from ikaros.stats._dist import chi2_sf
from ikaros.validation._serial import plain

__all__ = ["GailSimon", "gail_simon", "gail_simon_critical_value", "gail_simon_p"]


@dataclass(frozen=True)
class GailSimon:
    """Result of the Gail-Simon test over ``k`` subgroups."""

    labels: tuple[str, ...]
    estimates: tuple[float, ...]
    ses: tuple[float, ...]
    q_plus: float
    q_minus: float
    statistic: float
    k: int
    p: float
    critical_value_05: float
    method: str = "Gail-Simon likelihood-ratio test of qualitative interaction"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = plain(self)
        return out


def gail_simon_p(statistic: float, k: int) -> float:
    """Null probability that ``min(Q-, Q+)`` reaches ``statistic`` with ``k`` subgroups."""
    if k < 2:
        raise AnalysisError("the Gail-Simon test needs at least 2 subgroups")
    if statistic <= 0.0:
        return 1.0
    # binomial weights C(k-1, h) / 2^(k-1) of chi-squared tails with h = 1 .. k-1 df (the
    # tails from ikaros.stats._dist, which the report imports without scipy.stats: ~0.6 s)
    weights = np.array([math.comb(k - 1, h) for h in range(1, k)], dtype=float) / 2.0 ** (k - 1)
    tails = np.array([chi2_sf(statistic, h) for h in range(1, k)])
    return float(np.sum(weights * tails))


@lru_cache(maxsize=64)
def gail_simon_critical_value(k: int, alpha: float = 0.05) -> float:
    """Critical value ``c`` of the test with ``k`` subgroups at level ``alpha``."""
    from scipy import optimize

    lo, hi = 1e-8, 10.0
    while gail_simon_p(hi, k) > alpha:
        hi *= 2.0
    return float(optimize.brentq(lambda c: gail_simon_p(c, k) - alpha, lo, hi, xtol=1e-12))


def gail_simon(
    estimates: ArrayLike, ses: ArrayLike, labels: Sequence[str] | None = None
) -> GailSimon:
    """Gail-Simon test that the treatment effects ``estimates`` change sign across subgroups.

    Parameters
    ----------
    estimates, ses
        Treatment effects (e.g. log hazard ratios) and their standard errors, one per disjoint
        subgroup (at least 2).
    labels
        Subgroup names.

    Returns
    -------
    GailSimon

    References
    ----------
    Gail M, Simon R. Biometrics 1985;41:361-372.
    """
    d = np.asarray(estimates, dtype=float).ravel()
    s = np.asarray(ses, dtype=float).ravel()
    if d.size != s.size or d.size < 2:
        raise AnalysisError("the Gail-Simon test needs estimates and SEs for at least 2 subgroups")
    if not (np.all(np.isfinite(d)) and np.all(np.isfinite(s)) and np.all(s > 0)):
        raise AnalysisError("the Gail-Simon test needs finite estimates and positive SEs")
    names = tuple(labels) if labels is not None else tuple(f"group {i + 1}" for i in range(d.size))
    z2 = (d / s) ** 2
    q_minus = float(np.sum(z2[d > 0]))
    q_plus = float(np.sum(z2[d < 0]))
    c = min(q_minus, q_plus)
    return GailSimon(
        labels=names,
        estimates=tuple(float(x) for x in d),
        ses=tuple(float(x) for x in s),
        q_plus=q_plus,
        q_minus=q_minus,
        statistic=c,
        k=int(d.size),
        p=gail_simon_p(c, int(d.size)),
        critical_value_05=gail_simon_critical_value(int(d.size), 0.05),
    )
