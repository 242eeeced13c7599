"""Benchmark: ``ikaros analyze`` against an R script doing the same computations, 1k to 1M patients.

Seeded DSMM-XII-like cohorts (:func:`ikaros.simulate.simulate_cohort`, 20% cytogenetic high
risk, times in months with 2 decimals, so event times are heavily tied at large n) are written
to ``--workdir`` (default ``/tmp/ikaros-bench-analyze``; never into the repository) and reused
between runs. Per size and design (1 marker x 1 endpoint; 4 markers x 2 endpoints), measured in
one run on the same file:

- ikaros, whole command: ``ikaros analyze COHORT -m ... -e ... --transform log2 --quiet`` as a
  new process (interpreter start, imports, reading and validating the cohort, every analysis,
  writing results.json): wall time (median of ``--repeats``), peak resident memory;
- ikaros, compute only: ``run_study`` in a fresh process after the cohort was loaded (the
  loading and the imports are timed and printed beside it);
- R, whole process: ``Rscript analyze_equivalent.R`` (the same computations with survival:
  survfit, survdiff incl. stratified and trend, coxph + cox.zph for all eight models, the
  interaction LR test, subgroups, Kruskal-Wallis and Wilcoxon, reverse Kaplan-Meier) and its
  compute-only time measured inside R; peak resident memory.

Printed: both times, the ratios R / ikaros (whole process and compute only; > 1 means ikaros is
faster), peak memory, and the largest relative difference between ikaros' and R's hazard ratios
over every Cox model (R coxph with its default convergence, ``eps = 1e-9``).

Not a unit test (times depend on the machine; the load average is printed). Usage::

    python benchmarks/bench_analyze.py [--sizes 1000 10000 100000 1000000]
        [--designs 1x1 4x2] [--repeats 3] [--r-max 1000000]
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_startup import Run, ikaros_command, load_average, run_process  # noqa: E402

MARKERS = ("IKZF1", "IKZF3", "CRBN", "BSG")
ENDPOINTS = ("pfs", "os")
DESIGNS = {"1x1": (MARKERS[:1], ENDPOINTS[:1]), "4x2": (MARKERS, ENDPOINTS)}
SEED = 20170715
HR_REL = 1e-6

INNER = r"""
import json, sys, time
t0 = time.perf_counter()
from ikaros.cohort import load_cohort
from ikaros.study import StudyOptions, run_study
t1 = time.perf_counter()
path, out = sys.argv[1], sys.argv[4]
markers, endpoints = sys.argv[2].split(","), sys.argv[3].split(",")
cohort = load_cohort(path, markers=tuple(markers), endpoints=tuple(endpoints))
t2 = time.perf_counter()
res = run_study(cohort, StudyOptions(tuple(markers), tuple(endpoints), transform="log2"))
t3 = time.perf_counter()
hrs = []
for a in res.analyses:
    models = {
        "continuous": a.cox_univariate,
        "group": a.cox_group,
        "multivariable": a.cox_multivariable,
        "group_multivariable": a.cox_group_multivariable,
    }
    for sub in a.subgroups:
        models["subgroup_0" if sub.name.startswith("standard") else "subgroup_1"] = (
            sub.cox_continuous
        )
    for name, model in models.items():
        if model is not None:
            for k, term in enumerate(model.terms.values(), start=1):
                hrs.append([a.marker, a.endpoint, name, k, term.hr])
    if a.interaction is not None:
        hrs.append([a.marker, a.endpoint, "interaction", 3, a.interaction.hr])
