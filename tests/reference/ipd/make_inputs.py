"""Inputs of the IPD reference values: published-style digitised curves and at-risk tables.

Run from the repository root::

    .venv/bin/python tests/reference/ipd/make_inputs.py

Simulated, seeded trials (:mod:`ikaros.ipd.simulate`) are drawn, their Kaplan-Meier curves (and
cumulative incidences) digitised as WebPlotDigitizer would trace them, their numbers at risk
taken at the axis ticks; ikaros then reconstructs the patients (``run_ipd``) and writes them.
``make_golden.R`` computes R's statistics on exactly these reconstructed patients. Writes, in
``inputs/``:

- ``two_arm_{control,experimental}.csv`` and ``*_atrisk.csv``: proportional hazards (HR 0.65),
  both arms with at-risk tables; ``ipd_two_arm_{control,experimental}.csv`` reconstructed;
- ``three_arm_{a,b,c}.csv`` (+ ``three_arm_a_atrisk.csv``): a delayed effect; arm a with its
  at-risk table, arm b with patients and total events only, arm c with patients only;
  ``ipd_three_arm_{a,b,c}.csv``;
- ``cif_{low,high}_{event,competing,atrisk}.csv``: two competing-risks arms;
  ``ipd_cif_{low,high}.csv`` (status 0/1/2);
- ``cases.json``: the totals given for arms b and c and the landmarks and taus used.

Deterministic: the same seed gives byte-identical files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ikaros.ipd.run import (
    ArmSpec,
    CompetingSpec,
    competing_csv,
    ipd_csv,
    run_ipd,
)
from ikaros.ipd.simulate import (
    at_risk_csv,
    digitiser_csv,
    simulate_competing_arm,
    simulate_trial,
)

HERE = Path(__file__).resolve().parent
INPUTS = HERE / "inputs"
SEED = 20240611
LANDMARKS = (12.0, 24.0)
TAUS = (12.0, 24.0)


def _write(name: str, text: str) -> Path:
    path = INPUTS / name
    path.write_text(text, encoding="utf-8", newline="\n")
    return path


def main() -> None:
    INPUTS.mkdir(exist_ok=True)
    rng = np.random.default_rng(SEED)
    cases: dict[str, object] = {"seed": SEED, "landmarks": LANDMARKS, "taus": TAUS}

    two = simulate_trial(
        rng, n_per_arm=(240, 260), scenario="ph", hazard_ratio=0.65, n_points=(180, 230)
    )
    specs = []
    for k, arm in enumerate(two.arms):
        curve = _write(
            f"two_arm_{arm.name}.csv",
            digitiser_csv(arm.digitised_time, arm.digitised_surv, percent=k == 0),
        )
        table = _write(f"two_arm_{arm.name}_atrisk.csv", at_risk_csv(arm.risk_time, arm.risk_n))
        specs.append(ArmSpec(arm.name, curve, table))
    run = run_ipd(specs, landmarks=LANDMARKS)
    for rec in run.arms:
        _write(f"ipd_two_arm_{rec.name}.csv", ipd_csv(rec, "pfs"))

    three = simulate_trial(
        rng,
        n_per_arm=(150, 180),
        scenario="delayed",
        hazard_ratio=0.55,
        n_points=(140, 160),
        names=("a", "b"),
    )
    third = simulate_trial(
        rng, n_per_arm=(120, 120), scenario="crossing", hazard_ratio=0.8, n_points=(120, 120)
    ).arms[1]
    a, b = three.arms
    _write("three_arm_a.csv", digitiser_csv(a.digitised_time, a.digitised_surv))
    _write("three_arm_a_atrisk.csv", at_risk_csv(a.risk_time, a.risk_n))
    _write("three_arm_b.csv", digitiser_csv(b.digitised_time, b.digitised_surv, percent=True))
    _write("three_arm_c.csv", digitiser_csv(third.digitised_time, third.digitised_surv))
    totals = {"b": {"patients": b.n, "events": b.events}, "c": {"patients": third.n}}
    cases["three_arm"] = totals
    run = run_ipd(
        [
            ArmSpec("a", INPUTS / "three_arm_a.csv", INPUTS / "three_arm_a_atrisk.csv"),
            ArmSpec("b", INPUTS / "three_arm_b.csv", None, b.events, b.n),
            ArmSpec("c", INPUTS / "three_arm_c.csv", None, None, third.n),
        ],
        landmarks=LANDMARKS,
    )
    for rec in run.arms:
        _write(f"ipd_three_arm_{rec.name}.csv", ipd_csv(rec, "pfs"))

    cspecs = []
    for name, event_median in (("low", 60.0), ("high", 30.0)):
        arm = simulate_competing_arm(
            rng, n=200, name=name, event_median=event_median, n_points=(160, 140)
        )
        ev = _write(f"cif_{name}_event.csv", digitiser_csv(*arm.event_points))
        co = _write(f"cif_{name}_competing.csv", digitiser_csv(*arm.competing_points))
        tab = _write(f"cif_{name}_atrisk.csv", at_risk_csv(arm.risk_time, arm.risk_n))
        cspecs.append(CompetingSpec(name, ev, co, tab))
    run = run_ipd([], cspecs, landmarks=LANDMARKS)
    for cr in run.competing:
        _write(f"ipd_cif_{cr.name}.csv", competing_csv(cr))
    _write("cases.json", json.dumps(cases, indent=2) + "\n")


if __name__ == "__main__":
    main()
