"""Output directories: staged, complete, replaced as a whole, never mixed with earlier runs.

Every command writes its files into a stage directory beside the destination (same file system)
and, when everything has been produced, renames the stage into place. The destination is thus
either the complete output of one run or untouched:

- a new (or empty) ``--out`` directory becomes the stage, by one atomic rename;
- an ``--out`` directory written earlier by ikaros (it holds the marker file
  :data:`MARKER`) is replaced as a whole: the old directory is renamed aside, the stage renamed
  into place, the old one deleted. Files of the earlier run never sit beside new ones. A command
  that adds to a directory it belongs to (``ikaros report RESULTS_DIR`` keeps ``results.json``)
  names the entries it replaces (``keep_unless``); the rest is carried over into the stage;
- a non-empty directory that ikaros did not write is refused before any work is done: ikaros
  never deletes files it did not create.

Stage directories carry the writing process's id (``.NAME.stage-PID-XXXX``); a stage left by a
process that died (SIGKILL, power loss) is removed at the next start. SIGTERM is turned into the
same clean exit as Ctrl-C by the command line, so the stage is removed at once.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ikaros.errors import InputError

__all__ = [
    "COMMITTED",
    "MARKER",
    "OutputStage",
    "check_output_dir",
    "staged_output",
    "write_text_atomic",
]

#: file in every output directory that ikaros wrote (so that it may replace it later)
MARKER = ".ikaros-output"
_MARKER_TEXT = (
    "This directory was written by ikaros. The next ikaros command writing here replaces it as a "
    "whole.\n"
)
#: destinations committed by this process (the command line reports them if a later step fails)
COMMITTED: list[Path] = []
_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?:stage|old)-(?P<pid>\d+)-[^/]+$")


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and an atomic rename."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_leftovers(dest: Path) -> None:
    """Remove stage/old directories of ``dest`` left behind by processes that no longer run."""
    try:
        entries = list(dest.parent.iterdir())
    except OSError:
        return
    for entry in entries:
        m = _LEFTOVER.match(entry.name)
        if m and m.group("name") == dest.name and not _alive(int(m.group("pid"))):
            shutil.rmtree(entry, ignore_errors=True)


def check_output_dir(dest: str | os.PathLike[str]) -> None:
    """Refuse, before any work, an ``--out`` that ikaros may not write to.

    Raises
    ------
    InputError
        ``dest`` is a file, or a non-empty directory that ikaros did not write.
    """
    path = Path(dest)
    if path.exists() and not path.is_dir():
        raise InputError(
            "output path exists and is not a directory",
            file=str(dest),
            remedy="choose a directory for --out",
        )
    if path.is_dir() and not (path / MARKER).exists():
        try:
            first = next(iter(path.iterdir()), None)
        except OSError as exc:
            raise InputError(
                f"output directory cannot be read: {exc.strerror}",
                file=str(dest),
                remedy="choose a directory you can write to for --out",
            ) from None
        if first is not None:
            raise InputError(
                "output directory is not empty and was not written by ikaros",
                file=str(dest),
                remedy="choose a new or empty directory for --out (ikaros replaces only "
                "directories it wrote itself, and never deletes other files)",
            )


class OutputStage:
    """A temporary directory whose contents replace the destination on commit."""

    def __init__(self, stage: Path, dest: Path) -> None:
        self.path = stage
        self.dest = dest

    def file(self, relative: str) -> Path:
        """Path of a file to create inside the stage (parent directories are made)."""
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write_text(self, relative: str, text: str) -> Path:
        target = self.file(relative)
        target.write_text(text, encoding="utf-8", newline="\n")
        return target

    def _carry_over(self, keep_unless: Sequence[str]) -> None:
        if not self.dest.is_dir():
            return
        for entry in sorted(self.dest.iterdir()):
            if entry.name in keep_unless or entry.name == MARKER:
                continue
            target = self.path / entry.name
            if target.exists():
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.copytree(entry, target, symlinks=True)
            else:
                shutil.copy2(entry, target, follow_symlinks=False)

    def commit(self, keep_unless: Sequence[str] | None = None) -> None:
        """Put the stage in place of the destination (see the module docstring)."""
        if keep_unless is not None:
            self._carry_over(keep_unless)
        (self.path / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
        dest = self.dest
        if dest.is_dir() and not any(dest.iterdir()):
            dest.rmdir()
        old: Path | None = None
        if dest.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-{os.getpid()}-", dir=dest.parent))
            old.rmdir()
            os.rename(dest, old)
        try:
            os.rename(self.path, dest)
        except BaseException:
            if old is not None:
                os.rename(old, dest)
            raise
        COMMITTED.append(dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


@contextmanager
def staged_output(
    dest: str | os.PathLike[str], *, keep_unless: Sequence[str] | None = None
) -> Iterator[OutputStage]:
    """Stage outputs for ``dest``; they land only if the block finishes without an exception.

    Parameters
    ----------
    dest
        The output directory. It is created (or replaced as a whole, if ikaros wrote it) only at
        commit.
    keep_unless
        Carry every entry of an existing ``dest`` over into the new directory except these
        names (for commands that add to a directory they belong to, e.g. a report beside its
        results.json). ``None``: nothing is carried over.
    """
    dest_path = Path(dest).resolve()
    if keep_unless is None or not dest_path.is_dir():
        check_output_dir(dest)
    parent = dest_path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        _clean_leftovers(dest_path)
        stage_dir = Path(
            tempfile.mkdtemp(prefix=f".{dest_path.name}.stage-{os.getpid()}-", dir=parent)
        )
    except OSError as exc:
        raise InputError(
            f"cannot create the output directory: {exc.strerror}",
            file=str(dest),
            remedy="choose a writable location for --out",
        ) from None
    stage = OutputStage(stage_dir, dest_path)
    try:
        yield stage
        stage.commit(keep_unless)
    finally:
        shutil.rmtree(stage_dir, ignore_errors=True)
