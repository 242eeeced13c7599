"""What every command shares: the error guard, consoles, option types and small formatters.

Errors that ikaros raises on purpose (bad input, impossible analyses) are printed as one message
without a traceback and exit with status 2; outputs are staged and land only when complete.
Set ``IKAROS_DEBUG=1`` to see tracebacks of unexpected errors.

Command modules import from here (and from the ``_*_io`` helpers), never from each other. Only
typer is imported at module level, so that ``ikaros --help`` starts fast; rich (about 40 ms)
when something is printed, so that a quiet command that has nothing to say never loads it.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import shlex
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup

from ikaros.errors import IkarosError, InputError

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

__all__ = [
    "Command",
    "EventFromOption",
    "Group",
    "MapOption",
    "NaValuesOption",
    "OutOption",
    "QuietOption",
    "TimeFromOption",
    "TimeUnitOption",
    "check_out",
    "command_line",
    "err",
    "escape",
    "fmt_p",
    "fmt_pct",
    "guard",
    "note",
    "out_console",
    "parse_map",
    "parse_tokens",
    "progress",
    "progress_step",
]


class _Stderr:
    """rich's console on stderr, made when first used (``err.print(...)``, ``err.get()``)."""

    def __init__(self) -> None:
        self._console: Console | None = None

    def get(self) -> Console:
        """The console itself (for a progress bar)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True, highlight=False)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


err = _Stderr()


def escape(text: str) -> str:
    """``text`` with rich's markup characters escaped (user data may hold square brackets)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


F = TypeVar("F", bound=Callable[..., Any])

