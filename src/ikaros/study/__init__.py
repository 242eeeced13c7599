"""The study plan: a validated cohort and options in, :class:`~ikaros.results.Results` out.

A study is a composition of analyses. Each pairs a grouping with an endpoint:

- a marker with its pre-specified cut (``--cut``) x a survival endpoint:
  :class:`~ikaros.study.marker.MarkerAnalysis` (the Kronke et al. design and its variants);
- a clinical variable (``--group``) x a survival endpoint: :mod:`ikaros.study.grouping`;
- a marker cut or a variable x a competing-risk endpoint (``--competing``):
  :mod:`ikaros.study.competing`;

plus the cohort's characteristics and each marker against ISS and response
(:mod:`ikaros.study.summary`). The CLI and the web layer call :func:`run_study`; nothing here
prints or plots.

References
----------
Kronke J, Kuchenbauer F, Kull M, et al. IKZF1 expression is a prognostic marker in newly
diagnosed standard-risk multiple myeloma treated with lenalidomide and intensive chemotherapy: a
study of the German Myeloma Study Group (DSMM). Leukemia 2017;31:1363-1367.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ikaros.study._common import software_versions
    from ikaros.study.grouping import run_grouping
    from ikaros.study.marker import MarkerAnalysis
    from ikaros.study.options import StudyOptions, parse_cut
    from ikaros.study.run import plan_size, run_study
    from ikaros.study.summary import GOOD_RESPONSE, POOR_RESPONSE

__all__ = [
    "GOOD_RESPONSE",
    "POOR_RESPONSE",
    "MarkerAnalysis",
    "StudyOptions",
    "parse_cut",
    "plan_size",
    "run_grouping",
    "run_study",
    "software_versions",
]

#: where each public name lives; imported on first use, so that ``StudyOptions`` (checked
#: before any file is read) does not pull in the statistics libraries
_WHERE = {
    "GOOD_RESPONSE": "summary",
    "MarkerAnalysis": "marker",
    "run_grouping": "grouping",
    "POOR_RESPONSE": "summary",
    "StudyOptions": "options",
    "parse_cut": "options",
    "plan_size": "run",
    "run_study": "run",
    "software_versions": "_common",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"ikaros.study.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'ikaros.study' has no attribute {name!r}")
