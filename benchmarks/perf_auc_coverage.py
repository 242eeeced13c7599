"""Coverage of the 95% CI of the time-dependent AUC (full-size version of the test).

Simulation model and true AUC(t): tests/performance/simulation.py (x ~ N(0, 1), exponential
event times with hazard 0.02 exp(0.8 x) per month, uniform censoring on (0, 120) months; the
score is x). Also checks the quadrature truth against 400,000 uncensored draws.

Run:  .venv/bin/python benchmarks/perf_auc_coverage.py [--reps 2000] [--seed 2026]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the simulation lives in tests/
from tests.performance.simulation import BETA, RATE, TIMES, auc_coverage, true_auc


def _check_truth(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 400_000
    x = rng.normal(size=n)
    t_event = rng.exponential(1.0 / (RATE * np.exp(BETA * x)))
    for t in TIMES:
        cases, controls = x[t_event <= t], x[t_event > t]
        order = np.sort(controls)
        below = np.searchsorted(order, cases, side="left")
        empirical = below.sum() / (cases.size * controls.size)
        print(
            f"truth t={t:g}: quadrature {true_auc(t):.5f}, uncensored Monte Carlo {empirical:.5f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    _check_truth(args.seed)
    for n in (150, 500):
        start = time.perf_counter()
        cov = auc_coverage(reps=args.reps, n=n, seed=args.seed + n)
        took = time.perf_counter() - start
        mc = np.sqrt(0.95 * 0.05 / args.reps)
        print(f"\nn = {n}, {args.reps} data sets ({took:.1f} s); MC SE of a coverage {mc:.4f}")
        for t in TIMES:
            print(
                f"  t={t:>4g}: true AUC {cov.truth[t]:.4f}  coverage {cov.coverage[t]:.3f}  "
                f"bias {cov.bias[t]:+.4f}  mean SE {cov.mean_se[t]:.4f}  SD {cov.sd_auc[t]:.4f}"
            )


if __name__ == "__main__":
    main()