json.dump({"imports": t1 - t0, "load": t2 - t1, "study": t3 - t2, "hr": hrs}, open(out, "w"))
"""


def cohort_file(workdir: Path, n: int, seed: int) -> Path:
    """The seeded cohort of ``n`` patients as CSV (generated once, then reused)."""
    path = workdir / f"cohort_{n}_{seed}.csv"
    if not path.exists():
        from ikaros.simulate import DemoParameters, simulate_cohort

        t0 = time.perf_counter()
        frame = simulate_cohort(seed, DemoParameters(n=n, n_high_risk=round(0.2 * n)))
        tmp = path.with_suffix(".part")
        frame.to_csv(tmp, index=False)
        tmp.replace(path)
        print(f"  (generated {path.name} in {time.perf_counter() - t0:.1f} s)")
    return path


def ikaros_whole(path: Path, markers: tuple[str, ...], endpoints: tuple[str, ...],
                 out: Path, repeats: int) -> list[Run]:  # fmt: skip
    cmd = [*ikaros_command(), "analyze", str(path), "--transform", "log2", "--quiet"]
    for m in markers:
        cmd += ["--marker", m]
    for e in endpoints:
        cmd += ["--endpoint", e]
    runs = []
    for _ in range(repeats):
        shutil.rmtree(out, ignore_errors=True)
        run = run_process([*cmd, "--out", str(out)])
        if run.returncode != 0:
            raise SystemExit(f"ikaros analyze failed ({run.returncode}): {run.stderr[-2000:]}")
        runs.append(run)
    return runs


def ikaros_inner(path: Path, markers: tuple[str, ...], endpoints: tuple[str, ...],
                 tmp: Path) -> dict:  # type: ignore[type-arg]  # fmt: skip
    out = tmp / "inner.json"
    run = run_process(
        [sys.executable, "-c", INNER, str(path), ",".join(markers), ",".join(endpoints), str(out)]
    )
    if run.returncode != 0:
        raise SystemExit(f"in-process study failed: {run.stderr[-2000:]}")
    result: dict = json.loads(out.read_text())  # type: ignore[type-arg]
    return result


def r_whole(path: Path, markers: tuple[str, ...], endpoints: tuple[str, ...],
            tmp: Path, repeats: int) -> tuple[list[Run], list[float], str, Path]:  # fmt: skip
    hr = tmp / "r_hr.csv"
    cmd = ["Rscript", str(HERE / "analyze_equivalent.R"), str(path), "1",
           ",".join(markers), ",".join(endpoints), str(hr)]  # fmt: skip
    runs, compute = [], []
    reader = ""
    for _ in range(repeats):
        run = run_process(cmd)
        if run.returncode != 0:
            raise SystemExit(f"Rscript failed: {run.stderr[-2000:]}")
        lines = run.stdout.strip().splitlines()
        reader = lines[-2].removeprefix("reader: ")
        compute.append(float(lines[-1]))
        runs.append(run)
    return runs, compute, reader, hr


def hr_deviation(ours: list[list], r_csv: Path) -> tuple[float, int]:  # type: ignore[type-arg]
    """Largest relative difference of the hazard ratios from R's, and how many were compared."""
    with open(r_csv, newline="") as fh:
        r = {
            (row["marker"], row["endpoint"], row["model"], int(row["term"])): float(row["hr"])
            for row in csv.DictReader(fh)
        }
    worst, count = 0.0, 0
    for marker, endpoint, model, term, hr in ours:
        want = r.get((marker, endpoint, model, term))
        if want is None:
            continue
        worst = max(worst, abs(hr / want - 1.0))
        count += 1
    return worst, count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000, 1000000])
    ap.add_argument("--designs", nargs="+", default=list(DESIGNS), choices=list(DESIGNS))
    ap.add_argument("--repeats", type=int, default=3, help="whole-command runs (<= 100k)")
    ap.add_argument("--r-max", type=int, default=1000000, help="largest n also run in R")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/ikaros-bench-analyze"))
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    have_r = shutil.which("Rscript") is not None
    print(f"ikaros analyze vs Rscript; cohorts in {args.workdir}; {load_average()}")
    header = (
        f"{'n':>9} {'design':>6} | {'ikaros':>8} {'compute':>8} {'load':>6} {'RSS':>6} | "
        f"{'Rscript':>8} {'compute':>8} {'RSS':>6} | {'whole x':>7} {'comp. x':>7} | "
        f"{'max |HR/R-1|':>12}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for n in args.sizes:
        path = cohort_file(args.workdir, n, args.seed)
        for design in args.designs:
            markers, endpoints = DESIGNS[design]
            repeats = args.repeats if n <= 100000 else 1
            with tempfile.TemporaryDirectory(prefix="ikaros-bench-analyze-") as tmp_name:
                tmp = Path(tmp_name)
                runs = ikaros_whole(path, markers, endpoints, tmp / "out", repeats)
                inner = ikaros_inner(path, markers, endpoints, tmp)
                whole = statistics.median(r.wall for r in runs)
                rss = max(r.peak_rss for r in runs) / 2**20
                r_wall = r_comp = r_rss = float("nan")
                dev, compared = float("nan"), 0
                if have_r and n <= args.r_max:
                    r_runs, r_compute, _reader, hr_csv = r_whole(
                        path, markers, endpoints, tmp, repeats
                    )
                    r_wall = statistics.median(r.wall for r in r_runs)
                    r_comp = statistics.median(r_compute)
                    r_rss = max(r.peak_rss for r in r_runs) / 2**20
                    dev, compared = hr_deviation(inner["hr"], hr_csv)
            line = (
                f"{n:>9,} {design:>6} | {whole:>7.2f}s {inner['study']:>7.2f}s "
                f"{inner['load']:>5.2f}s {rss:>5.0f}M | {r_wall:>7.2f}s {r_comp:>7.2f}s "
                f"{r_rss:>5.0f}M | {r_wall / whole:>7.2f} {r_comp / inner['study']:>7.2f} | "
                f"{dev:>12.1e}{'' if dev <= HR_REL or compared == 0 else '  > 1e-6!'}"
            )
            print(line, flush=True)
            rows.append(line)
    print(
        "\nikaros: whole command (median of the runs; 1 run from 1M) / run_study alone / "
        "load_cohort alone; RSS: peak resident memory of the whole process.\n"
        f"Rscript: whole process incl. reading the CSV (data.table::fread if installed) / "
        "compute inside R. 'whole x', 'comp. x': R time / ikaros time (> 1: ikaros faster). "
        f"HRs: every Cox model's terms, ikaros vs R coxph (eps 1e-9).\n{load_average()}"
    )


if __name__ == "__main__":
    main()
