"""Figures of the treatment-course report, by name.

The figures live in :mod:`~ikaros.report.figures.cif` (cumulative incidence with numbers at
risk), :mod:`~ikaros.report.figures.swimmer` (one lane per patient: lenalidomide exposure, second
primary malignancy, withdrawal, regression, progression, transplants, death) and
:mod:`~ikaros.report.figures.oncoprint` (genes x patients: altered, not altered, not evaluated).
This module gathers them (``from ikaros.report.figures.course import swimmer_figure``). The legend
helpers they share are in the leaf module :mod:`~ikaros.report.figures._common`; the imports run
one way only: ``course`` -> ``cif``, ``swimmer``, ``oncoprint`` -> ``_common``.
"""

from __future__ import annotations

from ikaros.report.figures.cif import CIFLike, cif_figure
from ikaros.report.figures.oncoprint import oncoprint_figure
from ikaros.report.figures.swimmer import swimmer_figure

__all__ = ["CIFLike", "cif_figure", "oncoprint_figure", "swimmer_figure"]
