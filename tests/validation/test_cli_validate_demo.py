"""``ikaros demo --validate``: the simulated multi-protocol study end to end.

The demo writes its cohort tables, the digitised curves of a published cohort with the arms
reconstructed from them, and manifest.toml, then validates them from the manifest. Checked here:
same seed, same bytes; the numbers equal the package's functions on the written files; the
estimates recover the simulated truth; the report renders in a browser.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ikaros.cli import app
from ikaros.validation import dumps
from ikaros.validation.manifest import read_manifest, run_manifest
from ikaros.validation.meta import meta_analysis
from tests.conftest import ANSI, CHROMIUM_FLAGS

runner = CliRunner()
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("demo") / "out"
    result = runner.invoke(app, ["demo", "--validate", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    return out, ANSI.sub("", result.stdout)


def _files(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_demo_writes_the_study_and_its_validation(demo: tuple[Path, str]) -> None:
    out, stdout = demo
    names = set(_files(out))
    for name in (
        "manifest.toml",
        "truth.json",
        "cohorts/LEN-1.csv",
        "cohorts/CTRL-2.csv",
        "published/PUBLISHED_low_curve.csv",
        "published/PUBLISHED_high_atrisk.csv",
        "published/ipd_PUBLISHED_low.csv",
        "published/ipd_PUBLISHED_high.csv",
        "validation.json",
        "validation_report.html",
        "figures/forest_continuous.png",
        "figures/forest_cut.svg",
        "tables/pooled.csv",
    ):
        assert name in names, name
    assert "PUBLISHED (reconstructed)" in stdout and "prediction interval" in stdout
    assert "lenalidomide vs no lenalidomide" in stdout


def test_same_seed_same_bytes_other_seed_other_study(
    demo: tuple[Path, str], tmp_path: Path
) -> None:
    out, _ = demo
    again = tmp_path / "again"
    assert runner.invoke(app, ["demo", "--validate", "-q", "--out", str(again)]).exit_code == 0
    assert _files(again) == _files(out)
    other = tmp_path / "other"
    r = runner.invoke(app, ["demo", "--validate", "-q", "--seed", "7", "--out", str(other)])
    assert r.exit_code == 0
    assert (other / "cohorts" / "LEN-1.csv").read_bytes() != (
        out / "cohorts" / "LEN-1.csv"
    ).read_bytes()
    assert json.loads((other / "truth.json").read_text())["seed"] == 7


def test_demo_numbers_are_the_package_functions_on_the_written_files(
    demo: tuple[Path, str],
) -> None:
    out, _ = demo
    doc = json.loads((out / "validation.json").read_text())
    direct = run_manifest(
        read_manifest(out / "manifest.toml"),
        marker="IKZF1",
        endpoint="pfs",
        transform="log2",
        landmark=36.0,
        treatment_reference="no lenalidomide",
    )
    assert json.loads(dumps(direct)) == doc["results"]
    usable = [e for e in direct.estimates_continuous if e.coef is not None]
    pooled = meta_analysis(
        [e.coef for e in usable], [e.se for e in usable], [e.cohort for e in usable]
    )
    assert json.loads(dumps(pooled)) == doc["results"]["meta_continuous"]
    src = {c["name"]: c for c in doc["cohorts"]}
    assert src["PUBLISHED"]["reconstructed"] and src["PUBLISHED"]["marker"] == "published groups"
    assert not any(src[n]["reconstructed"] for n in ("LEN-1", "LEN-2", "CTRL-1", "CTRL-2"))
    # CTRL-2 is in days with its own column names (mapped in the manifest); some markers missing
    assert src["CTRL-2"]["n"] + src["CTRL-2"]["n_excluded"] == 220
    assert all(src[n]["n_excluded"] > 0 for n in ("LEN-1", "LEN-2", "CTRL-1", "CTRL-2"))


def test_demo_recovers_the_simulated_truth(demo: tuple[Path, str]) -> None:
    """Seed 2017: every cohort's 95% CI holds its true HR per doubling, and the one-stage
    marker-by-lenalidomide ratio holds the true exp(gamma) = 0.6 (a fixed draw; with another
    seed about 1 interval in 20 would miss)."""
    out, _ = demo
    truth = json.loads((out / "truth.json").read_text())
    v = json.loads((out / "validation.json").read_text())["results"]
    est = {e["cohort"]: e for e in v["estimates_continuous"]}
    for c in truth["cohorts"]:
        if c["name"] == "PUBLISHED":  # groups only: no continuous estimate
            assert est["PUBLISHED"]["hr"] is None
            continue
        e = est[c["name"]]
        assert e["lower"] < c["true_hr_per_doubling"] < e["upper"], (c, e)
    inter = v["one_stage_interaction"]
    assert inter["term"] == "marker:treatment[lenalidomide vs no lenalidomide]"
    gamma = math.exp(truth["log_hr_added_under_lenalidomide_gamma"])
    assert gamma == pytest.approx(0.6)
    assert inter["lower"] < gamma < inter["upper"] and inter["lr_p"] < 0.05


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (CI installs it)")
def test_demo_report_renders_in_headless_chromium(demo: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = demo
    flags = ["--headless", *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    url = (out / "validation_report.html").as_uri()
    assert CHROMIUM is not None
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert dom.count("<figure") == 2
    for text in ("Prognostic or predictive?", "One-stage model", "PUBLISHED (reconstructed)"):
        assert text in dom
    shot = tmp_path / "page.png"
    subprocess.run(
        [CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1200,2400", url],
        capture_output=True,
        timeout=120,
        check=True,
    )
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[0] == 2400 and pixels.std() > 0.05
