"""Simulation with known truth for ikaros.validation (full size; tests have a reduced one).

Four checks, each over ``--reps`` (default 1000; >= 500) seeded replicates:

A. **Size** of the treatment-by-marker interaction test for a purely prognostic marker
   (log HR 1.5 per SD in both arms, treatment HR 0.7, 300 patients, 1:1): rejection at 5% of the
   likelihood-ratio and Wald tests (continuous marker) and of the LR test at the median cut.
   Target 3-7%.
B. **Power** for a predictive marker (interaction log HR ``--gamma`` per SD, no prognostic
   effect). Expected power two ways: from the large-sample variance of the product term,
   ``Var = 4 / D`` for a standard normal marker independent of a 1:1 arm (D = events; the
   inverse information at the null, [[1, 0, 1/2], [0, 1/4, 0], [1/2, 0, 1/2]]^-1 has 4 in the
   product corner), and from the mean estimated SE; the empirical power should lie within 3
   Monte Carlo SEs of the latter.
C. **Prediction interval coverage**: 8 cohorts of 200 patients, true cohort log HRs drawn from
   N(log 1.4, tau^2), per-cohort Cox + REML/HKSJ meta-analysis; coverage of a new cohort's true
   effect (exact conditional probability averaged, and one draw per replicate) by the bootstrap
   prediction interval (Nagashima et al. 2019; ikaros' default) and by the plug-in one (metafor
   predict), and coverage of mu by the HKSJ interval. Target ~95%.
D. **STEPP permutation p under the null** of no interaction (200 patients, ``--perms``
   permutations), with the marker unrelated to outcome (the permutation null holds exactly) and
   with a prognostic marker (log HR 1.5 per SD in both arms: permuting the marker within arms
   then also removes its prognostic effect, so the test is only approximate): Kolmogorov-Smirnov
   test of uniformity, fraction <= 0.05 and <= 0.10, for both effect measures.

Usage: python benchmarks/validation_sim.py [--reps 1000] [--perms 200] [--gamma -0.3]
       [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np
from scipy import stats

from ikaros.validation.multicohort import CohortData, validate_cohorts
from ikaros.validation.predictive import treatment_by_marker
from ikaros.validation.simulate import TwoArmDesign, simulate_multicohort, simulate_two_arm
from ikaros.validation.stepp import stepp


def _rate(x: list[bool]) -> dict[str, float]:
    p = float(np.mean(x))
    return {"rate": p, "mc_se": float(np.sqrt(p * (1 - p) / len(x)))}


def size(reps: int) -> dict[str, Any]:
    design = TwoArmDesign(n=300, beta_marker=float(np.log(1.5)), gamma=0.0)
    lr, wald, cut_lr = [], [], []
    for rep in range(reps):
        d = simulate_two_arm(1_000_000 + rep, design)
        r = treatment_by_marker(
            d["time"], d["event"], d["marker"], d["treatment"], cut=0.0, reference="control"
        )
        assert r.continuous is not None and r.cut_model is not None
        assert r.continuous.lr_p is not None and r.cut_model.lr_p is not None
        lr.append(r.continuous.lr_p <= 0.05)
        wald.append(r.continuous.interaction.p <= 0.05)
        cut_lr.append(r.cut_model.lr_p <= 0.05)
    return {"continuous_lr": _rate(lr), "continuous_wald": _rate(wald), "cut_lr": _rate(cut_lr)}


def power(reps: int, gamma: float) -> dict[str, Any]:
    design = TwoArmDesign(n=300, beta_marker=0.0, gamma=gamma)
    rejected, ses, events, coefs = [], [], [], []
    for rep in range(reps):
        d = simulate_two_arm(2_000_000 + rep, design)
        r = treatment_by_marker(
            d["time"], d["event"], d["marker"], d["treatment"], cut=0.0, reference="control"
        )
        assert r.continuous is not None and r.continuous.lr_p is not None
        rejected.append(r.continuous.lr_p <= 0.05)
        ses.append(r.continuous.interaction.se)
        coefs.append(r.continuous.interaction.coef)
        events.append(r.events)
    z = stats.norm.isf(0.025)
    mean_d = float(np.mean(events))
    se_formula = 2.0 / np.sqrt(mean_d)
    se_mean = float(np.mean(ses))

    def pw(se: float) -> float:
        return float(stats.norm.cdf(abs(gamma) / se - z) + stats.norm.cdf(-abs(gamma) / se - z))

    emp = _rate(rejected)
    return {
        "gamma": gamma,
        "mean_events": mean_d,
        "mean_estimate": float(np.mean(coefs)),
        "empirical": emp,
        "expected_from_4_over_D": pw(se_formula),
        "expected_from_mean_se": pw(se_mean),
        "within_3_mc_se_of_mean_se_expectation": abs(emp["rate"] - pw(se_mean)) <= 3 * emp["mc_se"],
    }


def prediction(reps: int, tau: float) -> dict[str, Any]:
    mu = float(np.log(1.4))
    exact: dict[str, list[float]] = {"bootstrap": [], "plug_in_hts": []}
    drawn: dict[str, list[bool]] = {"bootstrap": [], "plug_in_hts": []}
    ci = []
    rng = np.random.default_rng(3_000_000)
    for rep in range(reps):
        df, _ = simulate_multicohort(3_000_000 + rep, n=(200,) * 8, mu=mu, tau=tau)
        cohorts = [
            CohortData(c, g["time"].to_numpy(), g["event"].to_numpy(), g["marker"].to_numpy())
            for c, g in df.groupby("cohort")
        ]
        v = validate_cohorts(cohorts, marker="marker", endpoint="os")
        m = v.meta_continuous
        assert m is not None
        new = mu + tau * rng.standard_normal()
        for name, pi in (("bootstrap", m.prediction), ("plug_in_hts", m.prediction_hts)):
            lo, hi = pi.lower, pi.upper
            if tau > 0:
                p_in = stats.norm.cdf((hi - mu) / tau) - stats.norm.cdf((lo - mu) / tau)
                exact[name].append(float(p_in))
            drawn[name].append(lo <= new <= hi)
        ci.append(m.random.lower <= mu <= m.random.upper)
    out: dict[str, Any] = {"tau": tau, "k": 8}
    for name in exact:
        e = exact[name]
        out[f"pi_{name}_coverage_exact_mean"] = float(np.mean(e)) if e else None
        out[f"pi_{name}_coverage_exact_mc_se"] = float(np.std(e) / np.sqrt(len(e))) if e else None
        out[f"pi_{name}_coverage_one_draw"] = _rate(drawn[name])
    out["hksj_ci_coverage_of_mu"] = _rate(ci)
    return out


def stepp_null(reps: int, perms: int, beta_marker: float) -> dict[str, Any]:
    design = TwoArmDesign(n=200, beta_marker=beta_marker, gamma=0.0)
    ps: dict[str, list[float]] = {"log hazard ratio": [], "survival difference": []}
    for rep in range(reps):
        d = simulate_two_arm(4_000_000 + rep, design)
        r = stepp(
            d["time"],
            d["event"],
            d["marker"],
            (d["treatment"] == "active").astype(int),
            landmark=24.0,
            r1=50,
            r2=80,
            n_perm=perms,
            seed=rep,
        )
        for t in (r.test_hr, r.test_diff):
            if t is not None:
                ps[t.measure].append(t.p)
    out = {}
    for k, v in ps.items():
        a = np.asarray(v)
        out[k] = {
            "n": int(a.size),
            "ks_p": float(stats.kstest(a, "uniform").pvalue),
            "fraction_le_0.05": float(np.mean(a <= 0.05)),
            "fraction_le_0.10": float(np.mean(a <= 0.10)),
            "mean": float(a.mean()),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--perms", type=int, default=200)
    ap.add_argument("--gamma", type=float, default=-0.3)
    ap.add_argument("--out", default=None)
    ap.add_argument("--only", default=None, help="run only the checks whose name starts so")
    args = ap.parse_args()
    result: dict[str, Any] = {"reps": args.reps}
    for name, fn in (
        ("A_size_prognostic_marker", lambda: size(args.reps)),
        ("B_power_predictive_marker", lambda: power(args.reps, args.gamma)),
        ("C_prediction_interval_tau_0.2", lambda: prediction(args.reps, 0.2)),
        ("C_prediction_interval_tau_0.1", lambda: prediction(args.reps, 0.1)),
        ("D_stepp_null_marker_unrelated", lambda: stepp_null(args.reps, args.perms, 0.0)),
        (
            "D_stepp_null_prognostic_marker",
            lambda: stepp_null(args.reps, args.perms, float(np.log(1.5))),
        ),
    ):
        if args.only and not name.startswith(args.only):
            continue
        t0 = time.perf_counter()
        result[name] = fn()
        result[name]["seconds"] = round(time.perf_counter() - t0, 1)
        print(name, json.dumps(result[name], indent=1), flush=True)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=2)


if __name__ == "__main__":
    main()
