"""ikaros: prognostic-biomarker survival analysis for multiple myeloma.

The Python API, for notebooks (the command line ``ikaros`` runs the same code)::

    import ikaros
    frame = ikaros.demo_cohort()                          # or pandas.read_csv(...)
    results = ikaros.analyze(frame, markers=["IKZF1"], endpoints=["pfs"])
    results.to_frame()                                    # tidy: one row per model term
    results.groups_frame(), results.tests_frame()
    fig = ikaros.plot.km(results, "IKZF1", "pfs")

Study: :func:`analyze` -> :class:`Results` (the object ``ikaros analyze`` writes to
results.json; :meth:`Results.from_json` reads it back). Statistics on DataFrames:
:func:`kaplan_meier`, :func:`logrank_test`, :func:`cox`, :func:`cutpoint`, :func:`scan`,
:func:`cumulative_incidence`, :func:`gray_test`, :func:`fine_gray`. Figures: :mod:`ikaros.plot`.
Errors: :class:`InputError` (bad data, with file/row/column/value/remedy) and
:class:`AnalysisError` (valid data, impossible analysis).

Names are imported on first use, so ``import ikaros`` (and the command line) start fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ikaros._lazy import lazy_getattr

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    import ikaros.plot as plot
    from ikaros.api.scan import scan
    from ikaros.api.stats import (
        cox,
        cumulative_incidence,
        cutpoint,
        fine_gray,
        gray_test,
        kaplan_meier,
        logrank_test,
    )
    from ikaros.api.study import analyze
    from ikaros.errors import AnalysisError, IkarosError, InputError
    from ikaros.results import Results
    from ikaros.simulate import demo_cohort
    from ikaros.study import StudyOptions

__all__ = [
    "AnalysisError",
    "IkarosError",
    "InputError",
    "Results",
    "StudyOptions",
    "__version__",
    "analyze",
    "cox",
    "cumulative_incidence",
    "cutpoint",
    "demo_cohort",
    "fine_gray",
    "gray_test",
    "kaplan_meier",
    "logrank_test",
    "plot",
    "scan",
]

_WHERE = {
    "AnalysisError": "ikaros.errors",
    "IkarosError": "ikaros.errors",
    "InputError": "ikaros.errors",
    "Results": "ikaros.results",
    "StudyOptions": "ikaros.study",
    "analyze": "ikaros.api.study",
    "cox": "ikaros.api.stats",
    "cumulative_incidence": "ikaros.api.stats",
    "cutpoint": "ikaros.api.stats",
    "demo_cohort": "ikaros.simulate",
    "fine_gray": "ikaros.api.stats",
    "gray_test": "ikaros.api.stats",
    "kaplan_meier": "ikaros.api.stats",
    "logrank_test": "ikaros.api.stats",
    "scan": "ikaros.api.scan",
}


__getattr__ = lazy_getattr(__name__, _WHERE, modules=("plot",))


def __dir__() -> list[str]:
    return sorted(__all__)
