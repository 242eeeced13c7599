"""Formatting shared by the sections of the treatment-course report (no computation beyond it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ikaros.course.analysis import COURSE_SCHEMA_VERSION
from ikaros.errors import SchemaVersionError
from ikaros.report.tables import Table

__all__ = [
    "ENDPOINTS",
    "EVENT_LABELS",
    "ORIGINS",
    "check_schema",
    "endpoint_label",
    "flatten",
    "fmt_hr",
    "fmt_hr_ci",
    "fmt_median",
    "fmt_num",
    "fmt_pct",
    "fmt_pct_ci",
    "fmt_scalar",
    "generic_table",
    "is_geyer_cohort",
    "origin_label",
]

ORIGINS = {
    "diagnosis": "diagnosis",
    "len_start": "first lenalidomide",
    "spm": "SPM",
    "hct_allo": "allogeneic HCT",
}
ENDPOINTS = {"efs": "EFS", "os": "OS", "spm": "SPM"}
EVENT_LABELS = {"spm": "SPM", "death_without_spm": "death without SPM", "censored": "censored"}


def fmt_num(x: Any, digits: int = 1) -> str:
    if x is None or not isinstance(x, int | float) or x != x:
        return "n/a"
    if x == float("inf"):
        return "inf"
    return f"{x:.{digits}f}"


def fmt_hr(x: Any, digits: int = 2) -> str:
    if x is None or not isinstance(x, int | float) or x != x:
        return "n/a"
    if x == float("inf"):
        return "inf"
    if abs(x) >= 1000 or 0 < abs(x) < 0.01:
        return f"{x:.2e}"
    return f"{x:.{digits}f}"


def fmt_pct(x: Any, digits: int = 0) -> str:
    if x is None or not isinstance(x, int | float) or x != x:
        return "n/a"
    return f"{100 * x:.{digits}f}%"


def fmt_pct_ci(est: Any, lo: Any, hi: Any, digits: int = 0) -> str:
    if est is None:
        return "n/a"
    if lo is None or hi is None:
        return fmt_pct(est, digits)
    return f"{fmt_pct(est, digits)} ({100 * lo:.{digits}f}-{100 * hi:.{digits}f}%)"


def fmt_hr_ci(block: Mapping[str, Any] | None, digits: int = 2) -> str:
    if not block or block.get("hr") is None:
        return "n/a"
    lo, hi = fmt_hr(block.get("lower"), digits), fmt_hr(block.get("upper"), digits)
    return f"{fmt_hr(block['hr'], digits)} ({lo}-{hi})"


def origin_label(name: str) -> str:
    return ORIGINS.get(name, name)


def endpoint_label(name: str) -> str:
    return ENDPOINTS.get(name, name)


def fmt_median(km: Mapping[str, Any]) -> str:
    m = km.get("median") or {}
    est = m.get("estimate")
    low = "NR" if m.get("lower") is None else fmt_num(m["lower"])
    high = "NR" if m.get("upper") is None else fmt_num(m["upper"])
    return f"{'not reached' if est is None else fmt_num(est)} ({low}-{high})"


def fmt_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return fmt_hr(value)
    if value is None:
        return "n/a"
    if isinstance(value, list | tuple) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(fmt_scalar(v) for v in value)
    return str(value)


def flatten(obj: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Scalar leaves of a nested block as (path, value): a fallback for unknown layouts."""
    if isinstance(obj, Mapping):
        out: list[tuple[str, str]] = []
        for k, v in obj.items():
            out += flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(obj, list) and any(isinstance(v, dict | list) for v in obj):
        out = []
        for i, v in enumerate(obj):
            out += flatten(v, f"{prefix}[{i}]")
        return out
    return [(prefix, fmt_scalar(obj))]


def generic_table(name: str, title: str, obj: Any, footnote: str = "") -> Table:
    return Table(name, title, ("Quantity", "Value"), tuple(flatten(obj)), footnote)


# --- schema ---------------------------------------------------------------------------------------


def check_schema(results: Mapping[str, Any]) -> None:
    version = str(results.get("course_schema_version", "")) if isinstance(results, dict) else ""
    supported = COURSE_SCHEMA_VERSION.split(".")[0]
    if version.split(".")[0] != supported:
        raise SchemaVersionError(
            f"course results schema version {version or '(none)'!r} is not supported by this "
            f"ikaros (reads {supported}.x). Remedy: re-run `ikaros course` with this version of "
            "ikaros to write a fresh course_results.json, or use the ikaros version that wrote it"
        )


# --- sections ------------------------------------------------------------------------------------


def is_geyer_cohort(results: Mapping[str, Any]) -> bool:
    """B-ALL after lenalidomide timed from the SPM: the series of Geyer et al. 2023."""
    types = results["cohort"].get("spm_types") or {}
    return bool(types) and set(types) == {"B-ALL"} and results["options"].get("origin") == "spm"
