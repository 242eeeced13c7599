"""The validation manifest: parsing, bad input, and the same results as validate_cohorts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ikaros.errors import InputError
from ikaros.validation.manifest import read_manifest, run_manifest
from ikaros.validation.multicohort import CohortData, validate_cohorts
from ikaros.validation.simulate import simulate_multicohort


def _write(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    df, _ = simulate_multicohort(12, n=(120, 150, 100), treated=(True, False, True))
    df = df.assign(marker=2.0 ** df["marker"])  # a positive, linear-scale marker
    lines = []
    for i, (name, g) in enumerate(df.groupby("cohort")):
        frame = g.rename(columns={"time": "os_time", "event": "os_event", "marker": "IKZF1"})
        if i == 1:  # another layout: days, own column names, mapped back
            frame = frame.assign(os_time=frame["os_time"] * 30.4375).rename(
                columns={"patient_id": "ID", "os_time": "OS_days"}
            )
        frame.drop(columns=["cohort"]).to_csv(tmp_path / f"{name}.csv", index=False)
        extra = (
            'map = { patient_id = "ID", os_time = "OS_days" }\ntime_unit = "days"\n'
            if i == 1
            else ""
        )
        lines.append(
            f'[[cohort]]\nname = "{name}"\nfile = "{name}.csv"\n{extra}treatment = "treatment"\n'
        )
    manifest = tmp_path / "manifest.toml"
    manifest.write_text("\n".join(lines))
    return manifest, df


def test_manifest_gives_the_same_results_as_the_engine(tmp_path: Path) -> None:
    manifest, df = _write(tmp_path)
    entries = read_manifest(manifest)
    assert [e.name for e in entries] == ["C1", "C2", "C3"]
    assert entries[1].time_unit == "days" and entries[1].mapping["patient_id"] == "ID"
    got = run_manifest(
        entries,
        marker="IKZF1",
        endpoint="os",
        transform="log2",
        landmark=24.0,
        treatment_reference="untreated",
    )
    direct = [
        CohortData(
            c,
            g["time"].to_numpy(),
            g["event"].to_numpy(),
            np.log2(g["marker"].to_numpy()),
            treatment=g["treatment"].to_numpy(),
        )
        for c, g in df.groupby("cohort")
    ]
    want = validate_cohorts(
        direct,
        marker="IKZF1",
        endpoint="os",
        scale="log2",
        landmark=24.0,
        treatment_reference="untreated",
    )
    assert got.meta_continuous is not None and want.meta_continuous is not None
    for a, b in zip(got.estimates_continuous, want.estimates_continuous, strict=True):
        assert (a.n, a.events) == (b.n, b.events)
        # C2's times went through days -> months (30.4375 days a month); ranks are unchanged
        assert a.coef == pytest.approx(b.coef, rel=1e-6)
    assert got.meta_continuous.random.estimate == pytest.approx(
        want.meta_continuous.random.estimate, rel=1e-6
    )
    assert got.one_stage_interaction is not None


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[[cohort]]\nname = 'a'\n", "has no 'file'"),
        ("[[cohort]]\nname = 'a'\nfile = 'missing.csv'\n", "file not found"),
        ("[[cohort]]\nname = 'a'\nfile = 'x.csv'\ncolour = 'red'\n", "unknown key"),
        (
            "[[cohort]]\nname = 'a'\nfile = 'x.csv'\n[[cohort]]\nname = 'a'\nfile = 'x.csv'\n",
            "duplicate cohort name",
        ),
        ("[[cohort]]\nname = 'a'\nfile = 'x.csv'\ntime_unit = 'weeks'\n", "unknown time unit"),
        ("title = 'x'\n", "lists no cohorts"),
        ("[[cohort]\n", "not valid TOML"),
    ],
)
def test_bad_manifests_name_the_problem(tmp_path: Path, text: str, match: str) -> None:
    (tmp_path / "x.csv").write_text("patient_id,os_time,os_event\n1,2,1\n")
    path = tmp_path / "m.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=match) as info:
        read_manifest(path)
    assert str(path) in str(info.value)


def test_log2_of_a_non_positive_marker_names_file_and_column(tmp_path: Path) -> None:
    manifest, _ = _write(tmp_path)
    bad = pd.read_csv(tmp_path / "C3.csv")
    bad.loc[4, "IKZF1"] = 0.0
    bad.to_csv(tmp_path / "C3.csv", index=False)
    with pytest.raises(InputError, match="positive marker values") as info:
        run_manifest(read_manifest(manifest), marker="IKZF1", endpoint="os", transform="log2")
    assert "C3.csv" in str(info.value) and "IKZF1" in str(info.value)
