"""The ``ikaros`` command line: thin commands over the library.

One module per command (:mod:`ikaros.cli.analyze`, :mod:`ikaros.cli.scan`, ...); what they
share (error guard, consoles, option types) lives in :mod:`ikaros.cli._common`, and commands
never import each other. Command modules import only typer and rich at module level (the
shared helpers and the study commands load rich only when they print); the numerical,
plotting and web libraries are imported inside the commands, so ``ikaros --help`` and
``ikaros --version`` start fast and bad input is answered at once. The console script builds
only the command it runs (:func:`build_app`).

Errors that ikaros raises on purpose print one message without a traceback and exit with
status 2 (see :func:`ikaros.cli._common.guard`).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib
import os
import signal
import sys
import threading
from typing import Annotated

import typer

from ikaros import __version__
from ikaros.cli._common import Command, Group

__all__ = ["app", "build_app", "main"]

#: (command name, module, function) of every command, in the order of ``ikaros --help``
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("analyze", "analyze", "analyze"),
    ("report", "report", "report"),
    ("demo", "demo", "demo"),
    ("qpcr", "qpcr", "qpcr"),
    ("cutpoint", "cutpoint", "cutpoint"),
    ("scan", "scan", "scan"),
    ("course", "course", "course"),
    ("ipd", "ipd", "ipd"),
    ("model", "model", "model"),
    ("validate", "validate", "validate"),
    ("serve", "serve", "serve"),
)
#: sub-command groups: (name, module, typer app attribute)
GROUPS: tuple[tuple[str, str, str], ...] = (("user", "serve", "user_app"),)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ikaros {__version__}")
        raise typer.Exit()


def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and exit.",
            callback=_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Prognostic-biomarker survival analysis for multiple myeloma."""


def build_app(only: str | None = None) -> typer.Typer:
    """The ``ikaros`` application: every command, or only the one named ``only``.

    typer turns every registered command into a click command (reading its signature and
    annotations) before it parses anything: about 0.05 s for all of them, 0.01 s for one. The
    console script therefore builds only the command it was asked for; ``ikaros --help``,
    anything else and :data:`app` have all of them (same options, help and messages).
    """
    cli = typer.Typer(
        name="ikaros",
        cls=Group,
        help="Prognostic-biomarker survival analysis for multiple myeloma.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    cli.callback()(_root)
    for name, module, func in COMMANDS:
        if only is None or only == name:
            cli.command(name, cls=Command)(
                getattr(importlib.import_module(f"ikaros.cli.{module}"), func)
            )
    for name, module, attr in GROUPS:
        if only is None or only == name:
            cli.add_typer(getattr(importlib.import_module(f"ikaros.cli.{module}"), attr), name=name)
    return cli


_NAMES = frozenset(name for name, _, _ in COMMANDS + GROUPS)


@functools.cache
def _full_app() -> typer.Typer:
    return build_app()


def __getattr__(name: str) -> typer.Typer:
    """``app``: the whole application, built on first use (tests, documentation)."""
    if name == "app":
        return _full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM ends the command like Ctrl-C: staged output is removed, nothing lands."""
    raise KeyboardInterrupt


def main() -> None:
    """Console-script entry point.

    When the command has ended (its outputs written and closed, exit handlers run, streams
    flushed) the process exits at once, without tearing down every imported module one by one:
    that teardown (numpy, pandas, matplotlib, ...) adds about 0.1 s to every command and does
    nothing a user can see (benchmarks/bench_analyze.py).
    """
    signal.signal(signal.SIGTERM, _terminate)
    first = sys.argv[1] if len(sys.argv) > 1 else None
    try:
        build_app(first if first in _NAMES else None)()
    except SystemExit as done:
        code = done.code
    else:  # pragma: no cover - typer's app() always ends with SystemExit
        code = 0
    _exit(code)


def _exit(code: object) -> None:
    """Exit with ``code`` as :func:`sys.exit` would, skipping the interpreter's teardown."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): the message on stderr, status 1
        print(code, file=sys.stderr)
        status = 1
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    threading_shutdown = getattr(threading, "_shutdown", None)
    if (
        run_exit_handlers is None
        or threading_shutdown is None
        or sys.getprofile() is not None
        or sys.gettrace() is not None
    ):
        # a profiler, debugger or coverage tool writes its findings after the command: the
        # ordinary way out (CPython always has both hooks)
        sys.exit(status)
    threading_shutdown()  # wait for non-daemon threads, as the interpreter would
    run_exit_handlers()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed, or a broken pipe
            stream.flush()
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    main()
