"""PNG files of the figures (ikaros.report.png) and their pass-through into report.pdf.

* ``write_png`` writes what Pillow reads back pixel for pixel, at the dpi given, RGB or RGBA,
  and the same bytes for the same pixels; ``read_png`` returns the compressed rows of RGB PNGs
  only (alpha, palette, 16-bit, interlaced and damaged files go reportlab's usual way).
* In report.pdf every figure is the PNG's image exactly: tests/report/test_report.py.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ikaros.report.png import read_png, write_png


def _pixels(channels: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    flat = np.full((37, 53, channels), 255, dtype=np.uint8)
    flat[5:20, 3:40, :3] = rng.integers(0, 256, 3, dtype=np.uint8)  # a coloured block
    flat[25:, :, :] = rng.integers(0, 256, (12, 53, channels), dtype=np.uint8)  # noise
    return flat


@pytest.mark.parametrize("channels", [3, 4])
def test_write_png_round_trips_through_pillow(tmp_path: Path, channels: int) -> None:
    pixels = _pixels(channels)
    path = tmp_path / "a.png"
    write_png(path, pixels, 300)
    with Image.open(path) as im:
        assert im.mode == ("RGB" if channels == 3 else "RGBA")
        assert round(im.info["dpi"][0]) == 300
        assert np.array_equal(np.asarray(im), pixels)
    again = tmp_path / "b.png"
    write_png(again, pixels.copy(), 300)
    assert again.read_bytes() == path.read_bytes()


def test_read_png_takes_rgb_only(tmp_path: Path) -> None:
    rgb = tmp_path / "rgb.png"
    write_png(rgb, _pixels(3), 300)
    data = read_png(rgb)
    assert data is not None and (data.width, data.height) == (53, 37)
    rgba = tmp_path / "rgba.png"
    write_png(rgba, _pixels(4), 300)
    assert read_png(rgba) is None
    palette = tmp_path / "palette.png"
    Image.fromarray(_pixels(3)).convert("P").save(palette)
    assert read_png(palette) is None
    interlaced = tmp_path / "interlaced.png"  # the IHDR's interlace byte set, CRC recomputed
    raw = bytearray(rgb.read_bytes())
    raw[28] = 1
    raw[29:33] = struct.pack(">I", zlib.crc32(bytes(raw[12:29])))
    interlaced.write_bytes(bytes(raw))
    assert read_png(interlaced) is None
    damaged = tmp_path / "damaged.png"
    raw = bytearray(rgb.read_bytes())
    raw[60] ^= 0xFF  # inside IDAT: the chunk's CRC no longer matches
    damaged.write_bytes(bytes(raw))
    assert read_png(damaged) is None
    text = tmp_path / "text.png"
    text.write_text("not a png")
    assert read_png(text) is None
    # Pillow's own RGB PNG (adaptive filters, several IDAT chunks) is taken as well
    pillow = tmp_path / "pillow.png"
    Image.fromarray(_pixels(3, seed=2)).save(pillow)
    assert read_png(pillow) is not None
