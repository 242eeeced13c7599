"""Content-addressed store of uploaded files and the per-analysis output directories.

Uploaded files are written once under ``files/ab/<sha256><ext>``, made read-only and never
modified; the same bytes uploaded twice are stored once. Every path is built from validated
identifiers (hex digests, generated analysis ids, an allowlist of extensions), never from a name
the client sent, so no parameter can reach outside the data directory.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

__all__ = ["ALLOWED_FORMATS", "FileStore", "UploadTooLarge", "analysis_dir", "safe_member"]

#: accepted upload extensions
ALLOWED_FORMATS: tuple[str, ...] = (".csv", ".tsv", ".txt", ".xlsx", ".parquet")
_HEX = re.compile(r"^[0-9a-f]{64}$")
_ID = re.compile(r"^[0-9a-f]{32}$")
_MEMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}(/[A-Za-z0-9][A-Za-z0-9_.-]{0,120})?$")


class UploadTooLarge(Exception):
    """The upload exceeded the configured limit."""


class FileStore:
    """Write-once, content-addressed files below ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str, ext: str) -> Path:
        if not _HEX.match(sha256) or ext not in ALLOWED_FORMATS:
            raise ValueError("invalid file reference")
        return self.root / sha256[:2] / f"{sha256}{ext}"

    async def put_stream(
        self, chunks: AsyncIterator[bytes], ext: str, limit: int
    ) -> tuple[str, int]:
        """Store the streamed bytes; returns (sha256, size); UploadTooLarge past ``limit``."""
        if ext not in ALLOWED_FORMATS:
            raise ValueError("invalid extension")
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(prefix=".upload-", dir=self.root)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fh:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise UploadTooLarge
                    digest.update(chunk)
                    fh.write(chunk)
            sha = digest.hexdigest()
            dest = self.path(sha, ext)
            if dest.exists():
                tmp.unlink()
            else:
                dest.parent.mkdir(exist_ok=True)
                os.chmod(tmp, 0o444)
                os.replace(tmp, dest)
            return sha, size
        finally:
            if tmp.exists():
                tmp.unlink()


def analysis_dir(root: Path, analysis_id: str) -> Path:
    """Output directory of an analysis (``root/<id>``); the id must be a generated one."""
    if not _ID.match(analysis_id):
        raise ValueError("invalid analysis id")
    return root / analysis_id


def safe_member(directory: Path, name: str) -> Path | None:
    """``directory/name`` if ``name`` is a plain relative file name inside it, else None."""
    if not _MEMBER.match(name) or ".." in name:
        return None
    path = (directory / name).resolve()
    base = directory.resolve()
    if base not in path.parents or not path.is_file():
        return None
    return path
