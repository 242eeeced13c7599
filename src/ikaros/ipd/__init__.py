"""Individual patient data reconstructed from published Kaplan-Meier curves (Guyot et al. 2012).

Modules
-------
``digitised``
    Reading digitised curves (WebPlotDigitizer exports) and published at-risk tables; cleaning
    the points into a step curve, every adjustment counted; one clear message per bad input.
``guyot``
    Guyot's algorithm: events and censoring at every digitised point from the curve, the
    numbers at risk and/or the total events.
``competing``
    Competing-risks data from two digitised cumulative incidences and an at-risk table.
``rmst``
    Restricted mean survival time and its variance as R ``print(survfit, rmean = tau)``.
``compare``
    Statistics on reconstructed arms (fit, medians, landmarks, RMST, Cox, log-rank).
``results``
    Frozen result objects and the versioned ``ipd_results.json``.
``run``
    The plan behind ``ikaros ipd``: inputs checked, arms reconstructed and compared.
``report``
    Output files: reconstructed cohorts, results, figures and ``ipd_report.html`` (plotting is
    imported inside its functions).
``simulate``, ``roundtrip``
    Seeded published-style trials with known truth and the round trip that measures the
    reconstruction (``benchmarks/ipd_roundtrip.py``).

See docs/ipd.md.
"""

from __future__ import annotations

from ikaros.ipd.competing import CompetingReconstruction, reconstruct_competing
from ikaros.ipd.digitised import (
    AtRiskTable,
    Cleaning,
    DigitisedCurve,
    clean_points,
    read_at_risk,
    read_curve,
)
from ikaros.ipd.guyot import Reconstruction, reconstruct
from ikaros.ipd.results import IPD_SCHEMA_VERSION, IPDResults, load_ipd_results
from ikaros.ipd.rmst import RMST, RMSTDifference, rmst, rmst_difference
from ikaros.ipd.run import ArmSpec, CompetingSpec, IPDRun, run_ipd

__all__ = [
    "IPD_SCHEMA_VERSION",
    "RMST",
    "ArmSpec",
    "AtRiskTable",
    "Cleaning",
    "CompetingReconstruction",
    "CompetingSpec",
    "DigitisedCurve",
    "IPDResults",
    "IPDRun",
    "RMSTDifference",
    "Reconstruction",
    "clean_points",
    "load_ipd_results",
    "read_at_risk",
    "read_curve",
    "reconstruct",
    "reconstruct_competing",
    "rmst",
    "rmst_difference",
    "run_ipd",
]
