"""Benchmark: the demo, and rendering its full study report.

Measured in one run:
- `ikaros demo` as a new process, the command a new user runs first (simulating the cohort,
  the whole study with its Firth fits, results.json, the report with its figures, report.html
  and report.pdf): median, fastest and slowest wall time of ``--demo-repeats``, CPU time and peak
  resident memory (issue 12: under 8 s);
- `ikaros report DIR` as a new process (imports, 8 x 2 KM figures with at-risk tables, forest
  plots, marker plots, paper panel, each as PNG 300 dpi + SVG; tables; report.html; report.pdf);
- the 16 KM figures alone: ikaros (`km_figure` + `save_figure`) vs lifelines
  (`KaplanMeierFitter.plot_survival_function` + `add_at_risk_counts`) vs base R graphics
  (`km_figures_equivalent.R`, survfit plot + at-risk text), each to PNG 300 dpi + SVG.

Usage: python benchmarks/bench_report.py [--repeats 3] [--demo-repeats 7]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_startup import Run, ikaros_command, load_average, run_process  # noqa: E402

MARKERS = ("IKZF1", "IKZF3", "CRBN", "BSG")
ENDPOINTS = ("pfs", "os")


def _median_time(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _lifelines_km(frame, out: Path) -> None:  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from lifelines import KaplanMeierFitter
    from lifelines.plotting import add_at_risk_counts

    for m in MARKERS:
        for e in ENDPOINTS:
            t, ev, x = frame[f"{e}_time"], frame[f"{e}_event"], frame[m]
            q = np.quantile(x, [0.25, 0.5, 0.75])
            for labels in (
                np.where(x <= q[0], "Q1", "Q2-4"),
                np.array(["Q1", "Q2", "Q3", "Q4"])[np.searchsorted(q, x)],
            ):
                fig, ax = plt.subplots(figsize=(6, 5))
                fitters = []
                for lab in sorted(set(labels)):
                    sel = labels == lab
                    kmf = KaplanMeierFitter(label=str(lab)).fit(t[sel], ev[sel])
                    kmf.plot_survival_function(ax=ax, show_censors=True)
                    fitters.append(kmf)
                add_at_risk_counts(*fitters, ax=ax)
                fig.tight_layout()
                stem = out / f"{m}_{e}_{len(fitters)}"
                fig.savefig(f"{stem}.png", dpi=300)
                fig.savefig(f"{stem}.svg")
                plt.close(fig)


def _demo_runs(tmp: Path, repeats: int) -> list[Run]:
    """``ikaros demo`` (with its report) as a new process, ``repeats`` times."""
    out = tmp / "demo"
    runs = []
    for _ in range(repeats):
        shutil.rmtree(out, ignore_errors=True)
        run = run_process([*ikaros_command(), "demo", "--quiet", "--out", str(out)])
        if run.returncode != 0:
            raise SystemExit(f"ikaros demo failed: {run.stderr[-2000:]}")
        runs.append(run)
    if not (out / "report.pdf").is_file():
        raise SystemExit("ikaros demo wrote no report.pdf")
    return runs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--demo-repeats", type=int, default=7)
    args = ap.parse_args()
    print(load_average())
    import warnings

    from ikaros.cohort import cohort_from_frame
    from ikaros.report import figures
    from ikaros.results import to_json
    from ikaros.simulate import demo_cohort
    from ikaros.study import StudyOptions, run_study

    frame = demo_cohort()
    cohort = cohort_from_frame(frame, markers=MARKERS, endpoints=ENDPOINTS)
    results = run_study(cohort, StudyOptions(MARKERS, ENDPOINTS, seed=245))
    tmp = Path(tempfile.mkdtemp(prefix="ikaros-bench-report-"))
    try:
        (tmp / "results.json").write_text(to_json(results))
        csv = tmp / "cohort.csv"
        frame.to_csv(csv, index=False)
        ikaros_bin = str(Path(sys.executable).with_name("ikaros"))
        cmd = [ikaros_bin, "report", str(tmp), "--quiet", "--out", str(tmp / "rep")]
        whole = _median_time(lambda: subprocess.run(cmd, check=True), args.repeats)
        demo = _demo_runs(tmp, args.demo_repeats)

        def ikaros_km() -> None:
            d = tmp / "ik"
            d.mkdir(exist_ok=True)
            for a in results.analyses:
                for g in ("q1", "quartiles"):
                    fig = figures.km_figure(a, grouping=g)
                    figures.save_figure(fig, d, f"{a.marker}_{a.endpoint}_{g}")

        ikaros_km()
        km_ikaros = _median_time(ikaros_km, args.repeats)
        ll_dir = tmp / "ll"
        ll_dir.mkdir()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            km_lifelines = _median_time(lambda: _lifelines_km(frame, ll_dir), args.repeats)
        km_r = None
        if shutil.which("Rscript"):
            r_dir = tmp / "r"
            r_dir.mkdir()
            runs = []
            for _ in range(args.repeats):
                out = subprocess.run(
                    ["Rscript", str(HERE / "km_figures_equivalent.R"), str(csv), str(r_dir)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                runs.append(float(out.stdout.strip().splitlines()[-1]))
            km_r = statistics.median(runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    walls = [r.wall for r in demo]
    cpu = statistics.median(r.cpu for r in demo)
    print(
        f"ikaros demo incl. report, whole command (new process): median "
        f"{statistics.median(walls):5.2f} s, fastest {min(walls):5.2f} s, slowest "
        f"{max(walls):5.2f} s of {len(walls)}; CPU {cpu:5.2f} s; "
        f"peak RSS {max(r.peak_rss for r in demo) / 2**20:.0f} MiB   (target < 8 s)"
    )
    print(f"demo report, median of {args.repeats} runs")
    print(f"ikaros report, whole command (new process): {whole:7.2f} s   (target < 10 s)")
    print(f"16 KM figures + at-risk, PNG+SVG: ikaros    {km_ikaros:7.2f} s")
    print(
        f"16 KM figures + at-risk, PNG+SVG: lifelines {km_lifelines:7.2f} s   "
        f"ratio lifelines / ikaros = {km_lifelines / km_ikaros:.2f}"
    )
    if km_r is not None:
        print(
            f"16 KM figures + at-risk, PNG+SVG: base R    {km_r:7.2f} s   "
            f"ratio R / ikaros = {km_r / km_ikaros:.2f}"
        )
    print(load_average())


if __name__ == "__main__":
    main()
