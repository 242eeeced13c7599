"""The text forms of endpoint derivations and labels, shared by the CLI, the web forms and the
validation manifest: ``E=COL1,COL2`` (time from), ``E=COL:VALUE[,VALUE]`` (event from),
``E=1:progression,2:death`` (cause names), ``COL=LEVEL`` and ``COL=TEXT``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ikaros.cohort._endpoints import EndpointSpec
from ikaros.errors import InputError

__all__ = ["endpoint_specs", "parse_assignments", "parse_causes"]


def _split(item: str, option: str, example: str) -> tuple[str, str]:
    name, sep, rest = item.partition("=")
    if not sep or not name.strip() or not rest.strip():
        raise InputError(
            f"{option} {item!r} is not of the form {example}",
            remedy=f"write e.g. {option} {example}",
        )
    return name.strip(), rest.strip()


def parse_assignments(items: Iterable[str], option: str, example: str) -> dict[str, str]:
    """``KEY=VALUE`` options (``--reference iss=II``, ``--label ldh=serum LDH (U/L)``)."""
    out: dict[str, str] = {}
    for item in items:
        key, value = _split(item, option, example)
        if key in out:
            raise InputError(f"{option} names {key!r} twice", remedy=f"give {option} once per name")
        out[key] = value
    return out


def parse_causes(text: str, option: str = "--causes") -> tuple[str, dict[int, str]]:
    """``E=1:progression,2:death`` -> (``E``, {1: "progression", 2: "death"})."""
    endpoint, rest = _split(text, option, "pfs=1:progression,2:death")
    causes: dict[int, str] = {}
    for part in rest.split(","):
        code, sep, name = part.partition(":")
        code = code.strip()
        if not sep or not code.isdigit() or not name.strip() or int(code) < 1:
            raise InputError(
                f"{option} {text!r}: {part.strip()!r} is not CODE:NAME with a code 1, 2, ...",
                remedy=f"write e.g. {option} {endpoint}=1:progression,2:death",
            )
        if int(code) in causes:
            raise InputError(
                f"{option} {text!r}: code {code} is named twice",
                remedy="name each cause code once",
            )
        causes[int(code)] = name.strip()
    if 1 not in causes:
        raise InputError(
            f"{option} {text!r} does not name code 1, the event of interest",
            remedy=f"write e.g. {option} {endpoint}=1:progression,2:death",
        )
    return endpoint, causes


def endpoint_specs(
    endpoints: Sequence[str],
    *,
    time_from: Iterable[str] = (),
    event_from: Iterable[str] = (),
    competing: Iterable[str] = (),
    causes: Iterable[str] = (),
) -> list[EndpointSpec]:
    """Endpoint specifications from the option texts; every name must be an ``--endpoint``."""
    wanted = list(endpoints)
    times: dict[str, tuple[str, ...]] = {}
    for item in time_from:
        e, cols = _split(item, "--time-from", "os=days_to_death,days_to_last_follow_up")
        columns = tuple(c.strip() for c in cols.split(",") if c.strip())
        if not columns:
            raise InputError(f"--time-from {item!r} names no column", remedy="list the columns")
        if e in times:
            raise InputError(
                f"--time-from is given twice for endpoint {e!r}",
                remedy=f"give one --time-from {e}=COLUMN1,COLUMN2 (the columns in order)",
            )
        times[e] = columns
    events: dict[str, tuple[str, tuple[str, ...]]] = {}
    for item in event_from:
        e, rest = _split(item, "--event-from", "os=vital_status:Dead")
        col, sep, values = rest.partition(":")
        vals = tuple(v.strip() for v in values.split(",") if v.strip())
        if not sep or not col.strip() or not vals:
            raise InputError(
                f"--event-from {item!r} is not of the form E=COLUMN:VALUE[,VALUE]",
                remedy="write e.g. --event-from os=vital_status:Dead",
            )
        if e in events:
            raise InputError(
                f"--event-from is given twice for endpoint {e!r}",
                remedy=f"give one --event-from {e}=COLUMN:VALUE[,VALUE]",
            )
        events[e] = (col.strip(), vals)
    comp = list(competing)
    named: dict[str, dict[int, str]] = {}
    for item in causes:
        e, c = parse_causes(item)
        if e in named:
            raise InputError(
                f"--causes is given twice for endpoint {e!r}",
                remedy=f"name all causes of {e!r} in one --causes {e}=1:NAME,2:NAME",
            )
        named[e] = c
    declared: tuple[tuple[str, Iterable[str]], ...] = (
        ("--time-from", times),
        ("--event-from", events),
        ("--competing", comp),
        ("--causes", named),
    )
    for option, names in declared:
        for name in names:
            if name not in wanted:
                raise InputError(
                    f"{option} names endpoint {name!r}, which is not an --endpoint",
                    remedy=f"add --endpoint {name}, or correct the name",
                )
    for name in named:
        if name not in comp:
            raise InputError(
                f"--causes names the causes of {name!r}, which is not a --competing endpoint",
                remedy=f"add --competing {name}",
            )
    specs = []
    for name in wanted:
        event_col, vals = events.get(name, (None, ()))
        is_comp = name in comp
        # survival: several values all mean the event; competing: the values are causes 1, 2, ...
        spec_causes = named.get(name, {})
        if is_comp and event_col is not None and not spec_causes:
            spec_causes = {i + 1: v for i, v in enumerate(vals)}
        specs.append(
            EndpointSpec(
                name,
                time_from=times.get(name, ()),
                event_from=event_col,
                event_values=vals,
                competing=is_comp,
                causes=spec_causes,
            )
        )
    return specs
