"""Library versions of the reproducibility record: the same as importlib.metadata reports."""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

import pytest

import ikaros
from ikaros import versions
from ikaros.versions import software_versions

DISTS = ("numpy", "scipy", "pandas", "pyarrow", "lifelines", "firthmodels", "statsmodels", "typer")


def test_versions_are_importlib_metadata_s() -> None:
    out = software_versions(DISTS)
    assert list(out) == ["python", "ikaros", *DISTS]
    assert out["python"] == platform.python_version()
    assert out["ikaros"] == ikaros.__version__
    for dist in DISTS:
        assert out[dist] == metadata.version(dist), dist


def test_a_missing_distribution_is_said_so() -> None:
    assert software_versions(["no-such-distribution-ikaros"])["no-such-distribution-ikaros"] == (
        "not installed"
    )


def test_names_are_matched_normalised_and_first_on_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    (first / "Foo_Bar-1.2.3.dist-info").mkdir(parents=True)
    (second / "foo_bar-9.0.dist-info").mkdir(parents=True)
    (second / "not-a-dist.txt").write_text("")
    monkeypatch.setattr(versions.sys, "path", [str(first), str(tmp_path / "missing"), str(second)])
    assert software_versions(["foo-bar", "Foo.Bar"])["foo-bar"] == "1.2.3"
    assert software_versions(["Foo.Bar"])["Foo.Bar"] == "1.2.3"


def test_an_install_without_dist_info_is_asked_of_importlib(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(versions, "_installed", dict)
    assert software_versions(["numpy"])["numpy"] == metadata.version("numpy")
