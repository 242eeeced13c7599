"""Benchmark: how fast the command line answers before any analysis runs.

Measured, each as a new process (median of ``--repeats``):

- ``ikaros --help`` and ``ikaros --version`` (targets: under 0.3 s);
- ``ikaros analyze`` on a malformed cohort (a time that is not a number): the one-line message,
  exit status 2 (target: under 1 s);

and, from ``python -X importtime``, the slowest imports of each and whether any heavy library
(matplotlib, lifelines, statsmodels, fastapi, reportlab, scipy.stats) was imported at all: none
of them may be. The machine's load average is printed beside the numbers (on a shared machine
the wall times are upper bounds).

Also a library for the other benchmarks: :func:`run_process` times a child process and reads
its CPU time and peak resident memory from ``os.wait4``.

Usage: python benchmarks/bench_startup.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HEAVY = ("matplotlib", "lifelines", "statsmodels", "fastapi", "reportlab", "scipy.stats")
TARGETS = {"--help": 0.3, "--version": 0.3, "malformed cohort": 1.0}


@dataclass(frozen=True)
class Run:
    """One child process: wall seconds, CPU seconds (user + system), peak RSS bytes, status."""

    wall: float
    cpu: float
    peak_rss: int
    returncode: int
    stdout: str
    stderr: str


def run_process(cmd: list[str], env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` to completion; wall time, CPU time and peak RSS of that child alone.

    The peak RSS comes from GNU ``time`` when installed: a child forked from this (possibly
    large) benchmark process inherits its resident-set high-water mark through ``exec``, so
    ``os.wait4`` on it would report the parent's memory; ``time`` is small and forks the
    command itself.
    """
    gnu_time = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    marker = "@@ikaros-bench-rusage"
    full = [gnu_time, "-f", f"{marker} %M %U %S", *cmd] if gnu_time else cmd
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    cpu = usage.ru_utime + usage.ru_stime
    peak = usage.ru_maxrss * 1024  # kilobytes on Linux
    if gnu_time:
        lines = stderr.splitlines()
        report = [line for line in lines if line.startswith(marker)]
        if report:
            kb, user, system = report[-1].split()[1:4]
            peak, cpu = int(kb) * 1024, float(user) + float(system)
            stderr = "\n".join(line for line in lines if not line.startswith(marker))
            if code != 0:  # GNU time adds "Command exited with non-zero status N"
                stderr = "\n".join(
                    x for x in stderr.splitlines() if not x.startswith("Command exited with")
                )
    return Run(wall=wall, cpu=cpu, peak_rss=peak, returncode=code, stdout=stdout, stderr=stderr)


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages and the number of cores, as one phrase."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} on {os.cpu_count()} cores"


def ikaros_command() -> list[str]:
    """The ``ikaros`` entry point of the running interpreter's environment."""
    exe = Path(sys.executable).with_name("ikaros")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "ikaros.cli"]


def _imports(args: list[str]) -> tuple[list[tuple[float, str]], list[str]]:
    """Cumulative import times (s) of top-level modules, and the heavy ones imported."""
    cmd = [sys.executable, "-X", "importtime", "-m", "ikaros.cli", *args]
    run = run_process(cmd)
    rows: list[tuple[float, str]] = []
    names: set[str] = set()
    for line in run.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line.split("|")
        try:
            cumulative = int(parts[1]) / 1e6
        except ValueError:
            continue
        name = parts[2].rstrip()
        module = name.strip()
        names.add(module)
        if not name.startswith("   "):  # top level (two-space indent or less)
            rows.append((cumulative, module))
    heavy = sorted(h for h in HEAVY if h in names)
    return sorted(rows, reverse=True)[:6], heavy


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ikaros-bench-startup-"))
    bad = tmp / "bad.csv"
    bad.write_text(
        "patient_id,pfs_time,pfs_event,IKZF1\n"
        + "".join(f"P{i},{10 + i},{i % 2},{1 + i / 10}\n" for i in range(30))
        + "P30,twelve,1,2.5\n"
    )
    ik = ikaros_command()
    cases = {
        "--help": ["--help"],
        "--version": ["--version"],
        "malformed cohort": ["analyze", str(bad), "-m", "IKZF1", "-e", "pfs", "--out",
                             str(tmp / "out")],
    }  # fmt: skip
    print(f"ikaros start-up, median of {args.repeats} new processes; {load_average()}")
    failed = False
    for label, argv in cases.items():
        run_process(ik + argv)  # warm the file cache
        runs = [run_process(ik + argv) for _ in range(args.repeats)]
        wall = statistics.median(r.wall for r in runs)
        cpu = statistics.median(r.cpu for r in runs)
        codes = {r.returncode for r in runs}
        top, heavy = _imports(argv)
        ok = wall < TARGETS[label] and not heavy
        failed |= not ok
        print(
            f"  {label:<17} {wall:6.3f} s wall, {cpu:6.3f} s CPU, exit {sorted(codes)}, "
            f"target < {TARGETS[label]} s: {'ok' if ok else 'NOT MET'}"
        )
        if label == "malformed cohort":
            message = runs[0].stderr.strip().splitlines()
            print(f"      message: {message[0] if message else '(none)'}")
            if codes != {2} or len(message) != 1:
                print("      expected exactly one line on stderr and exit status 2")
                failed = True
        print(
            "      slowest imports: "
            + ", ".join(f"{name} {seconds:.3f} s" for seconds, name in top[:4])
        )
        print(f"      heavy libraries imported: {', '.join(heavy) if heavy else 'none'}")
    print(f"load afterwards: {load_average()}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
