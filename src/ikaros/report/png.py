"""PNG files of the figures: written without row filters, read back for report.pdf.

The figures are flat colours on white. Compressed without PNG row filters (filter type 0 on
every row) they are about 15% smaller than with Pillow's adaptive filters, which it offers no
way to turn off; and an 8-bit RGB PNG's compressed rows are a valid PDF image stream
(FlateDecode with PNG predictors, ISO 32000-1 7.4.4.4), so report.pdf embeds them as they are
(:mod:`ikaros.report.pdf_images`) instead of decoding and compressing every figure again.

Why own code: the format is four chunks (PNG specification, ISO/IEC 15948); Pillow writes
PNGs but chooses the filters itself, and nothing reads a PNG's compressed data without
decoding it.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = ["PngData", "read_png", "write_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPE = {3: 2, 4: 6}  # channels -> PNG colour type (RGB, RGBA)


@dataclass(frozen=True)
class PngData:
    """Size and compressed rows (the IDAT data) of an 8-bit, non-interlaced RGB PNG."""

    width: int
    height: int
    idat: bytes

    @property
    def name(self) -> str:
        """A name from a digest of the data: the same image gets the same name."""
        return "PNG" + hashlib.sha1(self.idat, usedforsecurity=False).hexdigest()[:20]


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def write_png(path: Path, pixels: NDArray[np.uint8], dpi: float) -> None:
    """Write ``pixels`` (height x width x 3 or 4, uint8) as a PNG with ``dpi`` recorded.

    Every row has filter type 0; zlib level 6. No time, software or other text chunk: the
    bytes depend only on the pixels and ``dpi``.
    """
    height, width, channels = pixels.shape
    rows = np.empty((height, 1 + width * channels), dtype=np.uint8)
    rows[:, 0] = 0
    rows[:, 1:] = pixels.reshape(height, width * channels)
    per_metre = round(dpi / 0.0254)
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOUR_TYPE[channels], 0, 0, 0)
    path.write_bytes(
        _SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1))
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + _chunk(b"IEND", b"")
    )


def read_png(path: Path) -> PngData | None:
    """The size and IDAT data of an 8-bit, non-interlaced RGB PNG; ``None`` for other PNGs
    (alpha, palette, 16-bit, interlaced) and for files that are not intact PNGs."""
    data = path.read_bytes()
    if not data.startswith(_SIGNATURE):
        return None
    pos = len(_SIGNATURE)
    header: tuple[int, ...] | None = None
    idat: list[bytes] = []
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        crc = data[pos + 8 + length : pos + 12 + length]
        if len(body) != length or len(crc) != 4:
            return None
        if zlib.crc32(kind + body) != struct.unpack(">I", crc)[0]:
            return None
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None or not idat:
        return None
    width, height, depth, colour, compression, filtering, interlace = header
    if (depth, colour, compression, filtering, interlace) != (8, 2, 0, 0, 0):
        return None
    return PngData(width, height, b"".join(idat))
