"""The sections of the study report, in order, from the rendered figures and the tables.

Only what the results hold is shown. Where a table or panel has no content in these data (no
multivariable model without adjusters, no marker-vs-response panel without response data, no
marker-vs-ISS panel without ISS), it is left out and one sentence says why in its place.
"""

from __future__ import annotations

from ikaros.report.document import Block, FigureRef, Section
from ikaros.report.naming import display_label, file_stem
from ikaros.report.plan import km_stem, marker_panels
from ikaros.report.predictive import predictive_sections
from ikaros.report.prognostic import performance_sections
from ikaros.report.remark import remark_profile
from ikaros.report.tables import Table
from ikaros.report.tables_groups import empty_levels_sentence, table_name
from ikaros.results import Results

__all__ = ["NO_MULTIVARIABLE", "study_sections"]

#: Why the multivariable table is missing (no adjusting variable in the data or options).
NO_MULTIVARIABLE = (
    "No multivariable Cox model was fitted: no adjusting variable was available (name "
    "covariates with --covariate)."
)


def _and(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _summary(results: Results, tables: dict[str, Table]) -> Section:
    s = Section("summary", "Summary")
    for name in ("summary", "grouping_summary", "competing_summary"):
        if name in tables:
            s.blocks.append(Block("table", table=tables[name]))
    for w in results.warnings:
        s.blocks.append(Block("warning", w))
    return s


def _paper(results: Results, figs: dict[str, FigureRef]) -> list[Section]:
    if "paper_vs_cohort" not in figs:
        return []
    return [
        Section(
            "paper",
            "Paper vs this cohort",
            [
                Block(
                    "text",
                    "This cohort is simulated (seed "
                    f"{results.options.seed}) to resemble the DSMM XII cohort of Kronke et "
                    "al. (Leukemia 2017); its true effects are the published hazard ratios.",
                ),
                Block("figure", figure=figs["paper_vs_cohort"]),
            ],
        )
    ]


def _remark(results: Results) -> Section:
    profile = remark_profile(results)
    remark = Section("remark", "REMARK profile", [Block("table", table=profile.flow)])
    for heading, text in profile.items:
        remark.blocks += [Block("heading", heading), Block("text", text)]
    return remark


def _markers(results: Results, figs: dict[str, FigureRef]) -> list[Section]:
    out = []
    for endpoint in results.options.endpoints:
        analyses = [a for a in results.analyses if a.endpoint == endpoint]
        if not analyses:
            continue
        sec = Section(f"survival-{file_stem(endpoint)}", f"{endpoint.upper()} by marker")
        for a in analyses:
            sec.blocks.append(Block("heading", display_label(results, a.marker).text))
            for grouping in ("q1", "quartiles"):
                stem = km_stem(a, grouping)
                if stem in figs:
                    sec.blocks.append(Block("figure", figure=figs[stem]))
            for note in a.notes:
                sec.blocks.append(Block("warning", note))
        out.append(sec)
    return out


def _groupings(
    results: Results, figs: dict[str, FigureRef], tables: dict[str, Table]
) -> list[Section]:
    out = []
    for endpoint in results.options.endpoints:
        gs = [g for g in results.groupings if g.endpoint == endpoint]
        if not gs:
            continue
        labels = [display_label(results, g.variable).text for g in gs]
        sec = Section(f"groups-{file_stem(endpoint)}", f"{endpoint.upper()} by {_and(labels)}")
        for g, label in zip(gs, labels, strict=True):
            if len(gs) > 1:
                sec.blocks.append(Block("heading", label))
            stem = f"km_group_{g.variable}_{g.endpoint}"
            if stem in figs:
                sec.blocks.append(Block("figure", figure=figs[stem]))
            sentence = empty_levels_sentence(results, g)
            if sentence:
                sec.blocks.append(Block("text", sentence))
            name = table_name("groups", g.variable, g.endpoint)
            if name in tables:
                sec.blocks.append(Block("table", table=tables[name]))
            for note in g.notes:
                if not note.startswith(f"{g.label}: no analysed patient"):
                    sec.blocks.append(Block("warning", note))
        out.append(sec)
    return out


def _competing(
    results: Results, figs: dict[str, FigureRef], tables: dict[str, Table]
) -> list[Section]:
    from ikaros.study.competing import EXPLANATION

    out = []
    for endpoint in results.options.endpoints:
        cs = [c for c in results.competing if c.endpoint == endpoint]
        if not cs:
            continue
        sec = Section(
            f"competing-{file_stem(endpoint)}",
            f"{endpoint.upper()}: cumulative incidence of {cs[0].event}",
        )
        for c in cs:
            sec.blocks.append(Block("heading", f"By {display_label(results, c.name).text}"))
            stem = f"cif_{c.name}_{c.endpoint}"
            if stem in figs:
                sec.blocks.append(Block("figure", figure=figs[stem]))
            for kind in ("incidence", "competing_models"):
                name = table_name(kind, c.name, c.endpoint)
                if name in tables:
                    sec.blocks.append(Block("table", table=tables[name]))
            for note in c.notes:
                sec.blocks.append(Block("warning", note))
        sec.blocks.append(Block("heading", "Subdistribution and cause-specific hazard ratios"))
        sec.blocks.append(Block("text", EXPLANATION))
        out.append(sec)
    return out


def _cox(results: Results, figs: dict[str, FigureRef], tables: dict[str, Table]) -> list[Section]:
    if not results.analyses:
        return []
    cox = Section("cox", "Cox regression", [Block("table", table=tables["cox_univariate"])])
    if "cox_multivariable" in tables:
        cox.blocks.append(Block("table", table=tables["cox_multivariable"]))
    else:
        cox.blocks.append(Block("text", NO_MULTIVARIABLE))
    for stem in sorted(k for k in figs if k.startswith("forest_")):
        cox.blocks.append(Block("figure", figure=figs[stem]))
    return [cox]


def _marker_associations(results: Results, figs: dict[str, FigureRef]) -> list[Section]:
    markers = list(dict.fromkeys(m.marker for m in results.marker_associations))
    if not markers:
        return []
    sec = Section("markers", "Marker vs ISS stage and response")
    missing: list[str] = []
    for marker in markers:
        panels = marker_panels(results, marker)
        if f"marker_{marker}" in figs:
            sec.blocks.append(Block("figure", figure=figs[f"marker_{marker}"]))
        for panel, what in (("iss", "ISS stage"), ("response", "best response")):
            if panel not in panels and what not in missing:
                missing.append(what)
    if missing == ["ISS stage", "best response"]:
        sec.blocks.append(
            Block(
                "text",
                "Marker values against ISS stage and best response are not shown: the data "
                "have neither ISS stage nor best response.",
            )
        )
    elif missing == ["best response"]:
        sec.blocks.insert(
            0,
            Block(
                "text",
                "The marker-vs-response panel is omitted: the data have no best response.",
            ),
        )
    elif missing == ["ISS stage"]:
        sec.blocks.insert(
            0, Block("text", "The marker-vs-ISS panel is omitted: the data have no ISS stage.")
        )
    return [sec]


def study_sections(
    results: Results, figs: dict[str, FigureRef], tables: dict[str, Table]
) -> list[Section]:
    """The report's sections in order."""
    out = [_summary(results, tables), *_paper(results, figs)]
    out.append(
        Section(
            "cohort", "Cohort characteristics", [Block("table", table=tables["characteristics"])]
        )
    )
    out.append(_remark(results))
    out += _markers(results, figs)
    out += _groupings(results, figs, tables)
    out += _competing(results, figs, tables)
    out += _cox(results, figs, tables)
    if "landmark_survival" in tables:
        out.append(
            Section(
                "landmark",
                "Landmark survival",
                [Block("table", table=tables["landmark_survival"])],
            )
        )
    if "optimal_cutpoints" in tables:
        out.append(
            Section(
                "cutpoints",
                "Optimised cutpoints",
                [Block("table", table=tables["optimal_cutpoints"])],
            )
        )
    out += performance_sections(results, figs, tables)
    out += predictive_sections(results, figs, tables)
    out += _marker_associations(results, figs)
    return out
