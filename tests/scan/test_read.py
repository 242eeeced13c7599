"""The fast matrix reader (ikaros.scan._read) gives what load_matrix + align_matrix give.

Every layout the scan accepts (CSV, TSV, Parquet with an index or a first label column; genes x
samples and samples x genes) is read both ways and compared field by field; bad input must get
the DataFrame path's message (the fast path falls back instead of deciding what is an error).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ikaros.scan._prefetch as csv_parser
import ikaros.scan._read as fast_reader
from ikaros.errors import InputError
from ikaros.scan._read import read_aligned
from ikaros.scan.matrix import AlignedMatrix, align_matrix, load_matrix

PATIENTS = [f"P{i:02d}" for i in range(1, 9)]


def _genes_by_samples(genes: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    samples = [*PATIENTS[:6], "X99"]
    frame = pd.DataFrame(
        rng.normal(size=(genes, 7)).round(6),
        index=[f"G{j}" for j in range(genes)],
        columns=samples,
    )
    frame.index.name = "gene"
    return frame


def _write(frame: pd.DataFrame, path: Path, *, index_in_metadata: bool = True) -> Path:
    if path.suffix == ".parquet":
        if index_in_metadata:
            frame.to_parquet(path)
        else:
            frame.reset_index().to_parquet(path, index=False)
    else:
        frame.to_csv(path, sep="," if path.suffix == ".csv" else "\t")
    return path


def _same(a: AlignedMatrix, b: AlignedMatrix) -> None:
    for f in dataclasses.fields(AlignedMatrix):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y)
        else:
            assert x == y, f.name


def _both(path: Path, **kwargs: object) -> tuple[AlignedMatrix, AlignedMatrix]:
    fast = read_aligned(path, PATIENTS, source="m", **kwargs)  # type: ignore[arg-type]
    slow = align_matrix(load_matrix(path), PATIENTS, source="m", **kwargs)  # type: ignore[arg-type]
    return fast, slow


@pytest.mark.parametrize("name", ["m.csv", "m.tsv", "m.parquet"])
@pytest.mark.parametrize("transpose", [False, True])
def test_every_layout_reads_the_same(tmp_path: Path, name: str, transpose: bool) -> None:
    frame = _genes_by_samples()
    frame.loc["G1", "P03"] = np.nan  # a gene set aside for a missing value
    frame.loc["G2", :] = 1.5  # and one without variation
    if transpose:
        frame = frame.T
        frame.index.name = "sample"
    fast, slow = _both(_write(frame, tmp_path / name))
    _same(fast, slow)
    assert fast.orientation == ("samples x genes" if transpose else "genes x samples")
    assert fast.genes_missing == ("G1",) and fast.genes_constant == ("G2",)


def test_parquet_with_the_labels_in_a_first_column(tmp_path: Path) -> None:
    path = _write(_genes_by_samples(), tmp_path / "m.parquet", index_in_metadata=False)
    _same(*_both(path))


def test_many_streamed_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny blocks and column chunks: the rows of many blocks land in the right place."""
    monkeypatch.setattr(csv_parser, "_BLOCK", 256)
    monkeypatch.setattr(fast_reader, "_COLUMNS", 2)
    frame = _genes_by_samples(genes=300)
    for name in ("m.csv", "m.parquet"):
        _same(*_both(_write(frame, tmp_path / name)))
        _same(*_both(_write(frame.T, tmp_path / f"t_{name}")))


def test_sample_pattern_and_duplicate_samples(tmp_path: Path) -> None:
    frame = _genes_by_samples()
    frame.columns = [f"{c}_a" for c in frame.columns]
    frame["P01_b"] = 9.0
    frame["P00_b"] = 3.0  # matches no patient
    path = _write(frame, tmp_path / "m.csv")
    fast, slow = _both(path, sample_pattern=r"^(P\d+)_")
    _same(fast, slow)
    assert fast.duplicate_samples == ("P01_b",)


def test_patients_on_both_axes_fall_back(tmp_path: Path) -> None:
    """Patient IDs in the header and (more of them) in the rows: the rows are the samples."""
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(rng.normal(size=(6, 3)), index=PATIENTS[:6], columns=["P07", "G1", "G2"])
    path = _write(frame, tmp_path / "m.csv")
    fast, slow = _both(path)
    _same(fast, slow)
    assert fast.orientation == "samples x genes"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("gene,P01,P02\nG1,1.0,2.0\nG2,3.0,high\n", r"row 3, column 'P02'.*'high'"),
        ("gene,P01,P02\nG1,1.0,2.0\nG1,3.0,4.0\n", "duplicate row label"),
        ("gene,P01,P01\nG1,1.0,2.0\n", "duplicate column label"),
        ("gene,A,B\nG1,1.0,2.0\n", "no sample of the expression matrix matches"),
    ],
)
def test_bad_input_gets_the_same_message(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=match) as fast:
        read_aligned(path, PATIENTS)
    with pytest.raises(InputError) as slow:
        align_matrix(load_matrix(path), PATIENTS, source=str(path))
    assert str(fast.value) == str(slow.value)
