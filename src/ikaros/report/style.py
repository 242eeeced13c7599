"""Journal style of the report figures: palette, fonts, sizes and number formats.

Figures are built inside :func:`journal_style`, a temporary :func:`matplotlib.rc_context`; no
pyplot state is used. Sizes follow the usual journal rules: sans-serif text of 7-8 pt, hairline
axes, no top or right spines, widths of one column (3.5 in) or two columns (7 in).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib

__all__ = [
    "DOUBLE_COLUMN",
    "FONT_SIZE",
    "GREY",
    "PALETTE",
    "RC",
    "SINGLE_COLUMN",
    "SMALL_SIZE",
    "endpoint_label",
    "fmt_ci",
    "fmt_hr",
    "fmt_p",
    "fmt_pct",
    "journal_style",
]

#: Okabe-Ito colour-blind-safe colours, in the order the figures use them: blue, vermillion,
#: bluish green, orange, reddish purple, sky blue, yellow, black.
PALETTE: tuple[str, ...] = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#E69F00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#000000",
)

#: Secondary text and reference lines.
GREY = "#666666"

#: Figure widths in inches.
SINGLE_COLUMN = 3.5
DOUBLE_COLUMN = 7.0

#: Text sizes in points: labels and body text; tables, legends and annotations.
FONT_SIZE = 8.0
SMALL_SIZE = 7.0

#: Salt of the SVG element ids, so that the same figure gives the same bytes.
SVG_HASHSALT = "ikaros"

RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["Arial", "Helvetica", "Liberation Sans", "DejaVu Sans"],
    "font.size": FONT_SIZE,
    "axes.labelsize": FONT_SIZE,
    "axes.titlesize": FONT_SIZE,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.unicode_minus": True,
    "xtick.labelsize": SMALL_SIZE,
    "ytick.labelsize": SMALL_SIZE,
    "xtick.major.size": 3.0,
    "ytick.major.size": 3.0,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.minor.size": 0.0,
    "ytick.minor.size": 0.0,
    "xtick.major.pad": 2.5,
    "ytick.major.pad": 2.5,
    "legend.fontsize": SMALL_SIZE,
    "lines.linewidth": 1.2,
    "lines.solid_capstyle": "butt",
    "patch.linewidth": 0.6,
    "text.usetex": False,
    "text.parse_math": False,  # user text (marker names with $) is never read as mathtext
    "mathtext.default": "regular",
    "figure.dpi": 100,
    "figure.facecolor": "white",
    "savefig.dpi": 300,
    "savefig.facecolor": "white",
    "savefig.bbox": None,
    "svg.fonttype": "none",
    "svg.hashsalt": SVG_HASHSALT,
    "svg.image_inline": True,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "path.simplify": True,
}


@contextmanager
def journal_style() -> Iterator[None]:
    """Apply :data:`RC` temporarily (restored on exit; matplotlib's rcParams are global)."""
    with matplotlib.rc_context(RC):  # type: ignore[arg-type]
        yield


_ENDPOINT_ABBREVIATIONS = frozenset({"pfs", "os", "efs", "ttp", "dfs", "rfs", "dss", "ttnt"})


def endpoint_label(endpoint: str) -> str:
    """``pfs`` -> ``PFS``: the usual abbreviations upper-cased, other names as given."""
    return endpoint.upper() if endpoint.lower() in _ENDPOINT_ABBREVIATIONS else endpoint


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def fmt_p(p: float | None) -> str:
    """P value as printed in journals: ``0.012``, ``0.32``, ``<0.001``; ``n/a`` if missing."""
    if p is None or not math.isfinite(p):
        return "n/a"
    if p < 0.001:
        return "<0.001"
    if p >= 0.995:
        return ">0.99"
    return f"{p:#.2g}"


def fmt_hr(x: float | None) -> str:
    """Hazard ratio to about three significant digits (``0.43``, ``5.67``, ``11.7``, ``738``)."""
    if x is None or math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "∞" if x > 0 else "0"
    if x >= 1e5:
        return f"{x:.1e}".replace("e+0", "e").replace("e+", "e")
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 0.01:
        return f"{x:.2f}"
    return f"{x:.1e}".replace("e-0", "e-")


def fmt_ci(estimate: float | None, lower: float | None, upper: float | None) -> str:
    """``HR (lower–upper)``; the interval is left out when both ends are missing."""
    text = fmt_hr(estimate)
    if _finite(lower) or _finite(upper) or (upper is not None and math.isinf(upper)):
        text += f" ({fmt_hr(lower)}–{fmt_hr(upper)})"
    return text


def fmt_pct(x: float | None) -> str:
    """Probability as a whole percentage; ``n/a`` if missing."""
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{100 * x:.0f}%"
