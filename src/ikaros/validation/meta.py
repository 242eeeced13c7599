"""Random-effects meta-analysis of per-cohort log hazard ratios, as R metafor computes it.

For ``k`` cohorts with estimates ``y_i`` (log HR) and standard errors ``s_i`` (``v_i = s_i^2``):

* **Fixed effect** (inverse variance): ``w_i = 1 / v_i``, ``mu = sum w y / sum w``,
  ``SE = 1 / sqrt(sum w)``, normal CI and p. Cochran's ``Q = sum w (y - mu)^2`` on ``k - 1`` df.
  These come from statsmodels' ``combine_effects`` (identical to metafor ``rma(method="FE")``).
* **Random effects**: ``tau^2`` by restricted maximum likelihood (REML), found by Fisher scoring
  from the Hedges estimate as metafor does, iterated to a change below 1e-12 and truncated at 0
  (set to exactly 0 when the restricted likelihood is maximal at the boundary); where Fisher
  scoring oscillates (metafor stops there without an estimate), by bracketing the score's
  roots. The pooled estimate uses ``w_i = 1 / (v_i + tau^2)``; its CI and p follow
  Hartung-Knapp-Sidik-Jonkman (HKSJ; metafor ``test = "knha"``): the variance ``1 / sum w``
  is multiplied by ``sum w (y - mu)^2 / (k - 1)`` (not truncated at 1, as metafor 3.8's
  ``"knha"``) and the t distribution with ``k - 1`` df is used.
* **Prediction interval** for the effect in a new cohort: the parametric bootstrap on the
  confidence distribution of ``tau^2`` (Nagashima, Noma & Furukawa 2019;
  :mod:`ikaros.validation.prediction`), which keeps its level with few cohorts; beside it
  (``prediction_hts``) the plug-in interval of metafor's ``predict()`` after
  ``test = "knha"``, ``mu -/+ t_{k-1} sqrt(SE_HKSJ^2 + tau^2)``, which covers less than it
  says when ``tau^2`` is small or the cohorts few (``benchmarks/validation_sim.py``).
* **I^2 and H^2** as metafor defines them for a random-effects model:
  ``I^2 = 100 tau^2 / (tau^2 + s^2)`` and ``H^2 = (tau^2 + s^2) / s^2`` with the "typical"
  within-cohort variance ``s^2 = (k - 1) sum w / ((sum w)^2 - sum w^2)`` (``w = 1 / v``). With
  REML these are not the Q-based ``(Q - df) / Q``.
* **Confidence intervals for tau^2, I^2 and H^2** by the Q-profile method (Viechtbauer 2007;
  metafor ``confint(rma)``): the bounds of ``tau^2`` solve
  ``Q(tau^2) = sum w_i(tau^2) (y_i - mu(tau^2))^2 = chi^2_{k-1}`` quantiles (a bound is 0 when
  ``Q(0)`` is already below the quantile); I^2 and H^2 bounds are those ``tau^2`` bounds mapped
  through the formulas above.
* **Leave-one-out**: the random-effects analysis repeated without each cohort (metafor
  ``leave1out``).

Why own code: statsmodels' ``statsmodels.stats.meta_analysis`` estimates ``tau^2`` only by
DerSimonian-Laird or Paule-Mandel (no REML), ties its HKSJ variance and intervals to that
``tau^2``, reports the Q-based I^2 and has neither a prediction interval nor Q-profile intervals;
it is used here for the fixed-effect estimate and Q, where it agrees with metafor.
``tests/reference/validation/make_golden.R`` checks every number against metafor 3.8.

References
----------
Viechtbauer W. Bias and efficiency of meta-analytic variance estimators in the random-effects
model. J Educ Behav Stat 2005;30:261-293 (REML by Fisher scoring).
Viechtbauer W. Confidence intervals for the amount of heterogeneity in meta-analysis. Stat Med
2007;26:37-52 (Q-profile).
Hartung J, Knapp G. A refined method for the meta-analysis of controlled clinical trials with
binary outcome. Stat Med 2001;20:3875-3889.
Sidik K, Jonkman JN. A simple confidence interval for meta-analysis. Stat Med 2002;21:3153-3159.
Higgins JPT, Thompson SG. Quantifying heterogeneity in a meta-analysis. Stat Med
2002;21:1539-1558 (I^2, H^2).
Higgins JPT, Thompson SG, Spiegelhalter DJ. A re-evaluation of random-effects meta-analysis.
J R Stat Soc A 2009;172:137-159 (prediction interval).
Nagashima K, Noma H, Furukawa TA. Prediction intervals for random-effects meta-analysis: a
confidence distribution approach. Stat Methods Med Res 2019;28:1689-1702.
Viechtbauer W. Conducting meta-analyses in R with the metafor package. J Stat Softw
2010;36(3):1-48.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

from ikaros.errors import AnalysisError
from ikaros.validation._serial import plain
from ikaros.validation.prediction import DEFAULT_BOOTSTRAP, DEFAULT_SEED, bootstrap_prediction

__all__ = [
    "Heterogeneity",
    "LeaveOneOut",
    "MetaAnalysis",
    "Pooled",
    "PredictionInterval",
    "StudyEstimate",
    "meta_analysis",
    "reml_tau2",
]

HTS_METHOD = "t(k-1) with SE_HKSJ^2 + tau^2 (metafor predict, test='knha')"
BOOT_METHOD = (
    "parametric bootstrap on the confidence distribution of tau^2 (Nagashima, Noma & Furukawa 2019)"
)
_REML_TOL = 1e-12
_REML_MAXITER = 1000
Array = NDArray[np.float64]


@dataclass(frozen=True)
class StudyEstimate:
    """One cohort's log HR, SE, Wald CI and p, and its weight (%) in each pooled estimate."""

    name: str
    estimate: float
    se: float
    hr: float
    lower: float
    upper: float
    p: float
    weight_fixed: float
    weight_random: float


