"""One multi-cohort validation run (``ikaros validate``): options, inputs and results together.

:func:`run_validation` checks the options before any data are read, reads the manifest
(:func:`ikaros.validation.manifest.read_manifest`), loads every cohort
(:func:`~ikaros.validation.manifest.load_cohorts`), checks the treatment reference level and runs
:func:`ikaros.validation.multicohort.validate_cohorts`. The :class:`ValidationRun` it returns is
what ``validation.json`` holds (:func:`run_to_json`, deterministic bytes): the options as given,
each cohort's files (relative to the manifest) with their SHA-256, whether the cohort has marker
values or only published groups and whether it was reconstructed from published curves, and the
:class:`~ikaros.validation.multicohort.Validation` results.

A fixed ``--cut VALUE`` is given on the marker's own scale (as ``ikaros analyze`` thresholds) and
converted to the analysis scale (``log2``) here.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ikaros import __version__
from ikaros.errors import InputError
from ikaros.validation._serial import VALIDATION_SCHEMA_VERSION, dumps, plain
from ikaros.validation.manifest import CohortEntry, load_cohorts, read_manifest
from ikaros.validation.multicohort import CohortData, Validation, validate_cohorts

__all__ = [
    "CohortSource",
    "ValidationOptions",
    "ValidationRun",
    "check_options",
    "run_to_json",
    "run_validation",
]

TRANSFORMS = ("none", "log2")
CONF_LEVEL = 0.95


@dataclass(frozen=True)
class ValidationOptions:
    """The options of the run as given (``cut`` as typed; ``cut_value`` on the analysis scale)."""

    marker: str
    endpoint: str
    covariates: tuple[str, ...]
    transform: str
    cut: str
    cut_value: float | None
    landmark: float
    treatment_reference: str | None
    conf_level: float


@dataclass(frozen=True)
class CohortSource:
    """Where one cohort came from and what it can contribute.

    ``marker`` is ``"values"`` (continuous and cut analyses) or ``"published groups"`` (a cohort
    given by the low and high groups of a published split: cut analyses only);
    ``treatment`` the manifest's treatment column or label, ``treatment_levels`` the levels
    among the analysed patients.
    """

    name: str
    files: tuple[str, ...]
    sha256: tuple[str, ...]
    marker: str
    reconstructed: bool
    treatment: str | None
    treatment_levels: tuple[str, ...]
    n: int
    events: int
    n_excluded: int


@dataclass(frozen=True)
class ValidationRun:
    """Everything ``validation.json`` records about one run."""

    schema_version: str
    ikaros_version: str
    command: str | None
    manifest: str
    manifest_sha256: str
    options: ValidationOptions
    cohorts: tuple[CohortSource, ...]
    results: Validation
    software: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN as ``None``)."""
        out: dict[str, Any] = plain(self)
        return out

    @property
    def reconstructed(self) -> tuple[str, ...]:
        """Names of the cohorts reconstructed from published curves."""
        return tuple(c.name for c in self.cohorts if c.reconstructed)


def run_to_json(run: ValidationRun) -> str:
    """Deterministic JSON text of a run (``validation.json``)."""
    return dumps(run)


def software_versions() -> dict[str, str]:
    """Versions of Python and the numerical libraries, for the reproducibility record."""
    from ikaros.versions import software_versions as versions

    return versions(("numpy", "scipy", "pandas", "statsmodels"))


def check_options(
    *,
    marker: str,
    endpoint: str,
    covariates: Sequence[str] = (),
    transform: str = "none",
    cut: str = "q1",
    landmark: float = 36.0,
    treatment_reference: str | None = None,
) -> ValidationOptions:
    """Check the options before any data are read.

    Raises
    ------
    InputError
        An empty marker or endpoint name, an unknown transform, a cut that is neither ``q1``,
        ``median`` nor a number (positive with ``log2``), a landmark that is not a positive
        number, a covariate named twice or equal to the marker.
    """
    if not marker.strip():
        raise InputError("--marker is empty", remedy="name the marker column, e.g. --marker IKZF1")
    if not endpoint.strip():
        raise InputError("--endpoint is empty", remedy="name the endpoint, e.g. --endpoint pfs")
    if transform not in TRANSFORMS:
        raise InputError(
            f"--transform {transform!r} is not known", remedy=f"use one of {', '.join(TRANSFORMS)}"
        )
    cut_value: float | None = None
    if cut not in ("q1", "median"):
        try:
            cut_value = float(cut)
        except ValueError:
            cut_value = float("nan")
        if not math.isfinite(cut_value):
            raise InputError(
                f"--cut {cut!r} is neither q1, median nor a number",
                remedy="use q1 (lowest quartile vs the rest), median, or a value of the marker",
            )
        if transform == "log2":
            if cut_value <= 0:
                raise InputError(
                    f"--cut {cut!r} must be positive with --transform log2",
                    remedy="give the cut on the marker's own (linear) scale",
                )
            cut_value = math.log2(cut_value)
    if not (math.isfinite(landmark) and landmark > 0):
        raise InputError(
            f"--landmark {landmark:g} must be a positive number of months",
            remedy="e.g. --landmark 36",
        )
    covs = tuple(c.strip() for c in covariates)
    if len(set(covs)) != len(covs) or any(not c for c in covs):
        raise InputError(
            f"--covariate names a column twice or is empty: {', '.join(covs)}",
            remedy="name each covariate once",
        )
    if marker in covs:
        raise InputError(
            f"--covariate {marker!r} is the marker itself", remedy="drop it from --covariate"
        )
    return ValidationOptions(
        marker=marker.strip(),
        endpoint=endpoint.strip(),
        covariates=covs,
        transform=transform,
        cut=cut,
        cut_value=cut_value,
        landmark=float(landmark),
        treatment_reference=treatment_reference,
        conf_level=CONF_LEVEL,
    )


