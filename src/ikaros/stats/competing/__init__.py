"""Competing risks: cumulative incidence, Gray's test, Fine-Gray and cause-specific Cox.

Why: for second primary malignancies (SPM) on lenalidomide maintenance, death without SPM is a
competing event. 1 - Kaplan-Meier treats those deaths as censoring and estimates the incidence
of SPM in a world where nobody dies of anything else, which overstates the real incidence; the
Aalen-Johansen cumulative incidence does not (Putter et al. 2007). :func:`one_minus_km` is
kept for showing the difference.

Status is coded as in R ``cmprsk``: 0 = censored, 1..k = cause of the first event; causes can
be named with ``cause_labels`` and then addressed by name.

- :func:`aalen_johansen`: cumulative incidence per group and cause, with ``cmprsk::cuminc``'s
  variance and a log(-log) interval (:mod:`._cif`).
- :func:`gray_test`: Gray's K-sample test, ``cuminc``'s ``Tests`` (:mod:`._gray`).
- :func:`fine_gray`: subdistribution hazards regression, ``cmprsk::crr`` (:mod:`._regression`).
- :func:`cause_specific_cox`: Cox model of one cause-specific hazard, ``coxph`` with Efron ties.

Every number is checked against R (cmprsk 2.2-11, survival 3.5-3) in
``tests/stats/test_competing.py`` with golden values from ``tests/reference/competing``.

References
----------
Aalen O. Nonparametric estimation of partial transition probabilities in multiple decrement
models. Ann Stat 1978;6:534-545.
Aalen OO, Johansen S. An empirical transition matrix for non-homogeneous Markov chains based on
censored observations. Scand J Stat 1978;5:141-150.
Gray RJ. A class of K-sample tests for comparing the cumulative incidence of a competing risk.
Ann Stat 1988;16:1141-1154.
Fine JP, Gray RJ. A proportional hazards model for the subdistribution of a competing risk.
J Am Stat Assoc 1999;94:496-509.
Putter H, Fiocco M, Geskus RB. Tutorial in biostatistics: competing risks and multi-state
models. Stat Med 2007;26:2389-2430.
"""

from __future__ import annotations

from ikaros.stats.competing._cif import CIF_CI_METHOD, CIFCurve, aalen_johansen, one_minus_km
from ikaros.stats.competing._data import CauseLabels
from ikaros.stats.competing._gray import GrayTest, gray_test
from ikaros.stats.competing._regression import (
    FineGrayFit,
    FineGrayTerm,
    cause_specific_cox,
    fine_gray,
)

__all__ = [
    "CIF_CI_METHOD",
    "CIFCurve",
    "CauseLabels",
    "FineGrayFit",
    "FineGrayTerm",
    "GrayTest",
    "aalen_johansen",
    "cause_specific_cox",
    "fine_gray",
    "gray_test",
    "one_minus_km",
]