@dataclass(frozen=True)
class Pooled:
    """A pooled log hazard ratio; ``df`` is ``None`` for a normal (z) test."""

    method: str
    estimate: float
    se: float
    lower: float
    upper: float
    statistic: float
    df: int | None
    p: float
    hr: float
    hr_lower: float
    hr_upper: float


@dataclass(frozen=True)
class Heterogeneity:
    """Q test, REML tau^2 and I^2/H^2 with Q-profile confidence intervals (I^2 in percent)."""

    q: float
    q_df: int
    q_p: float
    tau2: float
    tau2_lower: float
    tau2_upper: float
    tau: float
    i2: float
    i2_lower: float
    i2_upper: float
    h2: float
    h2_lower: float
    h2_upper: float
    typical_variance: float
    tau2_method: str = "REML"
    ci_method: str = "Q-profile"
    iterations: int = 0
    converged: bool = True


@dataclass(frozen=True)
class PredictionInterval:
    """Where the true log hazard ratio of a new cohort is expected to lie."""

    lower: float
    upper: float
    df: int
    hr_lower: float
    hr_upper: float
    method: str = HTS_METHOD
    n_boot: int | None = None
    seed: int | None = None


@dataclass(frozen=True)
class LeaveOneOut:
    """The random-effects analysis without cohort ``omitted``."""

    omitted: str
    estimate: float
    se: float
    lower: float
    upper: float
    p: float
    hr: float
    tau2: float
    i2: float
    h2: float
    q: float
    q_p: float


