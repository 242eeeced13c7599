"""Write the inputs of the monotone-likelihood reference cases (deterministic; numpy's PCG64).

Run from the repository root: ``python tests/reference/monotone/make_inputs.py``; then
``Rscript tests/reference/monotone/make_golden.R``. Times are whole numbers and covariates are
rounded to 3 decimals, so the CSV files hold exactly the values both R and Python fit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata

HERE = Path(__file__).resolve().parent


def _survival(seed: int, n: int) -> tuple[np.random.Generator, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    te = rng.exponential(30, n)
    tc = rng.uniform(6, 90, n)
    return rng, np.ceil(np.minimum(te, tc)), (te <= tc).astype(int)


def main() -> None:
    # issue 10, repro 1: a large but finite estimate (|coef x SD| ~ 16)
    rng, time, event = _survival(11, 100)
    x = np.round(-rankdata(time) + rng.normal(0, 2, 100), 3)
    pd.DataFrame({"time": time, "event": event, "x": x}).to_csv(
        HERE / "cox_finite.csv", index=False
    )
    # issue 10, repro 2: x = -rank(time) separates every event (the estimate is infinite)
    _, time, event = _survival(0, 500)
    x = -rankdata(time)
    pd.DataFrame({"time": time, "event": event, "x": x}).to_csv(
        HERE / "cox_separated.csv", index=False
    )
    # separation by a combination only: each death has the largest x + c at risk
    rng = np.random.default_rng(5)
    x = np.round(rng.normal(size=80), 3)
    c = np.round(rng.normal(size=80), 3)
    time = rankdata(-(x + c), method="ordinal")
    pd.DataFrame({"time": time, "event": 1, "x": x, "c": c}).to_csv(
        HERE / "cox_joint.csv", index=False
    )
    # scan: 300 genes like repro 1, the noise SD from 0.05 to 40 (some separated, many with a
    # large finite estimate, some moderate) and g301, separated
    rng, time, event = _survival(11, 100)
    sds = np.geomspace(0.05, 40, 300)
    genes = {
        f"g{j + 1:03d}": np.round(-rankdata(time) + rng.normal(0, sd, 100), 3)
        for j, sd in enumerate(sds)
    }
    genes["g301"] = -rankdata(time)  # tied times share a value: every death is largest at risk
    pd.DataFrame({"time": time, "event": event, **genes}).to_csv(
        HERE / "scan_matrix.csv", index=False
    )


if __name__ == "__main__":
    main()
