"""Result objects rebuilt from their JSON form, for the figure functions.

``results.json`` stores the prognostic-performance and treatment-by-marker analyses as the plain
dictionaries of :meth:`ikaros.performance.ModelPerformance.to_dict` and
:meth:`ikaros.validation.predictive.TreatmentByMarker.to_dict`. The figure functions
(:mod:`ikaros.report.figures.performance`, :mod:`ikaros.report.figures.validation`) take the
frozen result objects, so the report rebuilds just the objects they draw: a dataclass is filled
field by field from its dictionary following the field types (nested dataclasses, tuples,
dictionaries, optional values); a ``null`` where the field is a float is NaN again (the JSON form
writes NaN as ``null``). No number is computed or changed.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from ikaros.performance import DecisionCurve, LandmarkCalibration, TimeAUC
from ikaros.validation.predictive import TreatmentByMarker

__all__ = [
    "decision_curve",
    "from_plain",
    "landmark_calibration",
    "time_auc",
    "treatment_by_marker",
]

T = TypeVar("T")


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return _convert(rest[0], value, where)
        for a in rest:  # e.g. float | str: the first that takes the value as it is
            if a in (float, int) and isinstance(value, int | float) and not isinstance(value, bool):
                return _convert(a, value, where)
            if isinstance(a, type) and isinstance(value, a):
                return value
        return value
    if tp is float:
        if value is None:
            return math.nan
        return float(value)
    if tp in (int, str, bool):
        return value
    if origin is tuple:
        if value is None:
            raise ValueError(f"{where}: a tuple is null")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, where) for v in value)
        return tuple(_convert(a, v, where) for a, v in zip(args, value, strict=True))
    if origin is dict:
        return {k: _convert(args[1], v, where) if args else v for k, v in (value or {}).items()}
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return from_plain(tp, value, where)
    return value  # Literal, Any, arrays: as stored


def from_plain(cls: type[T], data: Mapping[str, Any], where: str = "") -> T:
    """Rebuild the frozen dataclass ``cls`` from its plain (JSON) form.

    Parameters
    ----------
    cls
        A dataclass whose fields are dataclasses, tuples, dictionaries, numbers or text.
    data
        Its dictionary; fields with defaults may be missing.
    where
        Where the dictionary comes from, for the error message.

    Returns
    -------
    An instance of ``cls``.

    Raises
    ------
    ValueError
        When a field without a default is missing.
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"{where or cls.__name__}: expected an object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ValueError(f"{where or cls.__name__}: field {f.name!r} is missing")
            continue
        kwargs[f.name] = _convert(hints[f.name], data[f.name], f"{where}.{f.name}")
    return cls(**kwargs)


def landmark_calibration(data: Mapping[str, Any]) -> LandmarkCalibration:
    """One entry of a model's ``calibration`` list."""
    return from_plain(LandmarkCalibration, data, "calibration")


def time_auc(data: Mapping[str, Any]) -> TimeAUC:
    """A model's ``auc`` or ``auc_curve``."""
    return from_plain(TimeAUC, data, "auc")


def decision_curve(data: Mapping[str, Any]) -> DecisionCurve:
    """One entry of a model's ``decision`` list."""
    return from_plain(DecisionCurve, data, "decision")


def treatment_by_marker(data: Mapping[str, Any]) -> TreatmentByMarker:
    """An analysis's ``treatment`` dictionary (with its STEPP result)."""
    return from_plain(TreatmentByMarker, data, "treatment")
