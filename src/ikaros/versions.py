"""Versions of Python and the installed libraries, for the reproducibility record of a result.

Every results file records the versions it was computed with. The versions are read from the
names of the installed distributions' ``.dist-info`` directories (``{name}-{version}.dist-info``,
the binary distribution format's naming rule), found on ``sys.path`` in import order, as
:mod:`importlib.metadata` would find them. Why not :func:`importlib.metadata.version` alone: it
imports the email package and parses each METADATA file, about 0.1 s of a command that takes
about 1 s (benchmarks/bench_analyze.py); a directory listing costs a few milliseconds. A
distribution not found that way (an egg-info or unusual install) is asked of
:mod:`importlib.metadata`.
"""

from __future__ import annotations

import os
import platform
import re
import sys
from collections.abc import Iterable

from ikaros import __version__

__all__ = ["software_versions"]

_SEPARATORS = re.compile(r"[-_.]+")


def _normalise(name: str) -> str:
    return _SEPARATORS.sub("_", name).lower()


def _installed() -> dict[str, str]:
    """Normalised distribution name -> version, the first found on ``sys.path``."""
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for item in names:
            if not item.endswith(".dist-info"):
                continue
            name, sep, version = item[: -len(".dist-info")].partition("-")
            if sep and version:
                found.setdefault(_normalise(name), version)
    return found


def software_versions(dists: Iterable[str]) -> dict[str, str]:
    """Versions of Python, ikaros and the distributions ``dists`` ("not installed" if absent).

    Parameters
    ----------
    dists
        Distribution names as on PyPI (``numpy``, ``firthmodels``, ...).

    Returns
    -------
    dict
        ``{"python": ..., "ikaros": ..., dist: version, ...}`` in that order.
    """
    out = {"python": platform.python_version(), "ikaros": __version__}
    installed = _installed()
    for dist in dists:
        version = installed.get(_normalise(dist))
        if version is None:
            from importlib import metadata

            try:
                version = metadata.version(dist)
            except metadata.PackageNotFoundError:
                version = "not installed"
        out[dist] = version
    return out
