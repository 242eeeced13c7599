"""A cohort's life in the workbench: mapping, expression, analysis, results page, deletion, audit.

- Upload with the column mapping: the raw GSE24080 file is refused naming ``patid``; mapped, it
  becomes a cohort that stores and shows its mapping; the page flow keeps a refused upload for
  the mapping form and derives CoMMpass's overall survival from its registry columns.
- The analysis form offers everything ``ikaros analyze`` does; an analysis started from the page
  (markers, a grouping variable, a covariate, the median cut) gives the results.json of the
  engine on the cohort read as the command line reads it, and its page shows the tables, the
  REMARK profile and the figures.
- An expression matrix joined to CoMMpass (samples x genes matched by a sample pattern) gives the
  marker values ``load_cohort(expression=...)`` gives.
- Deleting an analysis or a cohort removes its files; the audit log records who uploaded, ran,
  downloaded and deleted what.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ikaros.cohort import load_cohort
from ikaros.cohort.specs import endpoint_specs
from ikaros.results import to_json
from ikaros.study import StudyOptions, run_study
from tests.conftest import golden, require_shared
from tests.web.conftest import AppFactory, csrf_headers, upload, wait_for_analysis
from tests.web.security_support import page_csrf

API = "/api/v1"


def stored(client: TestClient) -> list[str]:
    root = Path(client.app.state.ctx.settings.files_dir)  # type: ignore[attr-defined]
    return sorted(p.name for p in root.rglob("*") if p.is_file())


def analysis_root(client: TestClient) -> Path:
    return Path(client.app.state.ctx.settings.analyses_dir)  # type: ignore[attr-defined]


def test_mapped_upload_and_page_analysis_equal_the_command_line(make_client: AppFactory) -> None:
    client = make_client()
    path = require_shared() / "gse24080" / "clinical.tsv"
    r = upload(client, path)
    assert r.status_code == 422
    (problem,) = r.json()["problems"]
    assert "'patid'" in problem["problem"] and "--map patient_id=patid" in problem["remedy"]
    assert stored(client) == []
    c = upload(client, path, map="patient_id=patid").json()
    assert c["mapping"]["columns"] == {"patient_id": "patid"}
    assert c["markers"] == ["b2m_mg_l", "alb_g_dl", "ldh", "crp"]  # numeric, not 0/1
    assert c["variables"]["binary"] == ["cyto_abn"]
    assert {"iss", "protocol", "sex", "cyto_abn"} <= {g["name"] for g in c["variables"]["groups"]}
    assert client.get(f"{API}/cohorts/{c['id']}").json()["mapping"] == c["mapping"]

    page = client.get(f"/cohorts/{c['id']}").text
    assert "ikaros analyze clinical.tsv --map patient_id=patid" in page
    assert 'name="markers" value="b2m_mg_l" checked' in page
    assert 'name="markers" value="cyto_abn"' not in page
    assert 'name="groups" value="cyto_abn"' in page
    form = {
        "csrf_token": page_csrf(page),
        "markers": ["b2m_mg_l", "crp"],
        "endpoints": ["os"],
        "groups": ["protocol"],
        "ref_protocol": "TT3",
        "covariates": ["age"],
        "cut": "median",
        "landmark": "24",
        "title": "GSE24080 <b>B2M</b>",
    }  # no "report": the box unticked
    r = client.post(f"/cohorts/{c['id']}/analyses", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    analysis_id = r.headers["location"].rsplit("/", 1)[1]
    done = wait_for_analysis(client, analysis_id)
    assert done["status"] == "done", done
    assert done["report"] is False and done["files"] == ["results.json"]
    p = done["params"]
    assert (p["groups"], p["references"], p["covariates"], p["cut"]) == (
        ["protocol"],
        {"protocol": "TT3"},
        ["age"],
        "median",
    )

    # the engine on the file read as `ikaros analyze clinical.tsv --map patient_id=patid ...`
    options = StudyOptions(
        markers=("b2m_mg_l", "crp"),
        endpoints=("os",),
        groups=("protocol",),
        references={"protocol": "TT3"},
        covariates=("age",),
        cut="median",
        landmark=24.0,
        title="GSE24080 <b>B2M</b>",
    )
    cohort = load_cohort(
        path,
        markers=options.markers,
        mapping={"patient_id": "patid"},
        groups=options.groups,
        covariates=options.covariates,
    )
    text = client.get(f"{API}/analyses/{analysis_id}/results.json").text
    command = json.loads(text)["command"]
    engine = to_json(run_study(replace(cohort, source="clinical.tsv"), options, command=command))
    assert text == engine

    results = client.get(f"/analyses/{analysis_id}").text
    assert 'id="table-summary"' in results and 'id="table-grouping_summary"' in results
    assert "REMARK profile" in results and 'id="table-patient-flow"' in results
    assert 'id="table-groups_protocol_os"' in results  # levels with HR against TT3
    assert "not written for this analysis" in results
    assert "GSE24080 &lt;b&gt;B2M&lt;/b&gt;" in results  # the title, escaped
    assert "done done" not in results


def test_page_mapping_derives_endpoints_and_discard(make_client: AppFactory) -> None:
    client = make_client()
    path = require_shared() / "commpass" / "clinical.csv"
    token = page_csrf(client.get("/").text)
    with path.open("rb") as fh:
        r = client.post(
            "/cohorts",
            files={"file": (path.name, fh)},
            data={"csrf_token": token, "time_unit": "days"},
            follow_redirects=False,
        )
    assert r.status_code == 303 and r.headers["location"].startswith("/uploads/")
    mapping_url = r.headers["location"]
    page = client.get(mapping_url).text
    assert "no endpoint columns found" in page
    assert '<option value="bcr_patient_barcode" selected>' in page  # suggested
    assert "vital_status" in page and "Alive, Dead" in page  # values shown for event codes
    assert mapping_url.split("/")[-1] in client.get("/").text  # listed as awaiting its mapping

    form = {
        "csrf_token": page_csrf(page),
        "patient_id": "bcr_patient_barcode",
        "time_unit": "days",
        "na_values": "Unknown",
        "ep0_name": "os",
        "ep0_time": "days_to_death",
        "ep0_time2": "days_to_last_follow_up",
        "ep0_event": "vital_status",
        "ep0_values": "Dead",
        "map_iss": "iss_stage",
    }
    bad = client.post(mapping_url, data={**form, "ep0_event": ""}, follow_redirects=False)
    assert bad.status_code == 422 and "no event column" in bad.text
    r = client.post(mapping_url, data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/cohorts/")
    cohort_id = r.headers["location"].rsplit("/", 1)[1]
    c = client.get(f"{API}/cohorts/{cohort_id}").json()
    assert c["mapping"] == {
        "columns": {"patient_id": "bcr_patient_barcode", "iss": "iss_stage"},
        "time_from": ["os=days_to_death,days_to_last_follow_up"],
        "event_from": ["os=vital_status:Dead"],
        "competing": [],
        "causes": [],
        "time_unit": "days",
        "na_values": ["Unknown"],
    }
    # the same cohort as the command line reads it
    cli = load_cohort(
        path,
        mapping={"patient_id": "bcr_patient_barcode", "iss": "iss_stage"},
        endpoint_specs=endpoint_specs(
            ["os"],
            time_from=["os=days_to_death,days_to_last_follow_up"],
            event_from=["os=vital_status:Dead"],
        ),
        time_unit="days",
        na_values=["Unknown"],
    )
    (os_,) = c["overview"]["endpoints"]
    data = cli.data.dropna(subset=["os_time"])
    assert (os_["evaluable"], os_["events"]) == (len(data), int(data["os_event"].sum()))
    assert client.get(mapping_url).status_code == 404  # the upload became the cohort
    assert "awaiting their column mapping" not in client.get("/").text

    # another upload that needs a mapping, discarded: its file goes, the cohort's stays
    gse = require_shared() / "gse24080" / "clinical.tsv"
    with gse.open("rb") as fh:
        r = client.post(
            "/cohorts",
            files={"file": (gse.name, fh)},
            data={"csrf_token": token},
            follow_redirects=False,
        )
    assert len(stored(client)) == 2
    r = client.post(f"{r.headers['location']}/discard", data={"csrf_token": token})
    assert r.status_code == 200 and "awaiting" not in r.text
    assert stored(client) == [f"{c['sha256']}.csv"]


def test_expression_matrix_joined_to_a_cohort(make_client: AppFactory) -> None:
    from tests.web.test_explorer import COMMPASS_MAPPING

    client = make_client()
    shared = require_shared() / "commpass"
    c = upload(client, shared / "clinical.csv", **COMMPASS_MAPPING).json()
    matrix = shared / "expression_100genes_log2fpkm.csv"
    url = f"{API}/cohorts/{c['id']}/expression"

    def post(**form: str) -> Any:
        with matrix.open("rb") as fh:
            return client.post(
                url, files={"file": (matrix.name, fh)}, data=form, headers=csrf_headers(client)
            )

    r = post(sample_pattern="^(NOPE_[0-9]+)")
    assert r.status_code == 422, r.text
    (problem,) = r.json()["problems"]
    assert matrix.name in problem["message"] and str(shared) not in r.text
    before = client.get(f"{API}/cohorts/{c['id']}").json()
    assert before["expression"] is None
    r = post(sample_pattern="^(MMRF_[0-9]+)_1_BM", markers="ENSG00000000003, ENSG00000000005")
    assert r.status_code == 200, r.text
    joined = r.json()
    assert joined["expression"]["markers"] == ["ENSG00000000003", "ENSG00000000005"]
    assert joined["markers"][-2:] == ["ENSG00000000003", "ENSG00000000005"]
    assert "sha256" not in joined["expression"]  # storage details stay on the server
    cli = load_cohort(
        shared / "clinical.csv",
        markers=["ENSG00000000003", "ENSG00000000005"],
        mapping={"patient_id": "bcr_patient_barcode", "iss": "iss_stage"},
        endpoint_specs=endpoint_specs(
            ["os"],
            time_from=["os=days_to_death,days_to_last_follow_up"],
            event_from=["os=vital_status:Dead"],
        ),
        time_unit="days",
        na_values=["Unknown"],
        expression=matrix,
        sample_pattern="^(MMRF_[0-9]+)_1_BM",
    )
    shown = {m["name"]: m for m in joined["overview"]["markers"]}
    for gene in ("ENSG00000000003", "ENSG00000000005"):
        x = cli.data[gene].dropna()
        assert shown[gene]["n"] == len(x)
        assert shown[gene]["median"] == pytest.approx(float(x.median()), abs=1e-6)
    view = client.get(
        f"{API}/cohorts/{c['id']}/explorer",
        params={"marker": "ENSG00000000003", "endpoint": "os", "split": "median"},
    ).json()
    assert view["n"] == int(cli.data.dropna(subset=["ENSG00000000003", "os_time"]).shape[0])
    assert "samples match no cohort patient" in " ".join(joined["overview"]["notes"])


def test_delete_and_audit(database_url: str, make_client: AppFactory, demo_csv: Path) -> None:
    client = make_client(database_url=database_url)
    first = upload(client, demo_csv).json()
    second = upload(client, demo_csv).json()  # the same bytes: stored once
    r = client.post(
        f"{API}/cohorts/{first['id']}/analyses",
        json={"markers": ["IKZF1"], "endpoints": ["pfs"], "report": False},
        headers=csrf_headers(client),
    )
    a = wait_for_analysis(client, r.json()["id"])
    b = client.post(
        f"{API}/cohorts/{first['id']}/analyses",
        json={"markers": ["CRBN"], "endpoints": ["pfs"], "report": False},
        headers=csrf_headers(client),
    ).json()
    wait_for_analysis(client, b["id"])
    assert client.get(f"{API}/analyses/{a['id']}/files/results.json").status_code == 200
    assert (analysis_root(client) / a["id"]).is_dir()

    r = client.delete(f"{API}/analyses/{a['id']}", headers=csrf_headers(client))
    assert r.status_code == 204
    assert client.get(f"{API}/analyses/{a['id']}").status_code == 404
    assert not (analysis_root(client) / a["id"]).exists()
    assert (
        client.delete(f"{API}/analyses/{a['id']}", headers=csrf_headers(client)).status_code == 404
    )

    # the page asks first; the cohort goes with its analyses, its file stays for the other one
    confirm = client.get(f"/cohorts/{first['id']}/delete")
    assert confirm.status_code == 200 and "its 1 analysis" in confirm.text
    r = client.post(
        f"/cohorts/{first['id']}/delete",
        data={"csrf_token": page_csrf(confirm.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert client.get(f"{API}/cohorts/{first['id']}").status_code == 404
    assert client.get(f"{API}/analyses/{b['id']}").status_code == 404
    assert not (analysis_root(client) / b["id"]).exists()
    assert stored(client) == [f"{second['sha256']}.csv"]
    r = client.delete(f"{API}/cohorts/{second['id']}", headers=csrf_headers(client))
    assert r.status_code == 204 and stored(client) == []

    log = client.get(f"{API}/audit").json()
    assert [(e["action"], e["object_type"], e["object_id"]) for e in log] == [
        ("delete", "cohort", second["id"]),
        ("delete", "cohort", first["id"]),
        ("delete", "analysis", a["id"]),
        ("download", "analysis", a["id"]),
        ("analyse", "analysis", b["id"]),
        ("analyse", "analysis", a["id"]),
        ("upload", "cohort", second["id"]),
        ("upload", "cohort", first["id"]),
    ]
    assert {e["user"] for e in log} == {"local"}
    assert log[3]["detail"] == "results.json"
    assert "demo_cohort.csv" in client.get("/audit").text


def test_competing_risks_analysis_page(make_client: AppFactory) -> None:
    """mgus2 (tests/reference/real_cohorts): time to progression with death competing, declared
    in the mapping; the analysis by sex has Gray's test as R's cmprsk, and its page shows the
    cumulative-incidence figure."""
    from tests.conftest import REFERENCE

    want = golden("real_cohorts")["mgus2_ttp_sex"]
    client = make_client()
    c = upload(
        client,
        REFERENCE / "real_cohorts" / "mgus2_ttp.csv",
        competing="ttp",
        causes="ttp=1:progression,2:death",
    ).json()
    assert c["mapping"]["competing"] == ["ttp"]
    (ttp,) = c["overview"]["endpoints"]
    assert ttp["competing"] and (ttp["events"], ttp["competing_events"]) == (
        want["events"],
        want["competing"],
    )
    page = client.get(f"/cohorts/{c['id']}").text
    assert "ttp (competing risks)" in page
    r = client.post(
        f"{API}/cohorts/{c['id']}/analyses",
        json={"groups": ["sex"], "endpoints": ["ttp"], "landmark": 120},
        headers=csrf_headers(client),
    )
    assert r.status_code == 202, r.text
    done = wait_for_analysis(client, r.json()["id"])
    assert done["status"] == "done", done
    results = json.loads(client.get(f"{API}/analyses/{done['id']}/results.json").text)
    (comp,) = results["competing"]
    assert comp["gray"]["p"] == pytest.approx(want["gray"]["p"], rel=1e-3)
    page = client.get(f"/analyses/{done['id']}").text
    assert 'id="table-competing_summary"' in page
    figures = [f for f in done["files"] if f.startswith("figures/") and f.endswith(".png")]
    assert figures and all(f"files/{f}" in page for f in figures)
    assert "cumulative incidence" in page.lower()


def test_page_analysis_with_treatment_and_performance_equals_the_command_line(
    make_client: AppFactory,
) -> None:
    """``--treatment protocol --treatment-reference TT3 --performance --base-model age`` from the
    cohort page: the same results.json as the engine, and both sections on the results page."""
    client = make_client()
    path = require_shared() / "gse24080" / "clinical.tsv"
    c = upload(client, path, map="patient_id=patid").json()
    page = client.get(f"/cohorts/{c['id']}").text
    assert '<option value="protocol">protocol</option>' in page  # two levels: a treatment
    assert (
        '<option value="iss">' not in page.split('id="treatment-select"')[1].split("</select>")[0]
    )
    assert 'name="tref_protocol"' in page and 'name="base_model" value="age"' in page
    form = {
        "csrf_token": page_csrf(page),
        "markers": ["b2m_mg_l"],
        "endpoints": ["os"],
        "treatment": "protocol",
        "tref_protocol": "TT3",
        "tref_sex": "",  # the reference of a variable not chosen is ignored
        "performance": "on",
        "base_model": ["age"],
        "performance_bootstrap": "0",
        "landmark": "24",
    }
    r = client.post(f"/cohorts/{c['id']}/analyses", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    analysis_id = r.headers["location"].rsplit("/", 1)[1]
    done = wait_for_analysis(client, analysis_id)
    assert done["status"] == "done", done
    p = done["params"]
    assert (p["treatment"], p["treatment_reference"], p["performance"]) == ("protocol", "TT3", True)
    assert (p["base_model"], p["performance_bootstrap"]) == (["age"], 0)

    options = StudyOptions(
        markers=("b2m_mg_l",),
        endpoints=("os",),
        landmark=24.0,
        treatment="protocol",
        treatment_reference="TT3",
        performance=True,
        base_model=("age",),
        performance_bootstrap=0,
    )
    cohort = load_cohort(
        path,
        markers=options.markers,
        mapping={"patient_id": "patid"},
        groups=("protocol",),
        covariates=("age",),
    )
    text = client.get(f"{API}/analyses/{analysis_id}/results.json").text
    command = json.loads(text)["command"]
    engine = to_json(run_study(replace(cohort, source="clinical.tsv"), options, command=command))
    assert text == engine
    results = json.loads(text)["analyses"][0]
    assert results["treatment"] is not None and results["performance"] is not None

    shown = client.get(f"/analyses/{analysis_id}").text
    for table in ("interaction_b2m_mg_l_os", "treatment_effects_b2m_mg_l_os"):
        assert f'id="table-{table}"' in shown, table
    assert 'id="table-performance_b2m_mg_l_os"' in shown
    params = shown.split('id="analysis-params"')[1].split("</dl>")[0]
    assert "<dt>Treatment</dt><dd>protocol (reference TT3)</dd>" in params
    assert "<dt>Performance</dt><dd>over age; 0 bootstrap replicates</dd>" in params
    listed = client.get(f"/cohorts/{c['id']}").text.split('id="analysis-list"')[1]
    assert "treatment protocol (reference TT3); performance" in listed
