"""Round trip of the IPD reconstruction with known truth, full size.

Simulates two-arm trials (100-400 patients per arm; proportional hazards, delayed effect and
crossing hazards in turn; HR uniform on 0.5-1.0), digitises their Kaplan-Meier curves with
100-300 points and small noise (1/500 of the axes, across the drawn line), takes the numbers at
risk at the 6-8 ticks of the time axis, reconstructs the patients (with the at-risk tables; with
the total events only; with the number of patients only) and compares with the true patients:
largest |KM reconstructed - KM original| (all times, and where >= 10 are at risk), the same for
the digitised curve itself, |median error|, |log HR error| and |RMST difference error|. Also
reconstructs competing-risks arms (two digitised cumulative incidences + at-risk table) and
compares the Aalen-Johansen curves. See ikaros.ipd.roundtrip and ikaros.ipd.simulate.

Usage: python benchmarks/ipd_roundtrip.py [--trials 240] [--seed 20240517] [--noise 0.002]
       [--competing 60]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from ikaros.ipd.compare import step_values
from ikaros.ipd.competing import reconstruct_competing
from ikaros.ipd.digitised import clean_points
from ikaros.ipd.roundtrip import run_roundtrip
from ikaros.ipd.simulate import simulate_competing_arm
from ikaros.stats.competing import aalen_johansen

LABELS = {1: "event", 2: "competing"}


def _summary(frame: pd.DataFrame, columns: list[str], by: list[str]) -> str:
    stats = frame.groupby(by)[columns].agg(["median", "mean", lambda s: s.quantile(0.9)])
    stats = stats.rename(columns={"<lambda_0>": "p90"})
    return stats.to_string(float_format=lambda x: f"{x:.4f}")


def _competing(n_arms: int, seed: int, noise: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_arms):
        arm = simulate_competing_arm(
            rng,
            n=int(rng.integers(100, 401)),
            event_median=float(rng.uniform(24, 72)),
            competing_median=float(rng.uniform(60, 150)),
            n_points=(int(rng.integers(100, 301)), int(rng.integers(100, 301))),
            noise=noise,
        )
        c1 = clean_points(*arm.event_points, kind="incidence")
        c2 = clean_points(*arm.competing_points, kind="incidence")
        rec = reconstruct_competing(
            c1.time, 1 - c1.surv, c2.time, 1 - c2.surv, n_risk=arm.risk_n, risk_time=arm.risk_time
        )
        truth = aalen_johansen(arm.time, arm.status, cause_labels=LABELS)["all"]
        rebuilt = aalen_johansen(rec.time, rec.status, cause_labels=LABELS)["all"]
        for code, cause in LABELS.items():
            a, b = truth[cause], rebuilt[cause]
            grid = np.union1d(a.time, b.time)
            grid = grid[grid <= min(a.time[-1], b.time[-1])]
            at_risk = np.array([np.sum(arm.time >= g) for g in grid])
            diff = np.abs(
                step_values(a.time, a.estimate, grid, 0.0)
                - step_values(b.time, b.estimate, grid, 0.0)
            )
            rows.append(
                {
                    "arm": i,
                    "cause": cause,
                    "sup": float(diff.max()),
                    "sup_n10": float(diff[at_risk >= 10].max()),
                    "events_error": rec.count(code) - int(np.sum(arm.status == code)),
                    "mismatches": rec.all_cause.at_risk_mismatches,
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=240)
    parser.add_argument("--seed", type=int, default=20240517)
    parser.add_argument("--noise", type=float, default=0.002)
    parser.add_argument("--competing", type=int, default=60)
    args = parser.parse_args()
    pd.set_option("display.width", 200)

    t0 = time.perf_counter()
    arms, trials = run_roundtrip(args.trials, seed=args.seed, noise=args.noise)
    elapsed = time.perf_counter() - t0
    print(
        f"{args.trials} trials ({len(arms) // 3} arms per mode), seed {args.seed}, noise "
        f"{args.noise}: {elapsed:.1f} s\n"
    )
    print("Per arm: largest |KM difference| (all times; >= 10 at risk; digitised curve alone),")
    print("|median error| (months), reconstructed - true events")
    print(
        _summary(
            arms,
            ["sup", "sup_n10", "digitised_sup", "median_error", "events_error"],
            ["mode"],
        )
    )
    print("\nPer trial: |log HR error|, |RMST difference error| (months)")
    print(_summary(trials, ["log_hr_error", "rmst_diff_error"], ["mode"]))
    print("\n|log HR error| by scenario")
    print(_summary(trials, ["log_hr_error"], ["mode", "scenario"]))
    undefined = arms["median_error"].isna().groupby(arms["mode"]).sum()
    print(f"\nmedians not reached in truth or reconstruction (excluded): {undefined.to_dict()}")
    if args.competing:
        t0 = time.perf_counter()
        cr = _competing(args.competing, args.seed + 1, args.noise)
        print(
            f"\nCompeting risks: {args.competing} arms ({time.perf_counter() - t0:.1f} s), "
            "largest |Aalen-Johansen difference| and events error per cause"
        )
        print(_summary(cr, ["sup", "sup_n10", "events_error", "mismatches"], ["cause"]))


if __name__ == "__main__":
    main()
