"""Every parameter has a source or is marked assumed with a plausible range."""

from __future__ import annotations

import re

import pytest

from ikaros.errors import InputError
from ikaros.model.parameters import MARKERS, PARAMETER_NAMES, REFERENCES, default_parameters


@pytest.mark.parametrize("marker", MARKERS)
def test_every_parameter_is_sourced_or_assumed_with_a_range(marker: str) -> None:
    params = default_parameters(marker)
    assert tuple(p.name for p in params.all()) == PARAMETER_NAMES
    for p in params.all():
        assert p.status in ("published", "derived", "assumed"), p
        assert len(p.source) > 20, p
        assert p.symbol, p
        for key in re.findall(r"\[([A-Za-z0-9]+)", p.source):
            for k in key.split(","):
                assert k.strip() in REFERENCES, (p.name, k)
        if p.status == "assumed" and p.name != "crcl_ref":
            assert p.low is not None and p.high is not None, p
        if p.low is not None and p.high is not None:
            assert p.low <= p.value <= p.high, p


def test_citation_keys_resolve() -> None:
    for marker in MARKERS:
        for p in default_parameters(marker).all():
            keys = re.findall(r"\[([^\]]+)\]", p.source)
            for group in keys:
                for k in group.split(","):
                    assert k.strip() in REFERENCES, (p.name, k)


def test_unknown_marker() -> None:
    with pytest.raises(InputError, match="no parameters for marker 'XYZ'"):
        default_parameters("XYZ")
    with pytest.raises(InputError, match="CRBN is the ligase"):
        default_parameters("CRBN")


def test_replace_validates() -> None:
    params = default_parameters("IKZF1")
    assert params.replace(theta=0.2).theta.value == 0.2
    assert params.replace(theta=0.2).theta.status == "assumed"
    with pytest.raises(InputError, match="unknown model parameter"):
        params.replace(foo=1.0)
    for name, value in (("ec50", 0.0), ("ka", -1.0), ("theta", float("nan")), ("fe_renal", 1.5)):
        with pytest.raises(InputError, match=f"model parameter {name}"):
            params.replace(**{name: value})
    assert params.replace(min_hours_below=0.0).min_hours_below.value == 0.0


def test_k_deg_from_half_life() -> None:
    params = default_parameters("IKZF1")
    assert params.k_deg == pytest.approx(0.693147180559945 / 12.0)