def _relative(path: Path, base: Path) -> str:
    try:
        return Path(os.path.relpath(path, base)).as_posix()
    except ValueError:  # another drive (Windows)
        return path.as_posix()


def _check_reference(data: Sequence[CohortData], reference: str | None) -> None:
    if reference is None:
        return
    levels = sorted({str(v) for c in data if c.treatment is not None for v in c.treatment})
    if not levels:
        raise InputError(
            f"--treatment-reference {reference!r} given, but no cohort has a treatment",
            remedy="give the cohorts treatment or treatment_label in the manifest, or drop "
            "--treatment-reference",
        )
    if reference not in levels:
        raise InputError(
            f"--treatment-reference {reference!r} does not occur; the treatments are "
            + ", ".join(repr(v) for v in levels),
            remedy="use one of these levels (spelling and case as in the data)",
        )


def _source(entry: CohortEntry, data: CohortData, base: Path) -> CohortSource:
    from ikaros.files import sha256_file

    return CohortSource(
        name=entry.name,
        files=tuple(_relative(f, base) for f in entry.files),
        sha256=tuple(sha256_file(f) for f in entry.files),
        marker="published groups" if data.published_groups else "values",
        reconstructed=data.reconstructed,
        treatment=entry.treatment or entry.treatment_label,
        treatment_levels=()
        if data.treatment is None
        else tuple(sorted({str(v) for v in data.treatment})),
        n=int(data.time.size),
        events=int(data.event.sum()),
        n_excluded=data.n_excluded,
    )


def run_validation(
    manifest: str | Path,
    options: ValidationOptions,
    *,
    command: str | None = None,
    manifest_label: str | None = None,
) -> ValidationRun:
    """Read the manifest, load its cohorts and run the multi-cohort validation.

    Parameters
    ----------
    manifest
        The TOML manifest (:mod:`ikaros.validation.manifest`).
    options
        From :func:`check_options`.
    command
        The command line, for the record.
    manifest_label
        How the manifest is named in the record (default: the path as given).

    Returns
    -------
    ValidationRun

    Raises
    ------
    InputError
        A bad manifest or cohort table, fewer than two cohorts, a treatment reference level
        that does not occur.

    References
    ----------
    Riley RD, Lambert PC, Abo-Zaid G. Meta-analysis of individual participant data: rationale,
    conduct, and reporting. BMJ 2010;340:c221.
    """
    from ikaros.files import sha256_file

    path = Path(manifest)
    entries = read_manifest(path)
    if len(entries) < 2:
        raise InputError(
            f"the manifest lists {len(entries)} cohort; a validation needs at least 2",
            file=str(path),
            remedy="add a [[cohort]] table per cohort",
        )
    o = options
    data = load_cohorts(
        entries,
        marker=o.marker,
        endpoint=o.endpoint,
        covariates=o.covariates,
        transform=o.transform,
    )
    _check_reference(data, o.treatment_reference)
    results = validate_cohorts(
        data,
        marker=o.marker,
        endpoint=o.endpoint,
        scale=o.transform,
        cut=o.cut if o.cut_value is None else o.cut_value,
        landmark=o.landmark,
        treatment_reference=o.treatment_reference,
        conf_level=o.conf_level,
    )
    base = path.parent
    return ValidationRun(
        schema_version=VALIDATION_SCHEMA_VERSION,
        ikaros_version=__version__,
        command=command,
        manifest=manifest_label or path.as_posix(),
        manifest_sha256=sha256_file(path),
        options=o,
        cohorts=tuple(_source(e, d, base) for e, d in zip(entries, data, strict=True)),
        results=results,
        software=software_versions(),
    )
