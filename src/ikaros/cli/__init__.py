"""The ``ikaros`` command line: thin commands over the library.

One module per command (:mod:`ikaros.cli.analyze`, :mod:`ikaros.cli.scan`, ...); what they
share (error guard, consoles, option types) lives in :mod:`ikaros.cli._common`, and commands
never import each other. Command modules import only typer and rich at module level; the
numerical, plotting and web libraries are imported inside the commands, so ``ikaros --help``
and ``ikaros --version`` start fast and bad input is answered at once.

Errors that ikaros raises on purpose print one message without a traceback and exit with
status 2 (see :func:`ikaros.cli._common.guard`).
"""

from __future__ import annotations

import importlib
import signal
from typing import Annotated

import typer

from ikaros import __version__
from ikaros.cli._common import Command, Group

__all__ = ["app", "main"]

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

app = typer.Typer(
    name="ikaros",
    cls=Group,
    help="Prognostic-biomarker survival analysis for multiple myeloma.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ikaros {__version__}")
        raise typer.Exit()


@app.callback()
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


for _name, _module, _func in COMMANDS:
    app.command(_name, cls=Command)(
        getattr(importlib.import_module(f"ikaros.cli.{_module}"), _func)
    )
for _name, _module, _attr in GROUPS:
    app.add_typer(getattr(importlib.import_module(f"ikaros.cli.{_module}"), _attr), name=_name)


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM ends the command like Ctrl-C: staged output is removed, nothing lands."""
    raise KeyboardInterrupt


def main() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGTERM, _terminate)
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
