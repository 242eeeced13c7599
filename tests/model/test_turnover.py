"""The protein-turnover ODE: analytic special cases (1e-8), R deSolve on the full model (1e-6),
linearity in m, and the per-cycle read-outs.

R reference: ``tests/reference/model/make_golden.R`` integrates gut amount, central amount and
protein with deSolve's lsoda (rtol 1e-12, atol 1e-14) and dose events; ikaros computes the PK in
closed form and integrates the protein alone with DOP853.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ikaros.errors import AnalysisError, InputError
from ikaros.model.parameters import default_parameters
from ikaros.model.pk import Schedule, parse_schedule, pk_params
from ikaros.model.turnover import (
    FAST_ATOL,
    FAST_RTOL,
    analytic_constant_concentration,
    analytic_no_drug,
    critical_level,
    simulate,
    simulate_constant,
    simulate_many,
)
from tests.conftest import REFERENCE, assert_json_close, golden, run_reference_script

PARAMS = default_parameters("IKZF1")
T = np.linspace(0.0, 200.0, 801)


@pytest.mark.parametrize(("m", "p0"), [(1.0, 1.0), (0.3, 2.0), (2.5, 0.0), (1.7, 0.4)])
def test_no_drug_matches_analytic_solution(m: float, p0: float) -> None:
    traj = simulate_constant(PARAMS, 0.0, 200.0, m=m, p0=p0)
    want = analytic_no_drug(T, PARAMS, m=m, p0=p0)
    np.testing.assert_allclose(traj.protein(T), want, rtol=0, atol=1e-8)
    if p0 == m:  # the untreated steady state stays put
        np.testing.assert_allclose(traj.protein(T), m, rtol=0, atol=1e-12)


@pytest.mark.parametrize("conc", [1.0, 50.0, 130.0, 400.0, 5000.0])
@pytest.mark.parametrize("hill", [1.0, 0.7, 2.0])
def test_constant_concentration_matches_analytic_solution(conc: float, hill: float) -> None:
    params = PARAMS.replace(hill=hill)
    for m, p0 in ((1.0, 1.0), (0.4, 1.3)):
        traj = simulate_constant(params, conc, 200.0, m=m, p0=p0)
        want = analytic_constant_concentration(T, params, conc, m=m, p0=p0)
        np.testing.assert_allclose(traj.protein(T), want, rtol=0, atol=1e-8)


def test_constant_concentration_steady_state() -> None:
    """Long exposure reaches P_ss = k_deg m / (k_deg + E_max C / (EC50 + C)) to 1e-8."""
    conc = 130.0  # = EC50: half-maximal effect
    traj = simulate_constant(PARAMS, conc, 2000.0, m=1.0, p0=1.0)
    kdeg = PARAMS.k_deg
    want = kdeg / (kdeg + 0.5 * PARAMS.emax.value)
    assert traj.protein(2000.0)[0] == pytest.approx(want, abs=1e-8)


def _case_params(case: dict[str, Any]):  # type: ignore[no-untyped-def]
    p = case["parameters"]
    return default_parameters(case["marker"]).replace(**p)


GOLDEN_CASES = [c["id"] for c in golden("model")["cases"]]


@pytest.mark.parametrize("case_id", GOLDEN_CASES)
def test_full_model_matches_r_desolve(case_id: str) -> None:
    case = next(c for c in golden("model")["cases"] if c["id"] == case_id)
    params = _case_params(case)
    pk = pk_params(params, case["crcl"])
    traj = simulate(
        params,
        pk,
        case["dose_mg"],
        Schedule(case["days_on"], case["cycle_days"]),
        case["n_cycles"],
        m=case["m"],
        p0=case["p0"],
    )
    t = np.asarray(case["time"], dtype=float)
    np.testing.assert_allclose(traj.protein(t), case["protein"], rtol=0, atol=1e-6)
    # the closed-form concentration against R's integrated central compartment (ng/mL)
    np.testing.assert_allclose(traj.concentration(t), case["concentration"], rtol=1e-6, atol=1e-6)
    # measured agreement is far tighter than required: guard against a silent loosening
    assert np.max(np.abs(traj.protein(t) - np.asarray(case["protein"]))) < 1e-8


@pytest.mark.r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript is not installed")
def test_reference_script_reproduces_golden(tmp_path: Path) -> None:
    target = run_reference_script("model", tmp_path, timeout=300)
    fresh = json.loads((target / "golden.json").read_text())
    stored = json.loads((REFERENCE / "model" / "golden.json").read_text())
    fresh["meta"].pop("r_version"), stored["meta"].pop("r_version")
    assert_json_close(fresh, stored, "model")


def test_linear_in_m() -> None:
    """P(t; m, P0 = m) = m P1(t): the property that lets one solution serve a cohort."""
    pk = pk_params(PARAMS)
    sched = parse_schedule("21/28")
    p1 = simulate(PARAMS, pk, 25.0, sched, 1)
    t = np.linspace(0, p1.t_end, 1001)
    for m in (0.2, 3.1):
        direct = simulate(PARAMS, pk, 25.0, sched, 1, m=m)
        np.testing.assert_allclose(direct.protein(t), m * p1.protein(t), rtol=1e-9, atol=1e-12)
        assert direct.minimum(0)[1] == pytest.approx(m * p1.minimum(0)[1], rel=1e-8)
        assert direct.time_below(0, 0.1) == pytest.approx(p1.time_below(0, 0.1 / m), abs=1e-6)


def test_simulate_many_matches_single_solutions() -> None:
    pk = pk_params(PARAMS)
    sched = parse_schedule("continuous")
    settings = [
        (PARAMS, pk, 5.0),
        (PARAMS.replace(emax=1.2, hill=2.0), pk, 25.0),
        (default_parameters("BSG"), pk_params(PARAMS, 40.0), 15.0),
    ]
    many = simulate_many(settings, sched, 1, rtol=FAST_RTOL, atol=FAST_ATOL)
    t = np.linspace(0, many[0].t_end, 500)
    for traj, (params, p, dose) in zip(many, settings, strict=True):
        single = simulate(params, p, dose, sched, 1)
        np.testing.assert_allclose(traj.protein(t), single.protein(t), atol=1e-6)
        np.testing.assert_allclose(traj.concentration(t), single.concentration(t), rtol=1e-12)


def _brute_time_below(traj, cycle: int, level: float) -> float:  # type: ignore[no-untyped-def]
    t0, t1 = traj.window(cycle)
    t = np.linspace(t0, t1, 400_001)
    below = traj.protein(t) < level
    return float(below.mean() * (t1 - t0))


def test_readouts_against_brute_force() -> None:
    pk = pk_params(PARAMS)
    traj = simulate(PARAMS, pk, 25.0, parse_schedule("21/28"), 2)
    for cycle in (1,):
        t0, t1 = traj.window(cycle)
        dense = traj.protein(np.linspace(t0, t1, 200_001))
        t_min, nadir = traj.minimum(cycle)
        assert nadir <= dense.min() + 1e-12
        assert nadir == pytest.approx(dense.min(), abs=1e-9)
        assert t0 <= t_min <= t1
        for level in (0.19, 0.4):
            got = traj.time_below(cycle, level)
            assert got == pytest.approx(_brute_time_below(traj, cycle, level), abs=0.01)
    # a level below the nadir is never reached; above the maximum, always
    assert traj.time_below(1, 0.01) == 0.0
    assert traj.time_below(1, 5.0) == pytest.approx(28 * 24)


def test_readout_bundle() -> None:
    traj = simulate(PARAMS, pk_params(PARAMS), 25.0, parse_schedule("21/28"), 2)
    r = traj.readout(1, 0.25)
    assert r.cycle == 2
    assert r.nadir == traj.minimum(1)[1]
    assert r.hours_below == traj.time_below(1, 0.25)


def test_critical_level_inverts_time_below() -> None:
    traj = simulate(PARAMS, pk_params(PARAMS), 25.0, parse_schedule("21/28"), 2)
    assert critical_level(traj, 1, 0.0) == traj.minimum(1)[1]
    for hours in (24.0, 168.0, 336.0):
        q = critical_level(traj, 1, hours)
        assert traj.time_below(1, q) == pytest.approx(hours, abs=1e-6)
        assert traj.time_below(1, q * 0.999) < hours < traj.time_below(1, q * 1.001)
    with pytest.raises(InputError, match="minimum time"):
        critical_level(traj, 1, 28 * 24.0)


def test_more_drug_lowers_the_protein() -> None:
    pk = pk_params(PARAMS)
    sched = parse_schedule("21/28")
    nadirs = [simulate(PARAMS, pk, d, sched, 1).minimum(0)[1] for d in (5, 10, 25)]
    assert nadirs[0] > nadirs[1] > nadirs[2] > 0


def test_protein_recovers_in_the_break() -> None:
    """Franssen et al. 2018: back to baseline one week after the last dose."""
    traj = simulate(PARAMS, pk_params(PARAMS), 25.0, parse_schedule("21/28"), 1)
    assert traj.protein(28 * 24.0)[0] == pytest.approx(1.0, abs=1e-3)


def test_bad_arguments() -> None:
    pk = pk_params(PARAMS)
    with pytest.raises(InputError, match="relative expression"):
        simulate(PARAMS, pk, 25.0, parse_schedule("21/28"), 1, m=0.0)
    with pytest.raises(InputError, match="relative expression"):
        simulate(PARAMS, pk, 25.0, parse_schedule("21/28"), 1, m=float("nan"))
    traj = simulate(PARAMS, pk, 25.0, parse_schedule("21/28"), 1)
    with pytest.raises(AnalysisError, match="times"):
        traj.protein(-1.0)
    with pytest.raises(AnalysisError, match="cycle"):
        traj.window(1)
