"""Benchmark: `ikaros analyze` on a 60-patient cohort, 4 markers x 2 endpoints.

Measured in one run on the same data:
- ikaros, whole command (`ikaros analyze` as a new process: interpreter start, imports, loading,
  validation, every analysis, writing results.json) and the analysis alone (`run_study`);
- the same core computations as a plain lifelines loop (default CoxPHFitter settings);
- the same core computations in R survival (`analyze_equivalent.R`), timed inside R and as a
  whole `Rscript` process, when Rscript is installed.

Usage: python benchmarks/bench_analyze.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
MARKERS = ("IKZF1", "IKZF3", "CRBN", "BSG")
ENDPOINTS = ("pfs", "os")


def _wall(cmd: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _lifelines_loop(frame) -> None:  # type: ignore[no-untyped-def]
    import numpy as np
    from lifelines import CoxPHFitter, KaplanMeierFitter
    from lifelines.statistics import (
        logrank_test,
        multivariate_logrank_test,
        proportional_hazard_test,
    )

    d = frame.copy()
    d["cyto"] = ((d.del17p + d.t_4_14 + d.t_14_16) > 0).astype(int)
    for m in MARKERS:
        for e in ENDPOINTS:
            t, ev, x = d[f"{e}_time"], d[f"{e}_event"], d[m]
            q = np.quantile(x, [0.25, 0.5, 0.75])
            low = x <= q[0]
            g4 = np.searchsorted(q, x, side="left")
            for grp in (low, ~low):
                KaplanMeierFitter().fit(t[grp], ev[grp]).survival_function_at_times(36)
            for k in range(4):
                KaplanMeierFitter().fit(t[g4 == k], ev[g4 == k])
            logrank_test(t[low], t[~low], ev[low], ev[~low])
            multivariate_logrank_test(t, g4, ev)
            base = {"T": t, "E": ev}
            models = [
                {"x": x},
                {"high": (~low).astype(int)},
                {"x": x, "cyto": d.cyto},
                {"high": (~low).astype(int), "cyto": d.cyto},
                {"x": x, "cyto": d.cyto, "xc": x * d.cyto},
            ]
            for cols in models:
                df = __import__("pandas").DataFrame({**base, **cols})
                cph = CoxPHFitter().fit(df, "T", "E")
                proportional_hazard_test(cph, df, time_transform="km")
            for r in (0, 1):
                sub = d.cyto == r
                df = __import__("pandas").DataFrame({"T": t[sub], "E": ev[sub], "x": x[sub]})
                CoxPHFitter().fit(df, "T", "E")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    from ikaros.cohort import load_cohort
    from ikaros.simulate import demo_cohort
    from ikaros.study import StudyOptions, run_study

    tmp = Path(tempfile.mkdtemp(prefix="ikaros-bench-"))
    try:
        cohort_csv = tmp / "cohort.csv"
        frame = demo_cohort()
        frame.to_csv(cohort_csv, index=False)
        ikaros_bin = str(Path(sys.executable).with_name("ikaros"))
        cmd = [ikaros_bin, "analyze", str(cohort_csv), "--quiet", "--out", str(tmp / "out")]
        for m in MARKERS:
            cmd += ["--marker", m]
        for e in ENDPOINTS:
            cmd += ["--endpoint", e]
        subprocess.run(cmd, check=True, capture_output=True)  # warm the file cache
        whole = _wall(cmd, args.repeats)

        cohort = load_cohort(cohort_csv, markers=MARKERS, endpoints=ENDPOINTS)
        options = StudyOptions(MARKERS, ENDPOINTS)
        run_study(cohort, options)
        t_study = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            run_study(cohort, options)
            t_study.append(time.perf_counter() - t0)
        study = statistics.median(t_study)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _lifelines_loop(frame)
            t_ll = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                _lifelines_loop(frame)
                t_ll.append(time.perf_counter() - t0)
        lifelines_t = statistics.median(t_ll)

        r_inside = r_whole = None
        if shutil.which("Rscript"):
            rcmd = [
                "Rscript",
                str(HERE / "analyze_equivalent.R"),
                str(cohort_csv),
                str(args.repeats),
            ]
            out = subprocess.run(rcmd, check=True, capture_output=True, text=True)
            r_inside = float(out.stdout.strip().splitlines()[-1])
            r_whole = _wall(
                ["Rscript", str(HERE / "analyze_equivalent.R"), str(cohort_csv), "1"],
                max(1, args.repeats // 2),
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"cohort: 60 patients, {len(MARKERS)} markers x {len(ENDPOINTS)} endpoints; "
        f"median of {args.repeats} runs"
    )
    print(f"ikaros analyze, whole command (new process):   {whole:7.3f} s   (target < 5 s)")
    print(f"ikaros run_study, analysis only (in process):  {study:7.3f} s")
    print(
        f"lifelines loop, core computations (in process):{lifelines_t:7.3f} s   "
        f"ratio lifelines / ikaros analysis = {lifelines_t / study:.2f}"
    )
    if r_inside is not None and r_whole is not None:
        print(
            f"R survival, core computations (inside R):      {r_inside:7.3f} s   "
            f"ratio R / ikaros analysis = {r_inside / study:.2f}"
        )
        print(
            f"R survival, whole Rscript process (1 run):     {r_whole:7.3f} s   "
            f"ratio R / ikaros whole = {r_whole / whole:.2f}"
        )


if __name__ == "__main__":
    main()
