"""How the report names things: columns by their ``--label``, units, cuts, levels, the title.

Every caption, legend and table of the study report takes its wording from here, so that a
column is called the same everywhere (``--label b2m_mg_l="beta-2 microglobulin (mg/L)"``: the
label, never the raw column name), a cut is stated with its values and unit and whether it was
pre-specified or derived from the data, and a marker's values are called "expression" only when
the measurement says so.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ikaros.cohort._variables import CANONICAL_LABELS
from ikaros.results import Analysis, CompetingAnalysis, CoxModel, Results

__all__ = [
    "CANONICAL_LABELS",
    "Label",
    "adjuster_names",
    "analysis_cut_statement",
    "analysis_term_display",
    "competing_names",
    "cut_display_labels",
    "cut_name",
    "cut_statement",
    "cut_values",
    "display_label",
    "file_stem",
    "fmt_value",
    "group_model_name",
    "level_display",
    "normalise_cut",
    "parse_label",
    "quartile_statement",
    "report_title",
    "table_name",
    "term_display",
    "value_axis_label",
]


_UNIT = re.compile(r"^(?P<name>.*?)\s*\((?P<unit>[^()]*)\)\s*$")
_ROMAN = {"1": "I", "2": "II", "3": "III", "I": "I", "II": "II", "III": "III"}


@dataclass(frozen=True)
class Label:
    """A column's display label split into its name and unit (``"serum LDH (U/L)"``)."""

    text: str
    name: str
    unit: str

    def with_unit(self, value: str) -> str:
        """``"3.5 mg/L"``; the value alone without a unit."""
        return f"{value} {self.unit}" if self.unit else value


def parse_label(text: str) -> Label:
    """Split ``"beta-2 microglobulin (mg/L)"`` into name and unit (a final parenthesis)."""
    m = _UNIT.match(text)
    if m and m.group("name").strip() and m.group("unit").strip():
        return Label(text, m.group("name").strip(), m.group("unit").strip())
    return Label(text, text, "")


def display_label(results: Results, column: str) -> Label:
    """The display label of a column: ``--label``, else a canonical name, else the column."""
    text = results.options.labels.get(column) or CANONICAL_LABELS.get(column, column)
    return parse_label(text)


def fmt_value(v: float | None) -> str:
    """A cut value as the study records it in its rules (4 significant digits)."""
    if v is None:
        return "n/a"
    return f"{v:.4g}"


def report_title(results: Results) -> str:
    """``--title``, else the input's file name (never a directory path)."""
    if results.options.title:
        return results.options.title
    source = results.input.source
    name = Path(source).name if ("/" in source or "\\" in source) else source
    return name or source


def value_axis_label(results: Results, marker: str) -> str:
    """What the marker's values are called on an axis.

    The ``--label`` when given; else ``"<marker> expression"`` when the measurement text (or an
    expression table as input) says the values are expression; else ``"<marker> value"``.
    """
    if marker in results.options.labels:
        return results.options.labels[marker]
    measurement = (results.options.measurement or "").lower()
    if "expression" in measurement or results.input.expression_source:
        return f"{marker} expression"
    return f"{marker} value"


def level_display(variable: str, level: str) -> str:
    """A level as shown: ISS stages as ``ISS I`` ..., other levels as they are."""
    if variable == "iss" and level.strip().upper() in _ROMAN:
        return f"ISS {_ROMAN[level.strip().upper()]}"
    return level


# --------------------------------------------------------------------------- cuts


