"""PNG figures into report.pdf as they are: no decoding, no second compression.

A PDF image can be compressed exactly as a PNG file's pixel data is: zlib ("FlateDecode") over
scanlines that each start with a PNG filter byte (PDF "predictor" 15; ISO 32000-1, 7.4.4.4).
The concatenated IDAT chunks of an 8-bit, non-interlaced RGB PNG
(:func:`ikaros.report.png.read_png`) are therefore a valid PDF image stream. Embedding them
directly skips what reportlab's ``drawImage`` does with a PNG file: decode it, hash the pixels
and compress them again (about 0.1 s per 300-dpi figure, 3 s of the demo report). Other PNGs
(alpha, palette, 16-bit, interlaced) take reportlab's usual path.

Why own code: reportlab has no pass-through for PNG (only for JPEG); the flowable registers
its image with the canvas the way ``Canvas.drawImage`` does.
"""

from __future__ import annotations

from typing import Any

from reportlab.pdfbase.pdfdoc import PDFDictionary, PDFImageXObject, PDFName, PDFStream
from reportlab.platypus.flowables import Flowable

from ikaros.report.png import PngData

__all__ = ["PngFigure"]


class _PngXObject(PDFImageXObject):
    """An image XObject whose stream is a PNG's IDAT data (FlateDecode, PNG predictors)."""

    def __init__(self, png: PngData) -> None:
        super().__init__(png.name)
        self.png = png  # format() writes the stream and its dictionary from it

    def format(self, document: Any) -> bytes:
        stream = PDFStream(content=self.png.idat)
        d = stream.dictionary
        d["Type"] = PDFName("XObject")
        d["Subtype"] = PDFName("Image")
        d["Width"] = self.png.width
        d["Height"] = self.png.height
        d["BitsPerComponent"] = 8
        d["ColorSpace"] = PDFName("DeviceRGB")
        d["Filter"] = PDFName("FlateDecode")
        d["DecodeParms"] = PDFDictionary(
            {"Predictor": 15, "Colors": 3, "BitsPerComponent": 8, "Columns": self.png.width}
        )
        d["Length"] = len(self.png.idat)
        out: bytes = stream.format(document)
        return out


class PngFigure(Flowable):
    """A figure drawn from its PNG's compressed data at ``width`` x ``height`` points."""

    def __init__(self, png: PngData, width: float, height: float) -> None:
        super().__init__()
        self.png = png
        self.drawWidth = width
        self.drawHeight = height

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.drawWidth, self.drawHeight

    def draw(self) -> None:
        canvas = self.canv
        doc = canvas._doc
        name = self.png.name
        reference = doc.getXObjectName(name)
        if doc.idToObject.get(reference) is None:  # first use: register, as drawImage does
            image = _PngXObject(self.png)
            canvas._setXObjects(image)
            doc.Reference(image, reference)
            doc.addForm(name, image)
        canvas._currentPageHasImages = 1
        canvas.saveState()
        canvas.scale(self.drawWidth, self.drawHeight)
        canvas._code.append(f"/{reference} Do")
        canvas.restoreState()
        canvas._formsinuse.append(name)
