"""The validation summary on the console and ``ikaros demo --validate``.

The demo simulates a multi-protocol study with known truth (:func:`simulate_multicohort`): two
cohorts treated with lenalidomide and two without, where the marker (IKZF1 relative expression,
analysed per doubling) is mildly prognostic without lenalidomide and strongly protective under
it (a predictive effect), with between-cohort heterogeneity; and a fifth lenalidomide cohort
known only from its published Kaplan-Meier curves (Q1 vs the rest), digitised and reconstructed
as ``ikaros ipd`` does (Guyot et al. 2012). It writes the cohort tables, the digitised curves,
the reconstructed arms and ``manifest.toml`` into OUT and runs the validation on them from the
manifest, as ``ikaros validate`` would, beside them.

Only typer/rich-level imports at module level; the numerical libraries load inside the
functions.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from ikaros.cli._common import check_out, note, out_console

if TYPE_CHECKING:
    from rich.console import Console

    from ikaros.validation.meta import MetaAnalysis
    from ikaros.validation.multicohort import CohortEstimate
    from ikaros.validation.run import ValidationRun

__all__ = ["DEMO_SEED", "print_validation", "run_validate_demo"]

#: seed of the simulated multi-protocol study
DEMO_SEED = 2017
#: (cohort name, patients, lenalidomide) of the simulated cohorts; the last is "published"
_COHORTS: tuple[tuple[str, int, bool], ...] = (
    ("LEN-1", 240, True),
    ("LEN-2", 200, True),
    ("CTRL-1", 280, False),
    ("CTRL-2", 220, False),
    ("PUBLISHED", 260, True),
)
#: true log hazard ratios per doubling of IKZF1: without lenalidomide (mu), added under it
_MU = math.log(0.9)
_GAMMA = math.log(0.6)
_TAU = 0.15
_LEN, _NO_LEN = "lenalidomide", "no lenalidomide"


def _fmt_p(p: float | None) -> str:
    if p is None or p != p:
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _hr(hr: float | None, lower: float | None, upper: float | None) -> str:
    if hr is None or hr != hr:
        return "n/a"
    if lower is None or upper is None:
        return f"{hr:.2f}"
    return f"{hr:.2f} ({lower:.2f}-{upper:.2f})"


def _est(e: CohortEstimate) -> tuple[str, str]:
    if e.hr is None:
        return "n/a", "n/a"
    return _hr(e.hr, e.lower, e.upper) + (" Firth" if e.method == "firth" else ""), _fmt_p(e.p)


def _pooled_cells(m: MetaAnalysis | None) -> list[tuple[str, str]]:
    """(HR (CI), P) of the random, fixed and prediction rows, and the heterogeneity."""
    if m is None:
        return [("n/a", "")] * 5
    r, f, pi, h = m.random, m.fixed, m.prediction, m.heterogeneity
    hts = m.prediction_hts
    return [
        (_hr(r.hr, r.hr_lower, r.hr_upper), _fmt_p(r.p)),
        (_hr(f.hr, f.hr_lower, f.hr_upper), _fmt_p(f.p)),
        (_hr(r.hr, pi.hr_lower, pi.hr_upper), ""),
        (_hr(r.hr, hts.hr_lower, hts.hr_upper), ""),
        (f"I² {h.i2:.0f}%, tau² {h.tau2:.3g}", f"Q {_fmt_p(h.q_p)}"),
    ]


def print_validation(console: Console, run: ValidationRun, out: Path) -> None:
    """The per-cohort and pooled hazard ratios, heterogeneity and the one-stage models."""
    o, v = run.options, run.results
    unit = "per doubling" if o.transform == "log2" else "per unit"
    cut = f"cut {o.cut}"
    t = Table(title=f"{escape(o.marker)}, {escape(o.endpoint.upper())}: hazard ratio by cohort")
    for col in ("cohort", "treatment", "n (events)", f"HR {unit}", "P", f"HR {cut}", "P"):
        t.add_column(
            escape(col),
            justify="left" if col in ("cohort", "treatment") else "right",
            no_wrap=col != "treatment",
        )
    for c, ec, ek in zip(run.cohorts, v.estimates_continuous, v.estimates_cut, strict=True):
        name = c.name + (" (reconstructed)" if c.reconstructed else "")
        cont = ("groups only", "") if c.marker != "values" else _est(ec)
        t.add_row(
            escape(name),
            escape("/".join(c.treatment_levels) or "-"),
            f"{c.n} ({c.events})",
            *cont,
            *_est(ek),
        )
    console.print(t)
    p = Table(title="Pooled")
    for col in ("", f"HR {unit}", "P", f"HR {cut}", "P"):
        p.add_column(escape(col), justify="left" if not col else "right", no_wrap=True)
    cont_cells, cut_cells = _pooled_cells(v.meta_continuous), _pooled_cells(v.meta_cut)
    labels = (
        "random effects (REML, HKSJ)",
        "fixed effect",
        "95% prediction interval (bootstrap)",
        "  plug-in (metafor predict)",
        "heterogeneity",
    )
    for label, a, b in zip(labels, cont_cells, cut_cells, strict=True):
        p.add_row(label, *a, *b)
    ones = [
        ("n/a", "") if s is None else (_hr(s.hr, s.lower, s.upper), _fmt_p(s.p))
        for s in (v.one_stage_continuous, v.one_stage_cut)
    ]
    p.add_row("one-stage Cox, stratified by cohort", *ones[0], *ones[1])
    console.print(p)
    inter = v.one_stage_interaction
    if inter is not None:
        console.print(
            f"marker x treatment ({inter.term.split('[', 1)[1].rstrip(']')}), one-stage: "
            f"ratio of HRs {_hr(inter.hr, inter.lower, inter.upper)}, LR P {_fmt_p(inter.lr_p)} "
            "(exploratory: predictive or prognostic?)",
            markup=False,
        )
    for text in v.notes:
        note(text)
    figures = ", figures/" if v.meta_continuous or v.meta_cut else ""
    console.print(
        f"written to {out}/ (validation.json, validation_report.html, tables/{figures})",
        markup=False,
    )


def _demo_files(seed: int) -> tuple[dict[str, str], dict[str, Any]]:
    """Cohort tables, digitised curves of the published cohort, the manifest and the truth."""
    import numpy as np

    from ikaros.validation.simulate import simulate_multicohort

    names = [c[0] for c in _COHORTS]
    df, truth = simulate_multicohort(
        seed,
        n=[c[1] for c in _COHORTS],
        mu=_MU,
        tau=_TAU,
        treated=[c[2] for c in _COHORTS],
        gamma=_GAMMA,
    )
    rng = np.random.default_rng([seed, 1])
    files: dict[str, str] = {}
    manifest = [
        "# Simulated multi-protocol study (ikaros demo --validate); see docs/validation.md",
        "",
    ]
    for i, (name, _, treated) in enumerate(_COHORTS):
        g = df[df["cohort"] == f"C{i + 1}"].reset_index(drop=True)
        expr = np.round(2.0 ** g["marker"].to_numpy(), 4)  # relative expression, linear scale
        label = _LEN if treated else _NO_LEN
        if name == "PUBLISHED":
            files.update(_published(name, g, expr, rng))
            manifest += [
                "[[cohort]]  # known only from its published curves, Q1 vs the rest",
                f'name = "{name}"',
                f'low = "published/ipd_{name}_low.csv"',
                f'high = "published/ipd_{name}_high.csv"',
                f'treatment_label = "{label}"',
                "",
            ]
            continue
        frame = g.assign(IKZF1=expr).rename(columns={"time": "pfs_time", "event": "pfs_event"})
        frame = frame[["patient_id", "pfs_time", "pfs_event", "IKZF1"]]
        missing = rng.random(len(frame)) < 0.03  # a few patients without a marker value
        frame.loc[missing, "IKZF1"] = np.nan
        extra: list[str] = []
        if name == "CTRL-2":  # another layout: days and its own column names
            frame = frame.assign(pfs_time=np.round(frame["pfs_time"] * 30.4375, 1)).rename(
                columns={"patient_id": "ID", "pfs_time": "PFS_days", "pfs_event": "PFS_status"}
            )
            extra = [
                'map = { patient_id = "ID", pfs_time = "PFS_days", pfs_event = "PFS_status" }',
                'time_unit = "days"',
            ]
        files[f"cohorts/{name}.csv"] = frame.to_csv(index=False, lineterminator="\n")
        manifest += [
            "[[cohort]]",
            f'name = "{name}"',
            f'file = "cohorts/{name}.csv"',
            *extra,
            f'treatment_label = "{label}"',
            "",
        ]
    files["manifest.toml"] = "\n".join(manifest)
    truth_dict = {
        "seed": seed,
        "log_hr_per_doubling_without_lenalidomide_mean": truth.mu,
        "between_cohort_sd_tau": truth.tau,
        "log_hr_added_under_lenalidomide_gamma": truth.gamma,
        "cohorts": [
            {
                "name": n,
                "lenalidomide": bool(t),
                "true_log_hr_per_doubling": th + (truth.gamma if t else 0.0),
                "true_hr_per_doubling": math.exp(th + (truth.gamma if t else 0.0)),
            }
            for n, th, t in zip(names, truth.theta, truth.treated, strict=True)
        ],
    }
    return files, truth_dict


def _published(name: str, g: Any, expr: Any, rng: Any) -> dict[str, str]:
    """What a publication shows of the fifth cohort: Kaplan-Meier curves of its Q1 and Q2-4
    groups (as digitised points) and their numbers at risk."""
    from ikaros.groups import quartiles
    from ikaros.ipd.simulate import (
        at_risk_csv,
        axis_ticks,
        digitise,
        digitiser_csv,
        numbers_at_risk,
    )

    cut = quartiles(expr)[0]
    time, event = g["time"].to_numpy(), g["event"].to_numpy()
    ticks = axis_ticks(float(time.max()))
    out = {}
    for label, mask in (("low", expr <= cut), ("high", expr > cut)):
        x, y = digitise(time[mask], event[mask], rng, n_points=160, axis_length=float(ticks[-1]))
        out[f"published/{name}_{label}_curve.csv"] = digitiser_csv(x, y)
        out[f"published/{name}_{label}_atrisk.csv"] = at_risk_csv(
            *numbers_at_risk(time[mask], ticks)
        )
    return out


def _reconstruct(stage: Path) -> dict[str, str]:
    """``ikaros ipd`` on the digitised curves: the reconstructed arms (ipd_NAME.csv)."""
    from ikaros.ipd.run import ArmSpec, ipd_csv, run_ipd

    name = "PUBLISHED"
    arms = [
        ArmSpec(
            f"{name}_{g}",
            stage / f"published/{name}_{g}_curve.csv",
            stage / f"published/{name}_{g}_atrisk.csv",
        )
        for g in ("low", "high")
    ]
    run = run_ipd(arms, endpoint="pfs")
    return {f"published/ipd_{a.name}.csv": ipd_csv(a, "pfs") for a in run.arms}


def run_validate_demo(out: Path, seed: int | None = None, quiet: bool = False) -> None:
    """Body of ``ikaros demo --validate``: simulate, write the study and validate it.

    Writes into ``out``, all or nothing: ``cohorts/*.csv`` (four cohorts; one in days with its
    own column names), ``published/`` (the fifth cohort's digitised Q1 and Q2-4 curves, at-risk
    tables and the arms reconstructed from them), ``manifest.toml``, ``truth.json`` (the
    simulated truth) and the outputs of ``ikaros validate manifest.toml --marker IKZF1
    --endpoint pfs --transform log2 --treatment-reference "no lenalidomide"``.
    """
    import json

    from ikaros.files import staged_output
    from ikaros.output import check_output_dir
    from ikaros.validation.report import write_validation_outputs
    from ikaros.validation.run import check_options, run_validation

    check_out(out)
    check_output_dir(out)
    used = DEMO_SEED if seed is None else seed
    files, truth = _demo_files(used)
    options = check_options(
        marker="IKZF1",
        endpoint="pfs",
        transform="log2",
        cut="q1",
        landmark=36.0,
        treatment_reference=_NO_LEN,
    )
    with staged_output(out) as stage:
        for rel, text in files.items():
            stage.write_text(rel, text)
        for rel, text in _reconstruct(stage.path).items():
            stage.write_text(rel, text)
        stage.write_text("truth.json", json.dumps(truth, indent=2) + "\n")
        run = run_validation(
            stage.path / "manifest.toml",
            options,
            command=f"ikaros demo --validate --seed {used}",
            manifest_label="manifest.toml",
        )
        write_validation_outputs(run, stage.path)
    if quiet:
        return
    console = out_console()
    print_validation(console, run, out)
    lines = ", ".join(f"{c['name']} {c['true_hr_per_doubling']:.2f}" for c in truth["cohorts"])
    note(
        f"simulated study (seed {used}; docs/validation.md): true HR per doubling of IKZF1 "
        f"{lines}: predictive (the log HR per doubling changes by "
        f"{truth['log_hr_added_under_lenalidomide_gamma']:.3f} under lenalidomide), with "
        f"between-cohort SD tau = {truth['between_cohort_sd_tau']:.2f}"
    )
