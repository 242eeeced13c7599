"""Lenalidomide treatment-course and safety analyses.

Modules: :mod:`~ikaros.course.table` (long course table: loading and validation, the
:class:`~ikaros.course.table.CourseData` object), :mod:`~ikaros.course.mutations` (mutations
table), :mod:`~ikaros.course.derived` (exposure, time origins, endpoints, landmarks, counting
process), :mod:`~ikaros.course.stats` (time-varying Cox, Clopper-Pearson),
:mod:`~ikaros.course.analysis` (``course_results.json``), :mod:`~ikaros.course.simulate`
(seeded cohorts like Geyer et al. 2023) and :mod:`ikaros.cli.course` (``ikaros course``).
The command-line module is not imported here, so the library does not depend on typer.
"""

from ikaros.course.table import CourseData, course_from_frame, load_course

__all__ = ["CourseData", "course_from_frame", "load_course"]
