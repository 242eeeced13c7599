"""Published figures of Kronke et al. (2017) and their counterparts in a results file.

Used by ``ikaros demo`` and the report's "paper vs this cohort" table. Values are from the paper
(see ``shared/reference/published.md``).

References
----------
Kronke J, et al. Leukemia 2017;31:1363-1367. doi:10.1038/leu.2016.384
"""

from __future__ import annotations

from dataclasses import dataclass

from ikaros.results import Results

__all__ = ["PUBLISHED", "Comparison", "compare_with_paper"]


@dataclass(frozen=True)
class Comparison:
    quantity: str
    published: str
    reproduced: str | None
    note: str = ""


#: (quantity, published value as printed in the paper)
PUBLISHED: tuple[tuple[str, str], ...] = (
    ("patients", "60"),
    ("standard / high-risk cytogenetics", "41 / 19"),
    ("3-year PFS, IKZF1 Q1 vs Q2-4", "86% vs 51%"),
    ("PFS log-rank P, IKZF1 Q1 vs Q2-4", "0.01"),
    ("3-year OS, IKZF1 Q1 vs Q2-4", "100% vs 74%"),
    ("OS log-rank P, IKZF1 Q1 vs Q2-4", "0.03"),
    ("PFS HR, high-risk cytogenetics (multivariable)", "5.06"),
    ("PFS HR, high IKZF1 (multivariable)", "1.91"),
    ("OS HR, high-risk cytogenetics", "7.31"),
)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def _hr(model: object, term: str) -> str | None:
    terms = getattr(model, "terms", None)
    if not terms or term not in terms:
        return None
    t = terms[term]
    flag = " (Firth)" if getattr(model, "method", "") == "firth" else ""
    return f"{t.hr:.2f} ({t.lower:.2f}-{t.upper:.2f}){flag}"


def compare_with_paper(results: Results, marker: str = "IKZF1") -> list[Comparison]:
    """Side-by-side table of the published figures and those in ``results``."""
    got: dict[str, str | None] = {q: None for q, _ in PUBLISHED}
    got["patients"] = str(results.cohort.n)
    cyto = results.cohort.cytogenetics
    if cyto:
        got["standard / high-risk cytogenetics"] = f"{cyto['standard']} / {cyto['high']}"
    for ep, label in (("pfs", "PFS"), ("os", "OS")):
        try:
            a = results.analysis(marker, ep)
        except KeyError:
            continue
        g = a.groups
        if "Q1" in g and "Q2-4" in g:
            got[f"3-year {label}, IKZF1 Q1 vs Q2-4"] = (
                f"{_pct(g['Q1'].landmark.survival)} vs {_pct(g['Q2-4'].landmark.survival)}"
            )
        got[f"{label} log-rank P, IKZF1 Q1 vs Q2-4"] = f"{a.logrank.p:.3g}"
        model = a.cox_group_multivariable
        if ep == "pfs":
            got["PFS HR, high-risk cytogenetics (multivariable)"] = _hr(model, "cyto_high_risk")
            got["PFS HR, high IKZF1 (multivariable)"] = _hr(model, f"{marker} Q2-4 vs Q1")
        else:
            got["OS HR, high-risk cytogenetics"] = _hr(model, "cyto_high_risk")
    notes = {
        "PFS HR, high IKZF1 (multivariable)": "Cox: IKZF1 Q2-4 vs Q1 + cytogenetic risk",
        "PFS HR, high-risk cytogenetics (multivariable)": "same model",
        "OS HR, high-risk cytogenetics": "Cox: IKZF1 Q2-4 vs Q1 + cytogenetic risk",
    }
    return [Comparison(q, pub, got[q], notes.get(q, "")) for q, pub in PUBLISHED]
