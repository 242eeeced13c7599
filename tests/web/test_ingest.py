"""Bounded ingestion: files that unpack to huge tables are refused in seconds, memory bounded.

Against a real ``ikaros serve``: an xlsx of 1 MB that unpacks to 99 MB / 1,000,000 rows (the
sheet declares its size) and one of 0.3 MB that unpacks to 60 MB / 1,000,000 rows without the
declaration (so that only reading the rows could tell) are answered 422 naming the row limit
within 10 s, while the server process stays under 300 MB (about 250 MB of which is the idle
server); a CSV of a million rows (6 MB, no amplification) likewise, its parse adding under
100 MB. Nothing is stored.
"""

from __future__ import annotations

import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ikaros.web.ingest import MAX_UPLOAD_ROWS, upload_limits, validate_file
from ikaros.web.mapping import CohortSpec
from tests.web.security_support import server_process

psutil = pytest.importorskip("psutil")

MB = 1_000_000
_PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
    'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="'
    'application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
    'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="'
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
    'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
    'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target='
    '"xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.'
    'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships"><sheets><sheet name="cohort" sheetId="1" r:id="rId1"/>'
    "</sheets></workbook>",
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="'
    'http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>',
}


def xlsx_bomb(path: Path, rows: int, row_bytes: int, *, declared: bool) -> int:
    """A valid workbook of ``rows`` data rows of ``row_bytes`` bytes of XML each (the value is
    padded with zeros); ``declared``: the sheet states its size. Returns the unpacked size."""
    row = b"<row><c><v>1</v></c><c><v>0.5"
    row += b"0" * max(0, row_bytes - len(row) - 14) + b"</v></c></row>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(
                b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                b'openxmlformats.org/spreadsheetml/2006/main">'
            )
            if declared:
                fh.write(f'<dimension ref="A1:B{rows + 1}"/>'.encode())
            fh.write(
                b'<sheetData><row><c t="inlineStr"><is><t>patient_id</t></is></c>'
                b'<c t="inlineStr"><is><t>IKZF1</t></is></c></row>'
            )
            block = 10_000
            for _ in range(rows // block):
                fh.write(row * block)
            fh.write(row * (rows % block))
            fh.write(b"</sheetData></worksheet>")
    with zipfile.ZipFile(path) as archive:
        return sum(m.file_size for m in archive.infolist())


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bombs")
    declared = root / "declared.xlsx"
    assert 98 * MB < xlsx_bomb(declared, 1_000_000, 99, declared=True) < 100 * MB
    undeclared = root / "undeclared.xlsx"
    assert 55 * MB < xlsx_bomb(undeclared, 1_000_000, 60, declared=False) < 64 * MB
    text = root / "million.csv"
    text.write_bytes(b"patient_id,IKZF1\n" + b"1,0.5\n" * 1_000_000)
    for path in (declared, undeclared):
        assert path.stat().st_size < 2 * MB  # a small upload
    return {"declared": declared, "undeclared": undeclared, "csv": text}


def test_the_row_limit_is_checked_before_parsing(bombs: dict[str, Path]) -> None:
    """In-process: the undeclared bomb is refused by the byte scan, not after parsing rows."""
    limits = upload_limits(50 * 1024 * 1024)
    for name in ("declared", "undeclared", "csv"):
        t0 = time.monotonic()
        cohort, problems = validate_file(bombs[name], f"{name}.x", CohortSpec(), limits)
        took = time.monotonic() - t0
        assert cohort is None and len(problems) == 1, name
        assert f"{MAX_UPLOAD_ROWS:,}" in problems[0].message, problems[0].message
        assert took < 5, (name, took)


class PeakMemory:
    """Samples the resident memory of a process every 10 ms in a thread."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.01)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str, Path]]:
    data = tmp_path_factory.mktemp("bomb-server") / "data"
    with server_process(data, workers=1) as (proc, url, _):
        yield proc.pid, url, data


@pytest.mark.parametrize("name", ["declared", "undeclared", "csv"])
def test_bombs_are_refused_in_seconds(
    server: tuple[int, str, Path], bombs: dict[str, Path], name: str
) -> None:
    pid, url, data = server
    client = httpx.Client(base_url=url, timeout=120)
    headers = {"X-CSRF-Token": client.get("/api/v1/csrf").json()["csrf_token"]}
    path = bombs[name]
    idle = psutil.Process(pid).memory_info().rss
    with PeakMemory(pid) as memory:
        t0 = time.monotonic()
        with path.open("rb") as fh:
            r = client.post("/api/v1/cohorts", files={"file": (path.name, fh)}, headers=headers)
        took = time.monotonic() - t0
    print(
        f"{name}: {r.status_code} in {took:.2f} s, server {idle / MB:.0f} MB idle, "
        f"{memory.peak / MB:.0f} MB at most"
    )
    assert r.status_code == 422, r.text
    (problem,) = r.json()["problems"]
    assert f"{MAX_UPLOAD_ROWS:,}" in problem["message"] and "rows" in problem["message"]
    assert problem["remedy"]
    assert took < 10
    if name == "csv":
        assert memory.peak - idle < 100 * MB
    else:
        assert memory.peak < 300 * MB
    assert client.get("/api/v1/cohorts").json() == []
    assert [p for p in (data / "files").rglob("*") if p.is_file()] == []
