"""Synthetic, published-style inputs of the worked example in docs/ipd.md.

Nothing here was digitised from a publication. The script simulates (seed 20240612) a two-arm
myeloma trial with known truth, lenalidomide-dexamethasone (Rd) vs carfilzomib-Rd (KRd), 396
patients per arm, Weibull progression-free survival with a median of 17.6 months under Rd and a
hazard ratio of 0.69 (numbers of the order reported for such trials), uniform accrual over 30
months and 30 months of further follow-up, 1% loss to follow-up per month; and a maintenance
arm of 250 patients with progression and death without progression as competing events. It
then writes what a reader of the paper would have:

- ``rd_pfs.csv``, ``krd_pfs.csv``: the Kaplan-Meier curves as WebPlotDigitizer exports them
  (no header; Rd read off a percentage axis, KRd off a 0-1 axis), 220 and 260 points traced
  along the drawn line with the error of a 1-pixel line (see ikaros.ipd.simulate);
- ``rd_atrisk.csv``, ``krd_atrisk.csv``: the numbers at risk under the figure;
- ``cif_progression.csv``, ``cif_death.csv``, ``cif_atrisk.csv``: the maintenance arm's
  cumulative incidences and numbers at risk;
- ``truth.json``: the simulated patients' own summaries (events, medians, Cox HR), for checking
  the reconstruction, and the total events that a paper would report.

Run from the repository root: ``.venv/bin/python docs/examples/ipd/make_example.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ikaros.ipd.simulate import (
    at_risk_csv,
    digitiser_csv,
    simulate_competing_arm,
    simulate_trial,
)
from ikaros.stats.cox import fit_cox
from ikaros.stats.km import kaplan_meier

HERE = Path(__file__).resolve().parent
SEED = 20240612


def main() -> None:
    rng = np.random.default_rng(SEED)
    trial = simulate_trial(
        rng,
        n_per_arm=(396, 396),
        scenario="ph",
        hazard_ratio=0.69,
        control_median=17.6,
        shape=1.1,
        accrual=30.0,
        follow_up=30.0,
        n_points=(220, 260),
        names=("Rd", "KRd"),
    )
    truth: dict[str, object] = {"seed": SEED, "arms": {}}
    for k, arm in enumerate(trial.arms):
        stem = arm.name.lower()
        text = digitiser_csv(arm.digitised_time, arm.digitised_surv, percent=k == 0)
        (HERE / f"{stem}_pfs.csv").write_text(text, encoding="utf-8", newline="\n")
        table = at_risk_csv(arm.risk_time, arm.risk_n)
        (HERE / f"{stem}_atrisk.csv").write_text(table, encoding="utf-8", newline="\n")
        km = kaplan_meier(arm.time, arm.event)
        truth["arms"][arm.name] = {  # type: ignore[index]
            "patients": arm.n,
            "events": arm.events,
            "median": km.median.estimate,
        }
    time = np.concatenate([a.time for a in trial.arms])
    event = np.concatenate([a.event for a in trial.arms])
    group = np.repeat([0.0, 1.0], [trial.arms[0].n, trial.arms[1].n])
    fit = fit_cox(time, event, pd.DataFrame({"KRd": group}), ph_test=False)
    term = fit.terms["KRd"]
    truth["hazard_ratio"] = {"hr": term.hr, "lower": term.lower, "upper": term.upper}
    cr = simulate_competing_arm(
        rng,
        n=250,
        name="maintenance",
        event_median=40.0,
        competing_median=120.0,
        n_points=(200, 150),
    )
    for name, points in (("progression", cr.event_points), ("death", cr.competing_points)):
        (HERE / f"cif_{name}.csv").write_text(digitiser_csv(*points), encoding="utf-8")
    (HERE / "cif_atrisk.csv").write_text(at_risk_csv(cr.risk_time, cr.risk_n), encoding="utf-8")
    truth["maintenance"] = {
        "patients": int(cr.time.size),
        "progression": int(np.sum(cr.status == 1)),
        "death_without_progression": int(np.sum(cr.status == 2)),
    }
    (HERE / "truth.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
