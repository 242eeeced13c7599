"""Benchmark: one Cox fit (Efron ties) by the own engine, lifelines and R coxph, n = 1k .. 1M.

Seeded cohorts (three covariates: a log2-like marker, age, a 0/1 risk factor; times in whole
days converted to months, so event times are tied). Per size:

- ikaros ``fit_cox`` (``ph_test=False``), and ``fit_cox`` with the Schoenfeld PH test, and the
  Kaplan-Meier curve of the whole cohort: wall time, median of ``--repeats``;
- lifelines ``CoxPHFitter`` (default settings) up to ``--lifelines-max`` patients;
- R ``coxph(..., ties = "efron")``: the same data written to CSV, timed inside R (compute
  only, median of the repeats; whole ``Rscript`` process time printed beside), when Rscript
  is installed. The largest relative difference of the hazard ratios from R is printed.

Not a unit test (times depend on the machine). Usage:

    python benchmarks/bench_cox_engine.py [--sizes 1000 10000 100000 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ikaros.stats.cox import fit_cox
from ikaros.stats.km import kaplan_meier

DAYS_PER_MONTH = 30.4375
COVARIATES = ["marker", "age", "risk"]

R_SCRIPT = r"""
suppressPackageStartupMessages(library(survival))
args <- commandArgs(TRUE)
d <- read.csv(args[1])
reps <- as.integer(args[2])
times <- numeric(reps)
for (i in seq_len(reps)) {
  times[i] <- system.time(
    fit <- coxph(Surv(time, event) ~ marker + age + risk, data = d, ties = "efron")
  )[["elapsed"]]
}
cat(median(times), exp(coef(fit)), "\n")
"""


def simulate(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    marker = np.round(rng.normal(8.0, 1.0, n), 3)
    age = np.round(rng.normal(62.0, 9.0, n), 1)
    risk = (rng.uniform(size=n) < 0.25).astype(float)
    lp = -0.4 * (marker - 8.0) + 0.02 * (age - 62.0) + 0.5 * risk
    te = rng.exponential(40.0 * 30.4375, n) / np.exp(lp)
    tc = rng.uniform(6.0, 96.0, n) * DAYS_PER_MONTH
    days = np.maximum(1.0, np.ceil(np.minimum(te, tc)))
    return pd.DataFrame(
        {
            "time": np.round(days / DAYS_PER_MONTH, 6),
            "event": (te <= tc).astype(int),
            "marker": marker,
            "age": age,
            "risk": risk,
        }
    )


def _median_time(fn: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000, 1000000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lifelines-max", type=int, default=100000)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    rscript = shutil.which("Rscript")
    header = (
        f"{'n':>9} {'events':>8} {'times':>6} | {'ikaros':>8} {'+PH':>8} {'KM':>7} | "
        f"{'lifelines':>9} | {'R coxph':>8} {'Rscript':>8} | {'x lifel.':>8} {'x R':>6} | "
        "max |HR/R-1|"
    )
    print(header)
    print("-" * len(header))
    for n in args.sizes:
        d = simulate(n, args.seed)
        t, e, X = d["time"].to_numpy(), d["event"].to_numpy(), d[COVARIATES]
        fit = fit_cox(t, e, X, ph_test=False)
        ours = _median_time(lambda: fit_cox(t, e, X, ph_test=False), args.repeats)  # noqa: B023
        with_ph = _median_time(lambda: fit_cox(t, e, X), args.repeats)  # noqa: B023
        km = _median_time(lambda: kaplan_meier(t, e), args.repeats)  # noqa: B023
        lif = float("nan")
        if n <= args.lifelines_max:
            from lifelines import CoxPHFitter

            lif = _median_time(
                lambda: CoxPHFitter().fit(d, "time", "event"),  # noqa: B023
                1 if n >= 100000 else args.repeats,
            )
        r_fit = r_whole = float("nan")
        dev = float("nan")
        if rscript:
            with tempfile.TemporaryDirectory() as tmp:
                csv = Path(tmp) / "d.csv"
                script = Path(tmp) / "fit.R"
                d.to_csv(csv, index=False)
                script.write_text(R_SCRIPT)
                start = time.perf_counter()
                out = subprocess.run(
                    [rscript, str(script), str(csv), str(args.repeats)],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.split()
                r_whole = time.perf_counter() - start
            r_fit = float(out[0])
            r_hr = np.array([float(v) for v in out[1:]])
            ours_hr = np.array([fit.terms[c].hr for c in COVARIATES])
            dev = float(np.max(np.abs(ours_hr / r_hr - 1.0)))
        distinct = int(np.unique(t[e == 1]).size)
        print(
            f"{n:>9,} {int(e.sum()):>8,} {distinct:>6,} | {ours:>7.3f}s {with_ph:>7.3f}s "
            f"{km:>6.3f}s | {lif:>8.3f}s | {r_fit:>7.3f}s {r_whole:>7.2f}s | "
            f"{lif / ours:>8.0f} {r_fit / ours:>6.1f} | {dev:.1e}"
        )
    print(
        "\nikaros: fit_cox without / with the cox.zph test; KM: the whole-cohort curve. "
        "R coxph: compute time inside R (default eps 1e-9, so HRs differ by up to ~1e-6); "
        "Rscript: the whole process incl. reading the CSV."
    )


if __name__ == "__main__":
    main()
