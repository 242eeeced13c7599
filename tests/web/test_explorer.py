"""The explorer on real cohorts uploaded with their column mapping, against R.

GSE24080 and CoMMpass are uploaded as published, mapped through the API as ``ikaros analyze``
maps them (``--map``, ``--time-from``, ``--event-from``, ``--time-unit``, ``--na-values``); the
explorer's Kaplan-Meier curves, log-rank (and trend) p and Cox hazard ratios are compared with
``tests/reference/real_cohorts/golden.json`` (R survival, ``make_golden.R``): B2M by its median
and by the thresholds 3.5 and 5.5 mg/L, EFS by protocol, CoMMpass OS by ISS stage with the
endpoint derived from vital status and days to death or last follow-up. Tolerances as in
tests/test_real_cohorts.py: Kaplan-Meier 1e-6 absolute; hazard ratios and CIs 1e-4 relative;
p-values 1e-3 relative. The downloads of a chart (CSV, PNG, SVG) are checked against the view.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import golden, require_shared
from tests.web.conftest import AppFactory, upload

API = "/api/v1"
KM_ABS, REL, P_REL = 1e-6, 1e-4, 1e-3
G = golden("real_cohorts")

COMMPASS_MAPPING: dict[str, Any] = {
    "map": ["patient_id=bcr_patient_barcode", "iss=iss_stage"],
    "time_from": ["os=days_to_death,days_to_last_follow_up"],
    "event_from": ["os=vital_status:Dead"],
    "time_unit": "days",
    "na_values": "Unknown",
}


def upload_mapped(client: TestClient, path: Path, **form: Any) -> dict[str, Any]:
    r = upload(client, path, **form)
    assert r.status_code == 201, r.text
    return dict(r.json())


def explore(client: TestClient, cohort_id: str, **params: Any) -> dict[str, Any]:
    r = client.get(f"{API}/cohorts/{cohort_id}/explorer", params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _close(
    got: float | None,
    want: float | None,
    where: str,
    *,
    abs_tol: float | None = None,
    rel: float | None = None,
) -> None:
    if want is None:
        assert got is None, where
        return
    assert got is not None and got == pytest.approx(want, abs=abs_tol, rel=rel), where


def check_against_r(view: dict[str, Any], want: dict[str, Any], labels: list[str]) -> None:
    """Groups (curves, medians), log-rank and trend p, Cox terms of a view against R."""
    groups = {g["label"]: g for g in view["groups"]}
    assert [g["label"] for g in view["groups"]] == labels
    assert sum(g["n"] for g in view["groups"]) == want["n"] == view["n"]
    for label, level in zip(labels, want["groups"], strict=True):
        g, w = groups[label], want["groups"][level]
        assert (g["n"], g["events"]) == (w["n"], w["events"]), label
        c = w["curve"]
        assert g["time"] == pytest.approx(c["time"], abs=1e-9), label  # sent to 10 decimals
        for key in ("n_risk", "n_event", "n_censor"):
            assert g[key] == c[key], (label, key)
        for key in ("surv", "lower", "upper"):
            for i, (x, y) in enumerate(zip(g[key], c[key], strict=True)):
                _close(x, y, f"{label}.{key}[{i}]", abs_tol=KM_ABS)
        _close(g["landmark_surv"], w["landmark"]["survival"], f"{label} S(36)", abs_tol=KM_ABS)
        _close(g["median"], w["median"]["estimate"], f"{label} median", abs_tol=KM_ABS)
    _close(view["p"]["logrank"], want["logrank"]["p"], "log-rank p", rel=P_REL)
    if want.get("trend"):
        _close(view["p"]["trend"], want["trend"]["p"], "trend p", rel=P_REL)
    else:
        assert view["p"]["trend"] is None
    hr = view["hr"]
    assert hr["method"] == "cox"
    assert [t["term"] for t in hr["terms"]] == list(want["cox"]["terms"])
    for t in hr["terms"]:
        w = want["cox"]["terms"][t["term"]]
        for key in ("hr", "lower", "upper"):
            _close(t[key], w[key], f"{t['term']} {key}", rel=REL)
        _close(t["p"], w["p"], f"{t['term']} p", rel=P_REL)
    _close(hr["lr_p"], want["cox"]["lr_p"], "likelihood-ratio p", rel=P_REL)


def test_gse24080_explorer_equals_r(make_client: AppFactory) -> None:
    client = make_client()
    path = require_shared() / "gse24080" / "clinical.tsv"
    c = upload_mapped(client, path, map="patient_id=patid")
    assert c["cli_options"] == ["--map", "patient_id=patid"]
    groups = {g["name"]: g for g in c["variables"]["groups"]}
    assert groups["iss"]["levels"] == ["I", "II", "III"]
    assert groups["protocol"]["levels"] == ["TT2", "TT3"]

    median = explore(client, c["id"], marker="b2m_mg_l", endpoint="os", split="median")
    check_against_r(median, G["gse24080_os_b2m_median"], ["low (<= 3.1)", "high (> 3.1)"])
    assert median["cut"]["origin"] == "prespecified"
    assert median["cut"]["values"] == [G["gse24080_os_b2m_median"]["median"]]

    thresholds = explore(
        client, c["id"], marker="b2m_mg_l", endpoint="os", split="thresholds", thresholds="3.5,5.5"
    )
    check_against_r(thresholds, G["gse24080_os_b2m_thresholds"], ["<= 3.5", "3.5-5.5", "> 5.5"])

    protocol = explore(client, c["id"], variable="protocol", endpoint="efs")
    check_against_r(protocol, G["gse24080_efs_protocol_age"], ["TT2", "TT3"])
    assert protocol["reference"] == "TT2" and protocol["cut"] is None
    # another reference level: the hazard ratio inverts
    flipped = explore(client, c["id"], variable="protocol", endpoint="efs", reference="TT3")
    tt3 = G["gse24080_efs_protocol_age"]["cox"]["terms"]["protocol TT3 vs TT2"]
    assert flipped["hr"]["terms"][0]["term"] == "protocol TT2 vs TT3"
    assert flipped["hr"]["terms"][0]["hr"] == pytest.approx(1 / tt3["hr"], rel=REL)

    # the downloads of the median chart: its data as R's survfit table, and the figure
    base = f"{API}/cohorts/{c['id']}/explorer/export"
    params = {"marker": "b2m_mg_l", "endpoint": "os", "split": "median"}
    r = client.get(base, params={**params, "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="km_os_b2m_mg_l_median.csv"' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0]) == [
        "strata",
        "time",
        "n.risk",
        "n.event",
        "n.censor",
        "surv",
        "lower",
        "upper",
    ]
    for g in median["groups"]:
        mine = [row for row in rows if row["strata"] == g["label"]]
        assert [float(row["time"]) for row in mine] == pytest.approx(g["time"], rel=1e-9)
        assert [int(row["n.risk"]) for row in mine] == g["n_risk"]
        assert [float(row["surv"]) for row in mine] == pytest.approx(g["surv"], rel=1e-9)
        assert [row["lower"] == "NA" for row in mine] == [x is None for x in g["lower"]]
    png = client.get(base, params={**params, "format": "png", "xlim": 60})
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert png.headers["content-type"] == "image/png"
    svg = client.get(base, params={**params, "format": "svg"})
    assert svg.status_code == 200 and b"<svg" in svg.content[:2000]
    assert "attachment" in svg.headers["content-disposition"]


def test_commpass_derived_endpoint_explorer_equals_r(make_client: AppFactory) -> None:
    client = make_client()
    path = require_shared() / "commpass" / "clinical.csv"
    c = upload_mapped(client, path, **COMMPASS_MAPPING)
    assert c["endpoints"] == ["os"]
    assert c["mapping"]["time_from"] == ["os=days_to_death,days_to_last_follow_up"]
    assert c["mapping"]["time_unit"] == "days" and c["mapping"]["na_values"] == ["Unknown"]
    assert "--event-from" in c["cli_options"] and "os=vital_status:Dead" in c["cli_options"]
    (os_,) = c["overview"]["endpoints"]
    assert os_["not_evaluable"] == 1  # MMRF_1994: -3 days of follow-up
    assert "days_to_death" in os_["source"]
    view = explore(client, c["id"], variable="iss", endpoint="os")
    want = G["commpass_os_iss"]
    check_against_r(view, want, ["I", "II", "III"])
    assert view["n_excluded"] == want["missing_variable"] + 1  # ISS unknown, MMRF_1994
    # the explorer refuses what it cannot show, with the reason
    r = client.get(f"{API}/cohorts/{c['id']}/explorer", params={"endpoint": "os"})
    assert r.status_code == 422 and "marker or a grouping variable" in r.json()["detail"]
    r = client.get(
        f"{API}/cohorts/{c['id']}/explorer",
        params={"endpoint": "pfs", "variable": "iss"},
    )
    assert r.status_code == 422 and "unknown endpoint" in r.json()["detail"]


def test_marker_splits_and_moved_cut(make_client: AppFactory, demo_csv: Path) -> None:
    """Tertiles, quartiles, upper quartile: the groups of :mod:`ikaros.groups` (type-7
    quantiles), a hazard ratio per group against the lowest; a moved cut is optimised."""
    import numpy as np
    import pandas as pd

    client = make_client()
    c = upload_mapped(client, demo_csv)
    x = pd.read_csv(demo_csv)["IKZF1"].to_numpy(dtype=float)
    for split, probs, names in (
        ("tertile", (1 / 3, 2 / 3), ["T1", "T2", "T3"]),
        ("quartiles", (0.25, 0.5, 0.75), ["Q1", "Q2", "Q3", "Q4"]),
        ("upper-quartile", (0.75,), ["Q1-3", "Q4"]),
    ):
        view = explore(client, c["id"], marker="IKZF1", endpoint="pfs", split=split)
        cuts = np.quantile(x, probs)
        assert view["cut"]["values"] == pytest.approx(cuts, rel=1e-12), split
        counts = np.bincount(np.searchsorted(cuts, x, side="left"), minlength=len(names))
        assert [g["n"] for g in view["groups"]] == counts.tolist(), split
        assert [g["label"].split(" ")[0] for g in view["groups"]] == names, split
        assert len(view["hr"]["terms"]) == len(names) - 1, split
        assert view["cut"]["origin"] == "prespecified" and view["p"]["corrected"] is None
        assert (view["p"]["trend"] is None) == (len(names) == 2), split
    r = client.get(
        f"{API}/cohorts/{c['id']}/explorer",
        params={"marker": "IKZF1", "endpoint": "pfs", "split": "thresholds", "thresholds": "9,1"},
    )
    assert r.status_code == 422 and "increase" in r.json()["detail"]
    base = explore(client, c["id"], marker="IKZF1", endpoint="pfs")
    moved = explore(
        client,
        c["id"],
        marker="IKZF1",
        endpoint="pfs",
        cut=base["candidates"][base["cut"]["index"] + 6],
    )
    assert moved["split"] == "cut" and moved["cut"]["origin"] == "optimised"
    assert moved["p"]["corrected"] >= moved["p"]["logrank"]
    assert moved["hr"]["terms"][0]["term"] == "IKZF1 > {0} vs <= {0}".format(
        f"{moved['cut']['value']:.6g}"
    )