MapOption = Annotated[
    list[str] | None,
    typer.Option("--map", help="Column mapping CANONICAL=COLUMN (repeat).", metavar="CANON=COL"),
]
TimeUnitOption = Annotated[
    str,
    typer.Option(
        "--time-unit",
        help="Unit of the time columns: days, months or years.",
        metavar="[days|months|years]",
    ),
]
TimeFromOption = Annotated[
    list[str] | None,
    typer.Option(
        "--time-from",
        help="Derive E_time as the first non-missing of columns, "
        "e.g. os=days_to_death,days_to_last_follow_up (repeat per endpoint).",
        metavar="E=COL1,COL2",
    ),
]
EventFromOption = Annotated[
    list[str] | None,
    typer.Option(
        "--event-from",
        help="Derive E_event from a column's values, e.g. os=vital_status:Dead (other values: "
        "censored).",
        metavar="E=COL:VALUE[,VALUE]",
    ),
]
NaValuesOption = Annotated[
    str | None,
    typer.Option(
        "--na-values",
        help='More cell values read as missing, comma-separated, e.g. Unknown,"Not Reported".',
    ),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary output.")]
OutOption = Annotated[Path, typer.Option("--out", "-o", help="Output directory.")]


_METAVARS = {"str": "TEXT", "float": "NUMBER", "int": "INTEGER", "path": "PATH"}


def _flags_as_flags(params: list[Any]) -> list[Any]:
    """Show boolean flags as flags in --help and values as click does (TEXT, NUMBER, PATH).

    typer labels flags ``<bool>`` (which invites ``-q true``) and repeatable text options
    ``<list[str]>``.
    """
    for param in params:
        if param.metavar is not None:
            continue
        if getattr(param, "is_flag", False):
            param.metavar = ""
        elif param.param_type_name == "option":
            name = str(getattr(param.type, "name", "text")).lower()
            param.metavar = _METAVARS.get(name, name.upper())
        elif param.param_type_name == "argument":
            param.metavar = str(param.name).upper()
    return params


class Command(TyperCommand):
    """A command whose --help shows flags without a value placeholder."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_as_flags(super().get_params(ctx))


class Group(TyperGroup):
    """A command group whose --help shows flags without a value placeholder.

    It also remembers the arguments it was invoked with (``sys.argv`` for a shell, the list
    given by a caller such as click's test runner otherwise) for :func:`command_line`.
    """

    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_as_flags(super().get_params(ctx))

    def main(self, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        _INVOKED_ARGS[:] = list(sys.argv[1:] if args is None else args)
        return super().main(args, *rest, **kwargs)


_INVOKED_ARGS: list[str] = []


def _os_error_message(exc: OSError) -> str:
    path = exc.filename if exc.filename is not None else "(unknown path)"
    reason = exc.strerror or type(exc).__name__
    if exc.errno == errno.ENOSPC:
        remedy = "free disk space or choose another --out location"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        remedy = "choose a writable location, or fix the permissions"
    else:
        remedy = "check the path and try again"
    return f"{path}: {reason}. Nothing was written. Remedy: {remedy}"


def guard(func: F) -> F:
    """Turn ikaros errors into one message and a non-zero exit; never a traceback.

    Every message is escaped before rich renders it: user data (file names, values) may contain
    square brackets that rich would otherwise read as markup.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except IkarosError as exc:
            err.print(f"[bold red]error:[/] {escape(exc.message)}", markup=True, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("interrupted; no output written")
            raise typer.Exit(130) from None
        except OSError as exc:
            if os.environ.get("IKAROS_DEBUG"):
                raise
            err.print(f"[bold red]error:[/] {escape(_os_error_message(exc))}", soft_wrap=True)
            raise typer.Exit(2) from None
        except Exception as exc:
            if os.environ.get("IKAROS_DEBUG"):
                raise
            err.print(
                f"[bold red]internal error:[/] {escape(type(exc).__name__)}: {escape(str(exc))}\n"
                "No output was written. This is a bug in ikaros; please report it with the "
                "command line (set IKAROS_DEBUG=1 to see the traceback).",
                soft_wrap=True,
            )
            raise typer.Exit(70) from None

    return wrapper  # type: ignore[return-value]


def note(text: str) -> None:
    """A yellow note on stderr; ``text`` is shown verbatim (escaped)."""
    err.print(f"[yellow]note:[/] {escape(text)}", soft_wrap=True)


def parse_map(items: list[str] | None) -> dict[str, str]:
    """``--map CANONICAL=COLUMN`` options as a dict."""
    mapping = {}
    for item in items or []:
        canonical, sep, column = item.partition("=")
        if not sep or not canonical.strip() or not column.strip():
            raise InputError(
                f"--map {item!r} is not of the form CANONICAL=COLUMN",
                remedy="write e.g. --map patient_id=PatientID",
            )
        mapping[canonical.strip()] = column.strip()
    return mapping


def fmt_p(p: float | None) -> str:
    if p is None or p != p:
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def fmt_pct(s: float | None) -> str:
    return "n/a" if s is None else f"{100 * s:.0f}%"


def out_console() -> Console:
    """Console for results: at least 120 columns wide, also when piped to a file."""
    from rich.console import Console

    probe = Console(highlight=False)
    return Console(width=max(probe.width, 120), highlight=False) if not probe.is_terminal else probe


@contextlib.contextmanager
def progress(label: str, total: int, quiet: bool) -> Iterator[Callable[[str], None] | None]:
    """A transient progress bar on stderr, as a ``progress(label)`` callback (``None`` when
    ``quiet``: then rich is not even imported)."""
    if quiet:
        yield None
        return
    from rich.progress import Progress

    with Progress(console=err.get(), transient=True) as bar:
        yield progress_step(bar, bar.add_task(label, total=total))


def progress_step(bar: Any, task: Any) -> Callable[[str], None]:
    """A ``progress(label)`` callback advancing a rich progress bar by one step."""

    def step(label: str) -> None:
        bar.update(task, description=escape(label))
        bar.advance(task)

    return step


def check_out(out: Path) -> None:
    """Fail before any work if ``--out`` names an existing file."""
    if out.exists() and not out.is_dir():
        raise InputError(
            "output path exists and is not a directory",
            file=str(out),
            remedy="choose a directory for --out",
        )


def command_line() -> str:
    """The command line as typed, for the reproducibility record."""
    return shlex.join(["ikaros", *(_INVOKED_ARGS or sys.argv[1:])])


def parse_tokens(text: str | None) -> tuple[str, ...]:
    """``Unknown,"Not Reported"`` -> ("Unknown", "Not Reported") (``--na-values``)."""
    import csv

    if not text:
        return ()
    return tuple(t.strip() for t in next(csv.reader([text])) if t.strip())
