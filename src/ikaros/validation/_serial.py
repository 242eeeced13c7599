"""Plain (JSON-ready) form of the frozen result objects of :mod:`ikaros.validation`.

Every result dataclass of this package has ``to_dict()``; the dictionaries follow the field order
of the dataclasses, with NaN and infinity written as ``None`` (JSON ``null``), tuples as lists and
numpy scalars as Python numbers, so the same results always give the same JSON bytes.
"""

from __future__ import annotations

from typing import Any

from ikaros.results import serial

__all__ = ["VALIDATION_SCHEMA_VERSION", "dumps", "plain"]

#: MAJOR.MINOR of the JSON form of the treatment-by-marker and validation results.
VALIDATION_SCHEMA_VERSION = "2.0"


def plain(value: Any) -> Any:
    """Turn a result object (dataclass, tuple, dict, numpy value) into JSON-ready Python data."""
    return serial.plain(value)


def dumps(value: Any) -> str:
    """Deterministic, indented JSON text of a result object (ends with a newline)."""
    return serial.dumps(value)
