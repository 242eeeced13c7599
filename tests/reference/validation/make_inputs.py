"""Write the simulated CSV inputs of make_golden.R (run from the repository root).

    .venv/bin/python tests/reference/validation/make_inputs.py
    Rscript tests/reference/validation/make_golden.R

The cohorts come from :mod:`ikaros.validation.simulate` with fixed seeds, so the files can be
re-made at any time; they are committed so that R reads exactly what the tests read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ikaros.validation.simulate import TwoArmDesign, simulate_multicohort, simulate_two_arm

HERE = Path(__file__).resolve().parent


def _fisher_oscillates() -> pd.DataFrame:
    """12 normal estimates on which REML Fisher scoring oscillates without converging.

    Draw 707 of the known-truth loop of tests/validation/test_simulate.py (seed 2009, mu 0.3,
    tau 0.2, SEs uniform on 0.08-0.25); metafor needs ``control = list(stepadj = 0.5)`` here.
    """
    rng = np.random.default_rng(2009)
    for _ in range(707):
        se = rng.uniform(0.08, 0.25, 12)
        y = rng.normal(0.3 + 0.2 * rng.standard_normal(12), se)
    return pd.DataFrame({"yi": y, "sei": se})


def write_inputs(directory: Path = HERE) -> list[Path]:
    multi, _ = simulate_multicohort(
        20240615,
        n=(180, 240, 150, 300, 210, 120),
        mu=0.3,
        tau=0.25,
        treated=(True, False, True, False, True, False),
        gamma=-0.2,
    )
    two_arm = simulate_two_arm(20240616, TwoArmDesign(n=240), scenario="both")
    out = []
    for name, frame in (
        ("sim_multicohort.csv", multi),
        ("sim_two_arm.csv", two_arm),
        ("fisher_oscillates.csv", _fisher_oscillates()),
    ):
        path = directory / name
        frame.to_csv(path, index=False, lineterminator="\n")
        out.append(path)
    return out


if __name__ == "__main__":
    for p in write_inputs():
        print("wrote", p.name)
