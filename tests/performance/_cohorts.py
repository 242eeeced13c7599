"""The reference cohorts as tests/reference/performance/make_golden.R prepares them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tests.conftest import REFERENCE, _commpass, _gse24080, golden, require_shared

CP_GENES = ["ENSG00000002586", "ENSG00000004799", "ENSG00000000938"]
MODELS = {
    "gse24080": {
        "base": ["iss2", "iss3"],
        "markers": ["log2_b2m", "log2_ldh"],
        "full": ["log2_b2m", "log2_ldh", "iss2", "iss3"],
    },
    "commpass": {"base": ["iss2", "iss3"], "full": [*CP_GENES, "iss2", "iss3"]},
}
LANDMARKS = {"gse24080": [36.0, 60.0], "commpass": [24.0, 36.0]}


@dataclass(frozen=True)
class Cohort:
    name: str
    time: np.ndarray
    event: np.ndarray
    X: pd.DataFrame
    dev: np.ndarray  # development rows of the external-validation split

    @property
    def landmarks(self) -> list[float]:
        return LANDMARKS[self.name]


def cohort(name: str) -> Cohort:
    require_shared()
    if name == "gse24080":
        d = _gse24080().dropna(subset=["b2m_mg_l", "ldh", "iss"]).reset_index(drop=True)
        X = pd.DataFrame(
            {
                "log2_b2m": np.log2(d["b2m_mg_l"]),
                "log2_ldh": np.log2(d["ldh"]),
                "iss2": (d["iss"] == 2).astype(float),
                "iss3": (d["iss"] == 3).astype(float),
            }
        )
        dev = (d["protocol"] == "TT2").to_numpy()
    else:
        d = _commpass().dropna(subset=["iss"])
        d = d.sort_values("bcr_patient_barcode").reset_index(drop=True)
        X = (
            d[CP_GENES]
            .astype(float)
            .assign(iss2=(d["iss"] == 2).astype(float), iss3=(d["iss"] == 3).astype(float))
        )
        dev = (np.arange(len(d)) % 2) == 0  # R: odd rows (1-based) develop
    return Cohort(
        name,
        d["os_time"].to_numpy(dtype=float),
        d["os_event"].to_numpy(dtype=int),
        X,
        dev,
    )


def ref(name: str) -> dict:
    return golden("performance")[name]


def boot_indices(name: str) -> np.ndarray:
    file = ref(name)["validate_exact"]["indices_file"]
    return pd.read_csv(REFERENCE / "performance" / file).to_numpy() - 1
