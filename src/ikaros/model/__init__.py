"""The degradation-threshold model: lenalidomide exposure, CRBN-mediated degradation of IKZF1,
IKZF3 (and BSG), and the expression threshold above which cells escape.

A hypothesis-generating, quantitative version of the mechanism proposed in the Oncotarget letter
(Figure 1): high pretreatment expression of a CRBN substrate keeps enough protein to resist
lenalidomide-induced degradation, so that the protein of high expressers never falls below a
critical level. See ``docs/model.md`` for the equations, every parameter's source and the
checks.

Modules
-------
``parameters``
    Every parameter with its published source, or marked "assumed" with a plausible range.
``pk``
    One-compartment oral pharmacokinetics in closed form, schedules, renal scaling, the
    published single-dose anchors.
``turnover``
    The protein ODE (``solve_ivp``), its analytic special cases and trajectories.
``readout``
    Nadir, time below a level, and the critical level of a trajectory.
``predict``
    Relative mRNA, per-patient read-outs and classes, dose-response, tornado.
``fit``
    Theta estimated from a cohort's survival by profile likelihood, search-corrected.
``run``
    The whole analysis of one cohort (:func:`run_model`).
``result``
    Frozen result objects and the versioned ``model.json``.
``report``
    The output files and the HTML page (figures in :mod:`ikaros.report.figures.model`).
"""

from __future__ import annotations

from ikaros.model.parameters import MARKERS, ModelParameters, Parameter, default_parameters
from ikaros.model.pk import Schedule, parse_schedule, pk_check, pk_params
from ikaros.model.result import (
    MODEL_SCHEMA_VERSION,
    ModelResult,
    load_model_json,
    model_from_json,
    model_to_json,
)
from ikaros.model.run import demo_cohort, run_model
from ikaros.model.turnover import Trajectory, critical_level, simulate, simulate_constant

__all__ = [
    "MARKERS",
    "MODEL_SCHEMA_VERSION",
    "ModelParameters",
    "ModelResult",
    "Parameter",
    "Schedule",
    "Trajectory",
    "critical_level",
    "default_parameters",
    "demo_cohort",
    "load_model_json",
    "model_from_json",
    "model_to_json",
    "parse_schedule",
    "pk_check",
    "pk_params",
    "run_model",
    "simulate",
    "simulate_constant",
]
