"""Estimate the critical level theta from a cohort's survival, honestly tested.

The model classifies a patient as sensitive when the score ``s = m q`` (relative mRNA times the
critical level of its ``P1``, :mod:`ikaros.model.predict`) is below ``theta``; the score is
monotone in the mRNA, so estimating theta is estimating a cutpoint of the score. For every
candidate cut ``c`` (the candidate set of the maximally selected log-rank statistic: the
distinct scores leaving between ``floor(n minprop)`` and ``floor(n maxprop)`` patients at or
below, as R maxstat) a Cox model (Efron ties) of the endpoint on ``1{s > c}`` is fitted; the
profile log partial likelihood is maximised over the cuts. The search over cuts inflates any
naive p-value of the best cut, so significance is the search-corrected p of the maximally
selected log-rank statistic over the same cuts (Lau94 approximation and conditional Monte
Carlo, exactly as ``ikaros cutpoint``). The two criteria usually pick the same cut; when they do
not, both are reported.

Cox fits reuse :func:`ikaros.scan.cox_scan` (one indicator column per cut, vectorised Newton;
checked against R ``coxph``), the corrected p-values :func:`ikaros.cutpoints.maxstat_cutpoint`
(checked against R ``maxstat``).

References
----------
Lausen B, Schumacher M. Maximally selected rank statistics. Biometrics 1992;48:73-85.
Altman DG, Lausen B, Sauerbrei W, Schumacher M. Dangers of using "optimal" cutpoints in the
evaluation of prognostic factors. J Natl Cancer Inst 1994;86:829-835.
Royston P, Sauerbrei W. Multivariable Model-building. Wiley 2008, section 3.4 (cutpoint
estimation by profile likelihood).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from ikaros.cutpoints import maxstat_cutpoint, standardized_statistics
from ikaros.errors import AnalysisError
from ikaros.model.result import ProfilePoint, ThetaFit
from ikaros.scan import cox_scan

__all__ = ["SUPPORT_CHISQ", "fit_theta"]

#: The profile-likelihood support set keeps cuts within chi2(1; 0.95) / 2 log-likelihood units.
SUPPORT_CHISQ = float(stats.chi2.ppf(0.95, 1))


def _not_estimable(note: str, minprop: float, maxprop: float) -> ThetaFit:
    return ThetaFit(
        theta=None,
        critical_m=None,
        hazard_ratio=None,
        support_lower=None,
        support_upper=None,
        maxstat_cut=None,
        p_lau94=None,
        p_permutation=None,
        n_permutations=0,
        minprop=minprop,
        maxprop=maxprop,
        profile=(),
        note=note,
    )


def fit_theta(
    time: NDArray[np.float64],
    event: NDArray[np.float64],
    score: NDArray[np.float64],
    q_reference: float,
    *,
    minprop: float = 0.1,
    maxprop: float = 0.9,
    n_permutations: int = 2000,
    seed: int = 1,
) -> ThetaFit:
    """Profile-likelihood estimate of theta on the score scale, with corrected p-values.

    Parameters
    ----------
    time, event
        Endpoint times and 0/1 events of the patients with a score.
    score
        ``m q`` per patient.
    q_reference
        Critical level of ``P1`` at the reference renal function: ``critical_m = theta / q``.
    minprop, maxprop
        Search range of the cut (share of patients at or below it).
    n_permutations, seed
        Conditional Monte-Carlo p-value (0: Lau94 only).

    Returns
    -------
    ThetaFit
        With ``theta = None`` and a note when no cut can be searched (no events, too few
        distinct scores).
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    s = np.asarray(score, dtype=float)
    try:
        cand = standardized_statistics(t, e, s, minprop=minprop, maxprop=maxprop)
        cp = maxstat_cutpoint(
            t,
            e,
            s,
            minprop=minprop,
            maxprop=maxprop,
            pmethod="condMC" if n_permutations > 0 else "Lau94",
            n_permutations=max(n_permutations, 1),
            seed=seed,
        )
    except AnalysisError as exc:
        return _not_estimable(f"not estimable: {exc}", minprop, maxprop)
    cuts = np.asarray(cand["cut"], dtype=float)
    n_low = np.asarray(cand["n_low"], dtype=np.int64)
    high = (s[:, None] > cuts[None, :]).astype(float)
    fits = cox_scan(t, e, high, genes=[f"cut{i}" for i in range(cuts.size)], firth_refit=False)
    loglik = np.asarray(fits.loglik, dtype=float)
    lr = np.asarray(fits.lr_statistic, dtype=float)
    usable = np.isfinite(loglik)
    if not np.any(usable):
        return _not_estimable("not estimable: no Cox fit at any candidate cut", minprop, maxprop)
    best = int(np.flatnonzero(usable)[np.argmax(loglik[usable])])
    support = usable & (2.0 * (loglik[best] - loglik) <= SUPPORT_CHISQ)
    hr = float(fits.hr[best])
    notes = [
        "theta is the cut on the score m*q maximising the Cox profile likelihood; patients at "
        "or below it are the sensitive group. The cut was chosen on these data ('optimised'): "
        "report the search-corrected p-values, not a naive one."
    ]
    if bool(fits.monotone[best]):
        notes.append(
            "the likelihood at the best cut is monotone (a group without events): the hazard "
            "ratio is infinite and shown as n/a"
        )
        hr = math.nan
    if math.isfinite(hr) and hr < 1:
        notes.append(
            "the high-score group has the LOWER hazard at the best cut, contrary to the model's "
            "hypothesis (high expression = resistance)"
        )
    if not math.isclose(cp.cutpoint, cuts[best], rel_tol=0, abs_tol=0):
        notes.append(
            f"the maximally selected log-rank statistic picks another cut ({cp.cutpoint:.4g}); "
            "its corrected p-values are reported"
        )
    profile = tuple(
        ProfilePoint(float(c), int(k), float(ll), float(x), bool(mono))
        for c, k, ll, x, mono in zip(cuts, n_low, loglik, lr, fits.monotone, strict=True)
    )
    theta = float(cuts[best])
    return ThetaFit(
        theta=theta,
        critical_m=theta / q_reference,
        hazard_ratio=hr if math.isfinite(hr) else None,
        support_lower=float(cuts[support].min()),
        support_upper=float(cuts[support].max()),
        maxstat_cut=float(cp.cutpoint),
        p_lau94=float(cp.p_lau94),
        p_permutation=cp.p_permutation,
        n_permutations=cp.n_permutations,
        minprop=minprop,
        maxprop=maxprop,
        profile=profile,
        note=" ".join(notes),
    )