def _and(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


_DEFAULT_LABELS = {
    "quartile": ["Q1", "Q2-4"],
    "median": ["low", "high"],
    "tertile": ["T1", "T2", "T3"],
    "upper-quartile": ["Q1-3", "Q4"],
}


def normalise_cut(cut: Mapping[str, Any]) -> dict[str, Any]:
    """A cut record with ``kind``, ``values`` and ``labels``: results of schema 1.0 hold only
    ``kind``, ``origin`` and ``value`` (the quartile cut)."""
    out = dict(cut)
    kind = str(out.get("kind") or "quartile")
    out["kind"] = kind
    if not out.get("values") and out.get("value") is not None:
        out["values"] = [out["value"]]
    out.setdefault("values", [])
    if not out.get("labels"):
        out["labels"] = list(_DEFAULT_LABELS.get(kind, []))
    return out


def cut_name(cut: Mapping[str, Any]) -> str:
    """Short name of a cut for titles and table columns."""
    cut = normalise_cut(cut)
    kind = cut["kind"]
    values = [fmt_value(v) for v in cut.get("values", [])]
    return {
        "quartile": "lowest quartile (Q1) vs Q2-4",
        "median": "median split",
        "tertile": "tertiles",
        "upper-quartile": "upper quartile (Q4) vs Q1-3",
        "thresholds": "thresholds " + ", ".join(values),
    }.get(kind, kind)


def cut_display_labels(cut: Mapping[str, Any], label: Label) -> dict[str, str]:
    """Group label -> display label; threshold groups carry their values and unit.

    ``<= 3.5``, ``3.5-5.5``, ``> 5.5`` become ``≤ 3.5 mg/L``, ``3.5–5.5 mg/L``, ``> 5.5 mg/L``;
    named groups (Q1, low, T2, ...) keep their names (the cut statement gives the values).
    """
    cut = normalise_cut(cut)
    labels = [str(x) for x in cut.get("labels", [])]
    if cut.get("kind") != "thresholds":
        return {lab: lab for lab in labels}
    values = [fmt_value(v) for v in cut.get("values", [])]
    if len(labels) != len(values) + 1:
        return {lab: lab for lab in labels}
    shown = [f"≤ {values[0]}"]
    shown += [f"{a}–{b}" for a, b in itertools.pairwise(values)]
    shown.append(f"> {values[-1]}")
    return {lab: label.with_unit(s) for lab, s in zip(labels, shown, strict=True)}


def _cut_parts(cut: Mapping[str, Any], label: Label) -> tuple[str, str]:
    """(the groups with their values, the percentile rule) of a data-derived cut."""
    cut = normalise_cut(cut)
    kind = cut["kind"]
    values = [fmt_value(v) for v in cut.get("values", [])]
    v0 = label.with_unit(values[0]) if values else "n/a"
    if kind == "quartile":
        return f"Q1: ≤ {v0}", "25th percentile"
    if kind == "median":
        return f"low: ≤ {v0}, high: > {v0}", "median"
    if kind == "upper-quartile":
        return f"Q4: > {v0}", "75th percentile"
    if kind == "tertile":
        v1 = label.with_unit(values[-1]) if values else "n/a"
        t0 = values[0] if values else "n/a"
        return f"T1: ≤ {t0}, T3: > {v1}", "33.3rd and 66.7th percentiles"
    return f"cut {v0}", "cut"


def cut_values(cut: Mapping[str, Any], label: Label) -> str:
    """Only the cut values with the unit: ``Q1: ≤ 2.1 mg/L``, ``3.5 and 5.5 mg/L``."""
    cut = normalise_cut(cut)
    if cut["kind"] == "thresholds":
        return label.with_unit(_and([fmt_value(v) for v in cut.get("values", [])]))
    return _cut_parts(cut, label)[0]


def cut_statement(cut: Mapping[str, Any], label: Label, *, short: bool = False) -> str:
    """The cut with its values, unit and origin, for legends, captions and tables.

    ``short``: one line for a figure legend, e.g. ``Q1: ≤ 2.1 mg/L (25th percentile, derived
    from these data)`` or ``pre-specified thresholds 3.5 and 5.5 mg/L``.
    """
    if cut.get("kind") == "thresholds":
        text = f"pre-specified thresholds {cut_values(cut, label)}"
        if short:
            return text
        return (
            f"{text} (fixed before the analysis, not derived from these data; a value equal "
            "to a threshold belongs to the lower group)"
        )
    what, pct = _cut_parts(cut, label)
    if short:
        return f"{what} ({pct}, derived from these data)"
    return (
        f"{what}, the {pct} of these data (the rule was pre-specified; the value is derived "
        "from the data)"
    )


def analysis_cut_statement(results: Results, a: Analysis, *, short: bool = False) -> str:
    """:func:`cut_statement` of an analysis's primary cut, with the marker's label."""
    return cut_statement(a.cut, display_label(results, a.marker), short=short)


def quartile_statement(a: Analysis, label: Label) -> str:
    """The quartile values of a marker (the secondary description)."""
    q = ", ".join(fmt_value(v) for v in a.quartiles)
    return f"Quartiles of these data: 25th, 50th, 75th percentiles {label.with_unit(q)}"


def term_display(results: Results, term: str, marker: str | None = None) -> str:
    """A Cox term as shown: the column replaced by its label.

    ``b2m_mg_l 3.5-5.5 vs <= 3.5`` -> ``beta-2 microglobulin 3.5-5.5 vs <= 3.5``;
    ``iss II vs I`` -> ``ISS stage II vs I``; ``age`` -> ``age``.
    """
    names = [marker] if marker else []
    names += list(results.options.markers) + list(results.options.groups)
    names += list(results.options.covariates) + list(CANONICAL_LABELS)
    for col in names:
        if col is None:
            continue
        if term == col:
            return display_label(results, col).text
        if term.startswith(col + " "):
            return display_label(results, col).name + term[len(col) :]
    return term


def file_stem(stem: str) -> str:
    """A file name for figure or table ``stem``: names may hold '/', spaces or markup.

    Names of letters, digits, '_', '.' and '-' are kept; others are replaced and made unique with
    a short hash of the original.
    """
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip(".") or "figure"
    if safe == stem:
        return stem
    return f"{safe[:80]}_{hashlib.sha256(stem.encode()).hexdigest()[:8]}"


def table_name(kind: str, name: str, endpoint: str) -> str:
    """File-safe, unique name of a per-analysis table (``groups_iss_os``)."""
    return file_stem(f"{kind}_{name}_{endpoint}")


def analysis_term_display(results: Results, a: Analysis, term: str) -> str:
    """A Cox term of a marker analysis as shown.

    Group terms ``<marker> <group> vs <lowest>`` name the groups as the figures do
    (``beta-2 microglobulin 3.5–5.5 mg/L vs ≤ 3.5 mg/L``, ``IKZF1 Q2-4 vs Q1``); the marker
    itself is its label; other terms (adjusters) their labels.
    """
    lab = display_label(results, a.marker)
    prefix = a.marker + " "
    if term.startswith(prefix) and " vs " in term:
        group, ref = term[len(prefix) :].split(" vs ", 1)
        names = cut_display_labels(a.cut, lab)
        return f"{lab.name} {names.get(group, group)} vs {names.get(ref, ref)}"
    return term_display(results, term, a.marker)


def group_model_name(results: Results, a: Analysis) -> str:
    """``Q2-4 vs Q1`` for the default cut, else ``groups vs <lowest group>``."""
    if a.cut.get("kind", "quartile") == "quartile":
        return "Q2-4 vs Q1"
    labels = [str(x) for x in a.cut.get("labels", [])]
    names = cut_display_labels(a.cut, display_label(results, a.marker))
    return f"groups vs {names.get(labels[0], labels[0])}" if labels else "groups"


def adjuster_names(results: Results, model: CoxModel | None, marker: str) -> list[str]:
    """Display names of the terms of ``model`` other than the marker's (the adjusters)."""
    if model is None:
        return []
    return [
        term_display(results, name, marker)
        for name in model.terms
        if name != marker and not name.startswith(marker + " ")
    ]


def competing_names(c: CompetingAnalysis, label: Label) -> dict[str, str]:
    """Group -> display name in a competing-risk analysis: threshold groups with their values
    and unit, ISS stages as ``ISS I``, other groups as they are."""
    if c.cut is not None:
        return cut_display_labels(c.cut, label)
    return {k: level_display(c.name, k) for k in c.groups}
