"""A CSV matrix parsed in the background (ikaros.scan._prefetch) reads as the direct parse does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ikaros.errors import InputError
from ikaros.scan._prefetch import CsvPrefetch, parse_csv, start_prefetch
from ikaros.scan._read import read_aligned

from .test_read import PATIENTS, _genes_by_samples, _same, _write


def _prefetched(path: Path) -> CsvPrefetch:
    prefetch = start_prefetch(path)
    assert prefetch is not None
    return prefetch


@pytest.mark.parametrize("name", ["m.csv", "m.tsv", "m.txt"])
@pytest.mark.parametrize("transpose", [False, True])
def test_prefetched_read_equals_the_direct_read(tmp_path: Path, name: str, transpose: bool) -> None:
    frame = _genes_by_samples(genes=40)
    frame.loc["G3", "P02"] = np.nan
    if transpose:
        frame = frame.T
        frame.index.name = "sample"
    path = tmp_path / name
    frame.to_csv(path, sep="," if name.endswith(".csv") else "\t")
    prefetch = _prefetched(path)
    with_prefetch = read_aligned(path, PATIENTS, prefetch=prefetch)
    _same(with_prefetch, read_aligned(path, PATIENTS))
    assert prefetch.take(path, prefetch.sep, prefetch.n_columns) is None  # handed over once


def test_the_parsed_table_is_the_direct_parse(tmp_path: Path) -> None:
    path = _write(_genes_by_samples(genes=25), tmp_path / "m.csv")
    prefetch = _prefetched(path)
    table = prefetch.take(path, ",", 8)
    assert table is not None and table.equals(parse_csv(path, 8, ","))


def test_nothing_is_prefetched_for_other_files(tmp_path: Path) -> None:
    frame = _genes_by_samples()
    assert start_prefetch(_write(frame, tmp_path / "m.parquet")) is None
    assert start_prefetch(tmp_path / "absent.csv") is None
    (tmp_path / "one.csv").write_text("gene\nG1\n")
    assert start_prefetch(tmp_path / "one.csv") is None  # a single column
    latin = tmp_path / "latin.csv"
    latin.write_bytes("gene,P01,P02,Caf\u00e9\nG1,1,2,3\n".encode("latin-1"))
    assert start_prefetch(latin) is None  # left to the reader's decoding and messages


def test_a_file_changed_after_the_parse_is_read_again(tmp_path: Path) -> None:
    frame = _genes_by_samples(genes=6)
    path = _write(frame, tmp_path / "m.csv")
    prefetch = _prefetched(path)
    prefetch._thread.join()
    changed = frame + 100.0
    _write(changed, path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    got = read_aligned(path, PATIENTS, prefetch=prefetch)
    _same(got, read_aligned(path, PATIENTS))
    assert got.values.min() > 50


def test_another_separator_or_header_is_not_taken(tmp_path: Path) -> None:
    path = _write(_genes_by_samples(), tmp_path / "m.csv")
    prefetch = _prefetched(path)
    assert prefetch.take(path, "\t", prefetch.n_columns) is None
    prefetch = _prefetched(path)
    assert prefetch.take(path, ",", prefetch.n_columns + 1) is None
    prefetch = _prefetched(path)
    assert prefetch.take(tmp_path / "other.csv", ",", prefetch.n_columns) is None


def test_released_before_the_parse_ends_keeps_nothing(tmp_path: Path) -> None:
    path = _write(_genes_by_samples(genes=2000), tmp_path / "m.csv")
    prefetch = _prefetched(path)
    prefetch.release()
    prefetch._thread.join()
    assert prefetch._table is None


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("gene,P01,P02\nG1,1.0,2.0\nG2,3.0,high\n", r"row 3, column 'P02'.*'high'"),
        ("gene,P01,P02\nG1,1.0,2.0\nG1,3.0,4.0\n", "duplicate row label"),
        ("gene,P01,P01\nG1,1.0,2.0\n", "duplicate column label"),
        ("gene,P01,P02\nG1,1.0,2.0,3.0\n", None),
    ],
)
def test_bad_input_gets_the_same_message(tmp_path: Path, text: str, match: str | None) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=match) as direct:
        read_aligned(path, PATIENTS)
    with pytest.raises(InputError) as prefetched:
        read_aligned(path, PATIENTS, prefetch=start_prefetch(path))
    assert str(prefetched.value) == str(direct.value)


def test_a_bad_clinical_table_stops_the_command_during_the_parse(tmp_path: Path) -> None:
    """The command stops on the clinical table while the matrix is still being parsed: one
    message, exit 2, nothing written (the background parse neither delays nor breaks it)."""
    rng = np.random.default_rng(5)
    samples = [f"S{i:03d}" for i in range(300)]
    frame = pd.DataFrame(
        rng.normal(size=(4000, 300)).round(6),
        index=pd.Index([f"G{j}" for j in range(4000)], name="gene"),
        columns=samples,
    )
    matrix = _write(frame, tmp_path / "matrix.csv")
    clinical = tmp_path / "clinical.csv"
    clinical.write_text("patient_id,os_time,os_event\nS000,soon,1\nS001,12,0\n")
    out = tmp_path / "scan"
    run = subprocess.run(
        [sys.executable, "-m", "ikaros", "scan", "-x", str(matrix), "-c", str(clinical),
         "-e", "os", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert "row 2, column 'os_time'" in run.stderr and "'soon'" in run.stderr
    assert not out.exists()
