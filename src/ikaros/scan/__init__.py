"""Genome-wide survival scans: one Cox model and one log-rank test per gene, vectorised.

:func:`cox_scan` fits ``Surv ~ gene`` (or ``Surv ~ gene + covariates``) for every column of an
expression matrix at once; :func:`logrank_scan` runs a two-group log-rank test per column. See
:mod:`ikaros.scan.engine` for why this is not a loop over :func:`ikaros.stats.cox.fit_cox`.
"""

from __future__ import annotations

from ikaros.scan.engine import CoxScan, LogrankScan, cox_scan, logrank_scan

__all__ = ["CoxScan", "LogrankScan", "cox_scan", "logrank_scan"]