@dataclass(frozen=True)
class MetaAnalysis:
    """Fixed- and random-effects pooling of ``k`` per-cohort log hazard ratios."""

    k: int
    conf_level: float
    studies: tuple[StudyEstimate, ...]
    fixed: Pooled
    random: Pooled
    heterogeneity: Heterogeneity
    prediction: PredictionInterval
    prediction_hts: PredictionInterval
    leave_one_out: tuple[LeaveOneOut, ...]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN as ``None``)."""
        out: dict[str, Any] = plain(self)
        return out


# --------------------------------------------------------------------------------------------
# distribution functions (scipy.special directly: scipy.stats' argument checking costs ~1 ms a
# call, which dominated simulations with thousands of meta-analyses)


def _norm_isf(a: float) -> float:
    return float(-special.ndtri(a))


def _norm_2sided(z: float) -> float:
    return float(2.0 * special.ndtr(-abs(z)))


def _t_isf(a: float, df: int) -> float:
    return float(-special.stdtrit(df, a))


def _t_2sided(t: float, df: int) -> float:
    return float(2.0 * special.stdtr(df, -abs(t)))


def _chi2_sf(x: float, df: int) -> float:
    return float(special.chdtrc(df, x))


def _chi2_isf(a: float, df: int) -> float:
    """Upper-tail quantile: the x with P(chi^2_df > x) = a."""
    return float(special.chdtri(df, a))


# --------------------------------------------------------------------------------------------
# REML


def _reml_parts(y: Array, v: Array, tau2: float) -> tuple[float, float, float]:
    """Fisher-scoring pieces of the intercept-only REML model: score, information, loglik."""
    w = 1.0 / (v + tau2)
    sw = w.sum()
    mu = float(np.dot(w, y) / sw)
    py = w * (y - mu)  # P y with P = W - w w' / sum(w)
    sw2 = float(np.sum(w**2))
    tr_p = sw - sw2 / sw
    tr_pp = sw2 - 2.0 * float(np.sum(w**3)) / sw + sw2**2 / sw**2
    score = float(np.dot(py, py)) - tr_p  # 2 x dl/dtau2
    ll = -0.5 * (float(np.sum(np.log(v + tau2))) + np.log(sw) + float(np.dot(w, (y - mu) ** 2)))
    return score, tr_pp, ll


def _reml_bracketed(y: Array, v: Array) -> float:
    """Global REML maximum by scanning the score for sign changes and bracketing each root."""
    grid = np.concatenate(
        [[0.0], np.geomspace(1e-10 * float(v.mean()), 100.0 * float(v.max()), 400)]
    )
    score = np.array([_reml_parts(y, v, t)[0] for t in grid])
    candidates = [0.0] if score[0] <= 0.0 else []
    for i in np.flatnonzero((score[:-1] > 0.0) & (score[1:] <= 0.0)):
        root = optimize.brentq(
            lambda t: _reml_parts(y, v, t)[0], grid[i], grid[i + 1], xtol=1e-15, rtol=1e-14
        )
        candidates.append(float(root))
    if not candidates:  # score positive everywhere on the grid: tau^2 beyond 100 x max(v)
        return float("nan")
    return max(candidates, key=lambda t: _reml_parts(y, v, t)[2])


def reml_tau2(y: ArrayLike, v: ArrayLike) -> tuple[float, int, bool]:
    """REML estimate of the between-cohort variance ``tau^2`` (intercept-only model).

    Fisher scoring from the Hedges (HE) estimate, with step halving at the boundary 0, as in
    metafor's ``rma.uni(method = "REML")``, iterated until the change is below 1e-12. Fisher
    scoring can oscillate when the expected information is far below the observed one (metafor
    then stops with "Fisher scoring algorithm did not converge"); in that case the maximum is
    found instead by bracketing the roots of the REML score on a grid (Brent's method) and
    keeping the one of highest restricted likelihood (0 when the score is negative there), and
    ``iterations`` is reported as 0.

    Returns
    -------
    tau2, iterations, converged
    """
    yy = np.asarray(y, dtype=float)
    vv = np.asarray(v, dtype=float)
    k = yy.size
    tau2 = max(0.0, float(np.var(yy, ddof=1)) - float(np.mean(vv)))  # Hedges (HE) start
    converged = False
    it = 0
    for it in range(1, _REML_MAXITER + 1):  # noqa: B007 - iterations reported
        score, info, _ = _reml_parts(yy, vv, tau2)
        adj = score / info
        while tau2 + adj < 0.0:
            adj /= 2.0
        new = tau2 + adj
        change = abs(new - tau2)
        tau2 = new
        if change < _REML_TOL * max(1.0, tau2):
            converged = True
            break
    if not converged:
        tau2 = _reml_bracketed(yy, vv)
        return tau2, 0, bool(np.isfinite(tau2))
    if k > 1:
        score0, _, ll0 = _reml_parts(yy, vv, 0.0)
        _, _, ll = _reml_parts(yy, vv, tau2)
        if score0 <= 0.0 and ll0 >= ll - 1e-12 * max(1.0, abs(ll)):
            tau2 = 0.0  # the restricted likelihood is maximal at the boundary
    return float(tau2), it, converged


# --------------------------------------------------------------------------------------------
# pieces


def _typical_variance(v: Array) -> float:
    w = 1.0 / v
    k = v.size
    return float((k - 1) * w.sum() / (w.sum() ** 2 - np.sum(w**2)))


def _generalised_q(y: Array, v: Array, tau2: float) -> float:
    w = 1.0 / (v + tau2)
    mu = float(np.dot(w, y) / w.sum())
    return float(np.dot(w, (y - mu) ** 2))


def _q_profile(y: Array, v: Array, conf_level: float) -> tuple[float, float]:
    """Q-profile confidence interval of tau^2 (Viechtbauer 2007; metafor ``confint``)."""
    k = y.size
    alpha = 1.0 - conf_level
    q0 = _generalised_q(y, v, 0.0)

    def solve(target: float) -> float:
        if q0 <= target:
            return 0.0
        hi = max(1.0, 10.0 * float(v.max()))
        while _generalised_q(y, v, hi) > target:
            hi *= 10.0
            if hi > 1e12:
                return float("nan")
        root = optimize.brentq(
            lambda t: _generalised_q(y, v, t) - target, 0.0, hi, xtol=1e-15, rtol=1e-14
        )
        return float(root)

    lower = solve(_chi2_isf(alpha / 2.0, k - 1))
    upper = solve(_chi2_isf(1.0 - alpha / 2.0, k - 1))
    return lower, upper


def _i2(tau2: float, s2: float) -> float:
    return 100.0 * tau2 / (tau2 + s2)


def _h2(tau2: float, s2: float) -> float:
    return (tau2 + s2) / s2


def _pooled(method: str, est: float, se: float, df: int | None, conf_level: float) -> Pooled:
    alpha = 1.0 - conf_level
    stat = est / se if se > 0 else float("nan")
    if df is None:
        crit = _norm_isf(alpha / 2.0)
        p = _norm_2sided(stat)
    else:
        crit = _t_isf(alpha / 2.0, df)
        p = _t_2sided(stat, df)
    lo, hi = est - crit * se, est + crit * se
    return Pooled(
        method,
        est,
        se,
        lo,
        hi,
        stat,
        df,
        p,
        float(np.exp(est)),
        float(np.exp(lo)),
        float(np.exp(hi)),
    )


def _fixed(y: Array, v: Array, conf_level: float) -> tuple[Pooled, float]:
    from statsmodels.stats.meta_analysis import combine_effects

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # statsmodels also computes its own random-effects parts, unused here, and warns on
        # their degenerate cases (tau^2 = 0, identical estimates)
        warnings.simplefilter("ignore", RuntimeWarning)
        res = combine_effects(y, v, method_re="chi2")
    pooled = _pooled(
        "fixed effect (inverse variance)",
        float(res.mean_effect_fe),
        float(res.sd_eff_w_fe),
        None,
        conf_level,
    )
    return pooled, float(res.q)


def _random(y: Array, v: Array, tau2: float, conf_level: float) -> Pooled:
    k = y.size
    w = 1.0 / (v + tau2)
    mu = float(np.dot(w, y) / w.sum())
    scale = float(np.dot(w, (y - mu) ** 2)) / (k - 1)
    se = float(np.sqrt(scale / w.sum()))
    return _pooled("random effects (REML, Hartung-Knapp-Sidik-Jonkman)", mu, se, k - 1, conf_level)


def _check(
    estimates: ArrayLike, ses: ArrayLike, names: Sequence[str] | None
) -> tuple[Array, Array, list[str]]:
    y = np.asarray(estimates, dtype=float).ravel()
    s = np.asarray(ses, dtype=float).ravel()
    if y.size != s.size:
        raise AnalysisError("meta-analysis: estimates and standard errors differ in length")
    labels = [f"cohort {i + 1}" for i in range(y.size)] if names is None else list(names)
    if len(labels) != y.size:
        raise AnalysisError("meta-analysis: one name per cohort is needed")
    if len(set(labels)) != len(labels):
        raise AnalysisError(f"meta-analysis: cohort names must be unique, got {labels}")
    if y.size < 2:
        raise AnalysisError(
            f"meta-analysis needs at least 2 cohorts with an estimate, got {y.size}"
        )
    for name, yi, si in zip(labels, y, s, strict=True):
        if not np.isfinite(yi):
            raise AnalysisError(f"meta-analysis: cohort {name!r} has no finite log hazard ratio")
        if not (np.isfinite(si) and si > 0):
            raise AnalysisError(
                f"meta-analysis: cohort {name!r} has standard error {si}; it must be positive"
            )
    return y, s, labels


def _heterogeneity(y: Array, v: Array, q: float, conf_level: float) -> Heterogeneity:
    k = y.size
    tau2, iterations, converged = reml_tau2(y, v)
    s2 = _typical_variance(v)
    lo, hi = _q_profile(y, v, conf_level)
    if not converged:
        tau2 = float("nan")
    return Heterogeneity(
        q=q,
        q_df=k - 1,
        q_p=_chi2_sf(q, k - 1),
        tau2=tau2,
        tau2_lower=lo,
        tau2_upper=hi,
        tau=float(np.sqrt(tau2)),
        i2=_i2(tau2, s2),
        i2_lower=_i2(lo, s2),
        i2_upper=_i2(hi, s2),
        h2=_h2(tau2, s2),
        h2_lower=_h2(lo, s2),
        h2_upper=_h2(hi, s2),
        typical_variance=s2,
        iterations=iterations,
        converged=converged,
    )


def _leave_one_out(
    y: Array, v: Array, names: list[str], conf_level: float
) -> tuple[LeaveOneOut, ...]:
    out = []
    for i, name in enumerate(names):
        keep = np.arange(y.size) != i
        yi, vi = y[keep], v[keep]
        tau2, _, converged = reml_tau2(yi, vi)
        tau2 = tau2 if converged else float("nan")
        pooled = _random(yi, vi, tau2, conf_level)
        _, q = _fixed(yi, vi, conf_level)
        s2 = _typical_variance(vi)
        out.append(
            LeaveOneOut(
                omitted=name,
                estimate=pooled.estimate,
                se=pooled.se,
                lower=pooled.lower,
                upper=pooled.upper,
                p=pooled.p,
                hr=pooled.hr,
                tau2=tau2,
                i2=_i2(tau2, s2),
                h2=_h2(tau2, s2),
                q=q,
                q_p=_chi2_sf(q, yi.size - 1),
            )
        )
    return tuple(out)


def meta_analysis(
    estimates: ArrayLike,
    ses: ArrayLike,
    names: Sequence[str] | None = None,
    *,
    conf_level: float = 0.95,
    leave_one_out: bool = True,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
) -> MetaAnalysis:
    """Fixed- and random-effects (REML + HKSJ) meta-analysis of per-cohort log hazard ratios.

    Parameters
    ----------
    estimates, ses
        Per-cohort log hazard ratios and their standard errors (at least 2 cohorts).
    names
        Cohort names (default ``cohort 1`` ...), unique.
    conf_level
        Level of every interval (pooled CIs, prediction interval, tau^2/I^2/H^2 intervals).
    leave_one_out
        Also repeat the random-effects analysis without each cohort (needs ``k >= 3``).
    n_boot, seed
        Draws and seed of the bootstrap prediction interval
        (:func:`ikaros.validation.prediction.bootstrap_prediction`).

    Returns
    -------
    MetaAnalysis

    Notes
    -----
    With ``k = 2`` the HKSJ interval and the prediction interval use 1 df and are very wide;
    that is the method's honest answer, not an error.

    References
    ----------
    See the module docstring (Viechtbauer 2005, 2007, 2010; Hartung & Knapp 2001; Sidik &
    Jonkman 2002; Higgins & Thompson 2002; Higgins, Thompson & Spiegelhalter 2009).
    """
    if not 0.0 < conf_level < 1.0:
        raise AnalysisError(f"conf_level must lie in (0, 1), got {conf_level}")
    y, s, labels = _check(estimates, ses, names)
    v = s**2
    k = y.size
    fixed, q = _fixed(y, v, conf_level)
    het = _heterogeneity(y, v, q, conf_level)
    notes: list[str] = []
    if not het.converged:
        notes.append("REML estimate of tau^2 did not converge; random-effects results are NaN")
    elif het.iterations == 0:
        notes.append(
            "REML Fisher scoring oscillated; tau^2 is the maximum found by bracketing the REML "
            "score (metafor needs control = list(stepadj = 0.5) here)"
        )
    random = _random(y, v, het.tau2, conf_level)
    crit = _t_isf((1.0 - conf_level) / 2.0, k - 1)
    half = crit * float(np.sqrt(random.se**2 + het.tau2))
    hts = PredictionInterval(
        random.estimate - half,
        random.estimate + half,
        k - 1,
        float(np.exp(random.estimate - half)),
        float(np.exp(random.estimate + half)),
    )
    boot = bootstrap_prediction(y, s, conf_level=conf_level, n_boot=n_boot, seed=seed)
    pi = PredictionInterval(
        boot.lower,
        boot.upper,
        k - 1,
        float(np.exp(boot.lower)),
        float(np.exp(boot.upper)),
        BOOT_METHOD,
        n_boot,
        seed,
    )
    w_fe = 1.0 / v
    w_re = 1.0 / (v + het.tau2)
    z = _norm_isf((1.0 - conf_level) / 2.0)
    studies = tuple(
        StudyEstimate(
            name=labels[i],
            estimate=float(y[i]),
            se=float(s[i]),
            hr=float(np.exp(y[i])),
            lower=float(np.exp(y[i] - z * s[i])),
            upper=float(np.exp(y[i] + z * s[i])),
            p=_norm_2sided(float(y[i] / s[i])),
            weight_fixed=float(100.0 * w_fe[i] / w_fe.sum()),
            weight_random=float(100.0 * w_re[i] / w_re.sum()),
        )
        for i in range(k)
    )
    loo: tuple[LeaveOneOut, ...] = ()
    if leave_one_out:
        if k >= 3:
            loo = _leave_one_out(y, v, labels, conf_level)
        else:
            notes.append("leave-one-out needs at least 3 cohorts")
    return MetaAnalysis(k, conf_level, studies, fixed, random, het, pi, hts, loo, tuple(notes))
