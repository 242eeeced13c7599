"""Write the outputs of ``ikaros model``: model.json, figures, tables and model_report.html.

The page reuses the study report's machinery (:func:`ikaros.report.document.render_page`,
sections of blocks, :class:`~ikaros.report.tables.Table`) and says at the top, plainly, that the
model is hypothesis-generating. Every number comes from the :class:`ModelResult`; this module
only formats. Plotting libraries are imported only when figures are drawn.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ikaros.model.parameters import REFERENCES
from ikaros.model.result import ModelResult, model_to_json
from ikaros.report.document import Block, FigureRef, Section, render_page
from ikaros.report.tables import Table, fmt_p

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["HTML_NAME", "JSON_NAME", "model_sections", "model_tables", "write_model_outputs"]

JSON_NAME = "model.json"
HTML_NAME = "model_report.html"
HEADING = "Degradation-threshold model"


def _num(x: float | None, digits: int = 3) -> str:
    if x is None or x != x:
        return "n/a"
    return f"{x:.{digits}g}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None or x != x else f"{100 * x:.0f}%"


def _schedule(label: str) -> str:
    if label == "continuous":
        return "every day (28-day cycles)"
    on, length = label.split("/")
    return f"days 1-{on} of {length}"


def model_tables(result: ModelResult) -> dict[str, Table]:
    """The tables of the page, also written as CSV files."""
    o = result.options
    tables: dict[str, Table] = {}
    tables["parameters"] = Table(
        "parameters",
        f"Parameters ({o.marker})",
        ("Parameter", "Value", "Unit", "Status", "Plausible range", "Source or reason"),
        tuple(
            (
                p.label,
                f"{p.value:g}",
                p.unit,
                p.status,
                "-" if p.low is None or p.high is None else f"{p.low:g}-{p.high:g}",
                p.source,
            )
            for p in result.parameters
        ),
        "published: as reported; derived: computed from published values; assumed: our choice, "
        "explored over the plausible range in the sensitivity analysis.",
    )
    tables["pk_check"] = Table(
        "pk_check",
        "Single 10 mg dose: model against published means",
        ("Quantity", "Published", "Model", "Relative error", "Source"),
        tuple(
            (
                f"{c.quantity} ({c.unit})",
                f"{c.published:g}",
                f"{c.model:.3g}",
                f"{100 * c.relative_error:+.1f}%",
                c.source,
            )
            for c in result.pk_check
        ),
        "Accepted within 15%. A one-compartment model cannot meet all three means at once "
        "(Cmax/AUC = ke exp(-ke tmax) < ke, but the published ratio exceeds the ke of the "
        "published half-life); the parameters are the compromise with the smallest largest error.",
    )
    tables["classes"] = Table(
        "classes",
        f"{o.endpoint.upper()} by predicted class",
        (
            "Class",
            "n",
            "Events",
            f"{o.landmark_months:g}-month {o.endpoint.upper()}",
            "95% CI",
            "Median (months)",
        ),
        tuple(
            (
                c.label,
                str(c.n),
                str(c.events),
                _pct(c.landmark),
                "n/a"
                if c.landmark_lower is None or c.landmark_upper is None
                else f"{100 * c.landmark_lower:.0f}-{100 * c.landmark_upper:.0f}%",
                "not reached" if c.median is None else f"{c.median:.1f}",
            )
            for c in result.classes
        ),
        (
            f"Log-rank chi-square {result.logrank_statistic:.2f}, P = {fmt_p(result.logrank_p)}."
            if result.logrank_statistic is not None
            else f"Log-rank test {result.logrank_note}."
        )
        + " The classes come from the model with its assumed parameters, not from the outcome.",
    )
    tables["dose_response"] = Table(
        "dose_response",
        "Dose and schedule",
        (
            "Daily dose (mg)",
            "Schedule",
            "Critical relative mRNA m*",
            "Predicted sensitive",
            "Share",
        ),
        tuple(
            (
                f"{r.dose_mg:g}",
                _schedule(r.schedule),
                f"{r.critical_m:.3f}",
                str(r.n_sensitive),
                _pct(r.sensitive_fraction),
            )
            for r in result.dose_response
        ),
        "m* at the reference renal function; a patient is predicted sensitive when the relative "
        "mRNA is below m* (with individual creatinine clearance, when its score m q is below "
        "theta).",
    )
    tables["tornado"] = Table(
        "tornado",
        "Sensitivity analysis (one parameter at a time)",
        (
            "Parameter",
            "Base",
            "Low",
            "High",
            "m* at low",
            "m* at high",
            "Sensitive at low",
            "Sensitive at high",
        ),
        tuple(
            (
                f"{r.label} ({r.unit})",
                f"{r.base:g}",
                f"{r.low:g}",
                f"{r.high:g}",
                f"{r.critical_m_low:.3f}",
                f"{r.critical_m_high:.3f}",
                _pct(r.fraction_low),
                _pct(r.fraction_high),
            )
            for r in result.tornado
        ),
        f"Base m* = {result.critical_m:.3f}. Rows sorted by the swing of m*.",
    )
    fit = result.theta_fit
    if fit is not None:
        rows: list[tuple[str, str]] = [
            ("theta (cut on the score m q)", _num(fit.theta)),
            ("critical relative mRNA m* at this theta", _num(fit.critical_m)),
            ("hazard ratio, above vs at or below the cut", _num(fit.hazard_ratio)),
            (
                "likelihood support set of the cut",
                "n/a"
                if fit.support_lower is None
                else f"{_num(fit.support_lower)} to {_num(fit.support_upper)}",
            ),
            ("cut of the maximally selected log-rank statistic", _num(fit.maxstat_cut)),
            ("P corrected for the search (Lau94)", fmt_p(fit.p_lau94)),
            (
                "P corrected for the search (permutation)",
                "n/a"
                if fit.p_permutation is None
                else f"{fmt_p(fit.p_permutation)} (B = {fit.n_permutations})",
            ),
            ("search range (share at or below the cut)", f"{fit.minprop:g}-{fit.maxprop:g}"),
        ]
        tables["theta_fit"] = Table(
            "theta_fit",
            f"Theta fitted to {o.endpoint.upper()}",
            ("Quantity", "Value"),
            tuple(rows),
            fit.note,
        )
    n_cycles = o.n_cycles
    tables["patients"] = Table(
        "patients",
        "Patients",
        (
            "Patient",
            "Row",
            "Expression",
            "m",
            "CrCl (mL/min)",
            *(f"Nadir C{c + 1}" for c in range(n_cycles)),
            *(f"Hours below theta C{c + 1}" for c in range(n_cycles)),
            "Score m q",
            "Predicted",
        ),
        tuple(
            (
                p.patient_id,
                str(p.row),
                f"{p.expression:.6g}",
                f"{p.m:.4f}",
                "ref" if p.crcl is None else f"{p.crcl:g}",
                *(f"{v:.4f}" for v in p.nadir),
                *(f"{v:.1f}" for v in p.hours_below),
                f"{p.score:.4f}",
                "sensitive" if p.sensitive else "resistant",
            )
            for p in result.patients
        ),
        f"Classified on cycle {o.classified_on_cycle}. Row: row of the input file.",
    )
    return tables


_FIGURES: tuple[tuple[str, str, str], ...] = (
    (
        "trajectories",
        "Protein under lenalidomide",
        "Plasma lenalidomide (top) and the protein of a low, median and high expresser (bottom, "
        "log scale) against the critical level theta (dashed): the mechanism of the Oncotarget "
        "letter's Figure 1 with numbers.",
    ),
    (
        "km_by_class",
        "Survival by predicted class",
        "Kaplan-Meier estimates with 95% pointwise log-log bands and numbers at risk.",
    ),
    (
        "dose_response",
        "Dose and schedule",
        "Critical relative mRNA m* and the share of the cohort predicted sensitive by daily dose.",
    ),
    (
        "tornado",
        "Sensitivity analysis",
        "m* with each uncertain parameter at the ends of its plausible range.",
    ),
    (
        "theta_profile",
        "Theta fitted to the outcome",
        "Profile likelihood-ratio statistic over the candidate cuts of the score.",
    ),
)


def _figure_makers(result: ModelResult) -> dict[str, Callable[[], Figure]]:
    from ikaros.report.figures import model as mf

    makers: dict[str, Callable[[], Figure]] = {
        "trajectories": lambda: mf.trajectories_figure(result),
        "km_by_class": lambda: mf.model_km_figure(result),
        "dose_response": lambda: mf.dose_response_figure(result),
        "tornado": lambda: mf.tornado_figure(result),
    }
    if result.theta_fit is not None and result.theta_fit.theta is not None:
        makers["theta_profile"] = lambda: mf.theta_profile_figure(result)
    return makers


def _summary(result: ModelResult) -> Section:
    o = result.options
    i = result.input
    n_sens = result.n_sensitive
    text = (
        f"{i.n_analysed} of {i.n_patients} patients analysed ({i.excluded_missing_marker} "
        f"without {o.marker}, {i.excluded_missing_endpoint} without {o.endpoint.upper()}); "
        f"median {o.marker} expression {i.median_expression:.4g} defines m = 1. At "
        f"{o.dose_mg:g} mg daily on {_schedule(o.schedule)}, the model predicts that the protein "
        f"stays below theta = {result.parameter('theta').value:g} for at least "
        f"{result.parameter('min_hours_below').value:g} h per cycle when the relative mRNA is "
        f"below m* = {result.critical_m:.3f}: {n_sens} patients "
        f"({100 * n_sens / max(len(result.patients), 1):.0f}%) are predicted sensitive."
    )
    blocks = [Block("warning", text=result.disclaimer), Block("text", text=text)]
    for note in result.notes:
        blocks.append(Block("text", text=note[0].upper() + note[1:] + "."))
    return Section("summary", "Summary", blocks)


_EQUATIONS = (
    "Lenalidomide: one-compartment oral model, C(t) from dA_g/dt = -ka A_g, "
    "dA_c/dt = ka A_g - (CL/F)/(V/F) A_c, C = A_c/(V/F), one dose a day on the scheduled days; "
    "CL/F scaled by creatinine clearance. Protein: dP/dt = k_syn m - (k_deg + E_max C^h / "
    "(EC50^h + C^h)) P with k_syn = k_deg, so that an untreated patient with relative mRNA m "
    "(expression / cohort median) has P = m. Growth is assumed to stop while P < theta. "
    "Because the equation is linear, P = m P1(t) and every patient's nadir and time below "
    "theta follow from one solution; the classification is a cut on m."
)


def model_sections(result: ModelResult, figures: dict[str, FigureRef]) -> list[Section]:
    """The sections of the page (figures missing from ``figures`` are left out)."""
    tables = model_tables(result)

    def fig(stem: str) -> list[Block]:
        return [Block("figure", figure=figures[stem])] if stem in figures else []

    sections = [
        _summary(result),
        Section(
            "model",
            "The model and its parameters",
            [
                Block("text", text=_EQUATIONS),
                Block("table", table=tables["parameters"]),
                Block("heading", text="References"),
                *(Block("text", text=f"[{k}] {v}") for k, v in REFERENCES.items()),
            ],
        ),
        Section("pk", "Pharmacokinetics", [Block("table", table=tables["pk_check"])]),
        Section("trajectories", "Protein trajectories", fig("trajectories")),
        Section(
            "classes",
            "Predicted classes and survival",
            [Block("table", table=tables["classes"]), *fig("km_by_class")],
        ),
        Section(
            "dose",
            "Dose and schedule",
            [Block("table", table=tables["dose_response"]), *fig("dose_response")],
        ),
        Section(
            "sensitivity",
            "Sensitivity analysis",
            [Block("table", table=tables["tornado"]), *fig("tornado")],
        ),
    ]
    if "theta_fit" in tables:
        sections.append(
            Section(
                "fit",
                "Theta fitted to the outcome",
                [Block("table", table=tables["theta_fit"]), *fig("theta_profile")],
            )
        )
    sections.append(Section("patients", "Patients", [Block("table", table=tables["patients"])]))
    return sections


def write_model_outputs(
    result: ModelResult, directory: Path, *, figures: bool = True
) -> list[Path]:
    """Write model.json, tables/*.csv, figures/*.png|svg and model_report.html into ``directory``.

    Returns the paths written. ``directory`` is normally a staging directory
    (:func:`ikaros.files.staged_output`), so that a failure leaves nothing behind.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    path = directory / JSON_NAME
    path.write_text(model_to_json(result), encoding="utf-8", newline="\n")
    written.append(path)
    tabdir = directory / "tables"
    tabdir.mkdir(exist_ok=True)
    for name, table in model_tables(result).items():
        path = tabdir / f"{name}.csv"
        path.write_text(table.to_csv(), encoding="utf-8", newline="\n")
        written.append(path)
    refs: dict[str, FigureRef] = {}
    if figures:
        from ikaros.report.figures import save_figure

        figdir = directory / "figures"
        makers = _figure_makers(result)
        for stem, title, caption in _FIGURES:
            if stem not in makers:
                continue
            png, svg = save_figure(makers[stem](), figdir, stem)
            refs[stem] = FigureRef(
                stem, title, caption, png, svg, base64.b64encode(png.read_bytes()).decode("ascii")
            )
            written += [png, svg]
    o = result.options
    html = render_page(
        title=f"{o.marker}, {o.dose_mg:g} mg {_schedule(o.schedule)}",
        subtitle=f"{result.input.source}; {result.input.n_analysed} patients; ikaros "
        f"{result.ikaros_version}; hypothesis-generating model",
        sections=model_sections(result, refs),
        repro={
            "inputs": [
                {
                    "label": "Cohort",
                    "source": result.input.source,
                    "sha256": result.input.sha256 or "n/a (simulated or in-memory data)",
                }
            ],
            "software": ", ".join(f"{k} {v}" for k, v in result.software.items())
            or f"ikaros {result.ikaros_version}",
            "schema_name": "Model schema",
            "schema": result.model_schema_version,
        },
        heading=HEADING,
    )
    path = directory / HTML_NAME
    path.write_text(html, encoding="utf-8", newline="\n")
    written.append(path)
    return written
