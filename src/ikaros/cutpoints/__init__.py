"""Honest data-derived cutpoints: maximally selected log-rank statistics.

Choosing the cutpoint of a marker that gives the smallest log-rank p-value, and reporting that
p-value, is a multiple-testing error: under no association at all, the minimum p over the usual
10%-90% search range falls below 0.05 in roughly 40% of cohorts (Altman et al. 1994). This module
finds the same cutpoint but tests it honestly, with the maximally selected rank statistic of
Lausen & Schumacher (1992) and p-values corrected for the search (the Lau94 improved Bonferroni
approximation, or conditional Monte-Carlo), as R's ``maxstat`` package does.

* :func:`maxstat_cutpoint` -- one marker: cutpoint, ``M``, corrected and naive p-values, group
  sizes, optional permutation p and bootstrap interval of the cutpoint.
* :func:`maxstat_scan` -- many markers at once (vectorised over genes).
* :func:`standardized_statistics` -- ``|S|`` at every candidate cut (the process to plot).
* :func:`optimal_grouping` -- the low/high :class:`~ikaros.groups.Grouping`, marked
  ``origin="optimised"``.

Checked against R maxstat 0.7-25 (``tests/reference/maxstat``).

References
----------
Lausen B, Schumacher M. Maximally selected rank statistics. Biometrics 1992;48:73-85.
Lausen B, Sauerbrei W, Schumacher M. Classification and regression trees (CART) used for the
exploration of prognostic factors measured on different scales. In: Dirschedl P, Ostermann R
(eds). Computational Statistics. Heidelberg: Physica-Verlag; 1994. p. 483-496.
Hothorn T, Lausen B. On the exact distribution of maximally selected rank statistics. Comput
Stat Data Anal 2003;43:121-137.
Altman DG, Lausen B, Sauerbrei W, Schumacher M. Dangers of using "optimal" cutpoints in the
evaluation of prognostic factors. J Natl Cancer Inst 1994;86:829-835.
"""

from ikaros.cutpoints._maxstat import (
    Cutpoint,
    logrank_scores,
    maxstat_cutpoint,
    maxstat_scan,
    optimal_grouping,
    p_lausen94,
    standardized_statistics,
)

__all__ = [
    "Cutpoint",
    "logrank_scores",
    "maxstat_cutpoint",
    "maxstat_scan",
    "optimal_grouping",
    "p_lausen94",
    "standardized_statistics",
]
