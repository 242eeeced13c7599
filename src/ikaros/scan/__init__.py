"""Genome-wide survival scans: one Cox model and one log-rank test per gene, vectorised.

:func:`cox_scan` fits ``Surv ~ gene`` (or ``Surv ~ gene + covariates``) for every column of an
expression matrix at once; :func:`logrank_scan` runs a two-group log-rank test per column. See
:mod:`ikaros.scan.engine` for why this is not a loop over :func:`ikaros.stats.cox.fit_cox`.

The names are imported on first use: the study's Cox models import the shared risk-set layout
(:mod:`ikaros.scan._layout`) through this package and must not pay for the scan's imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ikaros.scan.engine import CoxScan, LogrankScan, cox_scan, logrank_scan

__all__ = ["CoxScan", "LogrankScan", "cox_scan", "logrank_scan"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("ikaros.scan.engine"), name)
    raise AttributeError(f"module 'ikaros.scan' has no attribute {name!r}")
