"""Treatment-by-marker Cox models against R coxph on GSE24080 (TT3 vs TT2 by B2M, EFS and OS)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ikaros.errors import AnalysisError
from ikaros.groups import quartiles
from ikaros.validation.predictive import (
    InteractionModel,
    SteppOptions,
    TreatmentByMarker,
    treatment_by_marker,
)
from ikaros.validation.simulate import simulate_two_arm
from tests.validation._helpers import REL, REL_P, close, gold


def _run(gse: pd.DataFrame, ep: str, scale: str) -> TreatmentByMarker:
    x = gse["b2m_mg_l"].to_numpy(dtype=float)
    cut = quartiles(x)[0]
    if scale == "log2":
        x, cut = np.log2(x), float(np.log2(cut))
    return treatment_by_marker(
        gse[f"{ep}_time"],
        gse[f"{ep}_event"],
        x,
        gse["protocol"],
        cut=cut,
        marker_name="B2M",
        treatment_name="protocol",
        reference="TT2",
        scale=scale,
    )


def _check_model(model: InteractionModel | None, want: dict) -> None:
    assert model is not None and model.method == "cox"
    assert (model.n, model.events) == (want["n"], want["events"])
    for term, key in zip(model.terms, ("x", "trt", "x:trt"), strict=True):
        w = want["terms"][key]
        close(term.coef, w["coef"], REL)
        close(term.hr, float(np.exp(w["coef"])), REL)
        close(term.se, w["se"], REL)
        close(term.p, w["p"], REL_P)
    close(model.interaction.coef, want["terms"]["x:trt"]["coef"], REL)
    close(model.lr_statistic, want["lr"], REL)
    close(model.lr_p, want["lr_p"], REL_P)


@pytest.mark.parametrize("ep", ["efs", "os"])
@pytest.mark.parametrize("scale", ["none", "log2"])
def test_interaction_matches_coxph(gse24080: pd.DataFrame, ep: str, scale: str) -> None:
    want = gold()["treatment_by_marker"][ep]
    r = _run(gse24080, ep, scale)
    assert r.n_excluded == want["n_excluded"]
    assert (r.reference, r.active) == ("TT2", "TT3")
    close(r.cut, want["cut"] if scale == "none" else float(np.log2(want["cut"])), 1e-12)
    _check_model(r.continuous, want[f"continuous_{scale}"])
    _check_model(r.cut_model, want["cut_model"])


@pytest.mark.parametrize("ep", ["efs", "os"])
def test_cells_and_subgroup_effects_match_coxph(gse24080: pd.DataFrame, ep: str) -> None:
    want = gold()["treatment_by_marker"][ep]
    r = _run(gse24080, ep, "none")
    for cell in r.cells:
        w = want["cells"][cell.marker_group][cell.arm]
        assert (cell.n, cell.events) == (w["n"], w["events"])
    for eff in r.treatment_within_marker:
        w = want["treatment_within"][eff.within]
        assert (eff.n, eff.events) == (w["n"], w["events"])
        assert sum(eff.n_by_level.values()) == eff.n
        close(eff.coef, w["coef"], REL)
        close(eff.se, w["se"], REL)
        close(eff.p, w["p"], REL_P)
    for eff in r.marker_within_treatment:
        key = "marker_cut_within" if eff.effect == "marker (cut)" else "marker_cont_within"
        w = want[key][eff.within]
        assert (eff.n, eff.events) == (w["n"], w["events"])
        close(eff.coef, w["coef"], REL)
        close(eff.se, w["se"], REL)
        close(eff.p, w["p"], REL_P)
    # Gail-Simon on the two within-group treatment log HRs
    gs = r.gail_simon
    assert gs is not None and gs.k == 2
    coefs = [want["treatment_within"][g]["coef"] for g in ("low", "high")]
    ses = [want["treatment_within"][g]["se"] for g in ("low", "high")]
    z2 = (np.asarray(coefs) / np.asarray(ses)) ** 2
    close(gs.q_plus, float(np.sum(z2[np.asarray(coefs) < 0])), REL, abs_=1e-12)
    close(gs.q_minus, float(np.sum(z2[np.asarray(coefs) > 0])), REL, abs_=1e-12)


def test_reference_level_flips_the_interaction_sign(gse24080: pd.DataFrame) -> None:
    x = gse24080["b2m_mg_l"].to_numpy(dtype=float)
    kw = dict(cut=quartiles(x)[0], marker_name="B2M", treatment_name="protocol")
    a = treatment_by_marker(
        gse24080["efs_time"], gse24080["efs_event"], x, gse24080["protocol"], reference="TT2", **kw
    )  # type: ignore[arg-type]
    b = treatment_by_marker(
        gse24080["efs_time"], gse24080["efs_event"], x, gse24080["protocol"], reference="TT3", **kw
    )  # type: ignore[arg-type]
    assert a.continuous is not None and b.continuous is not None
    assert b.continuous.interaction.coef == pytest.approx(-a.continuous.interaction.coef, rel=1e-6)
    assert b.continuous.lr_p == pytest.approx(a.continuous.lr_p, rel=1e-9)


def test_three_treatment_levels_are_refused() -> None:
    with pytest.raises(AnalysisError, match="exactly 2 levels"):
        treatment_by_marker([1, 2, 3, 4], [1, 0, 1, 1], [1, 2, 3, 4], ["a", "b", "c", "a"], cut=2)
    with pytest.raises(AnalysisError, match="does not occur"):
        treatment_by_marker(
            [1, 2, 3, 4], [1, 0, 1, 1], [1, 2, 3, 4], ["a", "b", "b", "a"], cut=2, reference="z"
        )


def test_empty_cell_falls_back_to_firth_and_withholds_the_lr_test() -> None:
    d = simulate_two_arm(5, scenario="prognostic")
    high = d["marker"] > d["marker"].quantile(0.25)
    d.loc[~high & (d["treatment"] == "active"), "event"] = 0  # no events in one cell
    r = treatment_by_marker(
        d["time"],
        d["event"],
        d["marker"],
        d["treatment"],
        cut=float(d["marker"].quantile(0.25)),
        reference="control",
    )
    assert r.cut_model is not None and r.cut_model.method == "firth"
    assert r.cut_model.lr_statistic is None and r.cut_model.lr_p is None
    low = next(e for e in r.treatment_within_marker if e.within == "low")
    assert low.method == "firth" and low.note is not None
    assert r.continuous is not None and r.continuous.method == "cox"


def test_result_is_json_ready_and_deterministic() -> None:
    d = simulate_two_arm(11, scenario="both")
    opts = SteppOptions(landmark=36.0, r1=60, r2=100, n_perm=50, seed=3)

    def run() -> dict:
        return treatment_by_marker(
            d["time"],
            d["event"],
            d["marker"],
            d["treatment"],
            cut=0.0,
            reference="control",
            stepp_options=opts,
        ).to_dict()

    a, b = run(), run()
    assert a == b
    assert a["label"] == "exploratory" and a["schema_version"] == "2.0"
    assert a["stepp"]["test_hr"]["n_permutations"] + a["stepp"]["test_hr"]["n_discarded"] == 50
