"""Marker values from a second file, joined to the cohort by patient.

Two layouts are read:

- a patient table: a ``patient_id`` (or ``sample``) column and one column per marker, as
  ``ikaros qpcr`` writes it;
- an expression matrix, as ``ikaros scan`` reads it: genes x samples or samples x genes with the
  labels in the first column (GEO/GDC exports). The orientation is found from the axis that
  carries the cohort's patient IDs; ``sample_pattern`` maps sample names to patient IDs (its first
  group), ``genes`` maps gene IDs to symbols (so ``--marker IKZF1`` finds ``ENSG00000185811``).

Unmatched identifiers are counted in the notes; a patient without a sample has a missing marker
value (excluded, counted, from that marker's analyses).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from ikaros.cohort._cells import check_ids, numeric
from ikaros.errors import InputError
from ikaros.files import read_table

__all__ = ["attach_expression", "read_gene_map"]


def read_gene_map(path: str | os.PathLike[str]) -> dict[str, str]:
    """Gene identifier -> symbol, from a two-column table (id, symbol; header optional)."""
    frame = read_table(path, what="gene map")
    if frame.shape[1] < 2:
        raise InputError(
            "gene map needs two columns: gene identifier and symbol",
            file=str(path),
            row=1,
            remedy="write one row per gene: ENSG00000185811,IKZF1",
        )
    ids, symbols = frame.iloc[:, 0], frame.iloc[:, 1]
    mapping: dict[str, str] = {}
    for row, (gid, sym) in enumerate(zip(ids, symbols, strict=True)):
        if gid is None or sym is None:
            continue
        if gid in mapping and mapping[gid] != sym:
            raise InputError(
                f"gene {gid!r} is mapped to two symbols ({mapping[gid]!r} and {sym!r})",
                file=str(path),
                row=int(frame.index[row]),
                remedy="keep one row per gene identifier",
            )
        mapping[str(gid)] = str(sym)
    return mapping


def _head(path: str | os.PathLike[str]) -> str:
    """The first line of a text file (empty for other formats)."""
    p = Path(path)
    if p.suffix.lower() not in (".csv", ".tsv", ".txt"):
        return ""
    with open(p, "rb") as fh:
        return fh.readline(1 << 20).decode("utf-8", errors="replace")


def _is_patient_table(path: Path) -> bool:
    from ikaros._input_text import decode_text

    if path.suffix.lower() not in (".csv", ".tsv", ".txt"):
        head = read_table(path, what="expression").columns[:1]
        return bool(len(head)) and head[0] in ("patient_id", "sample")
    with open(path, "rb") as fh:
        line = fh.readline(1 << 20)
    text, _ = decode_text(line, what="expression", name=str(path))
    sep = "," if path.suffix.lower() == ".csv" else "\t"
    first = text.split(sep, 1)[0].strip().strip('"')
    return first in ("patient_id", "sample")


def _patient_table(
    path: str | os.PathLike[str], markers: Sequence[str], clinical_columns: Sequence[str]
) -> pd.DataFrame:
    file = str(path)
    expr = read_table(path, what="expression")
    id_col = next((c for c in ("patient_id", "sample") if c in expr.columns), None)
    if id_col is None:
        raise InputError(
            "expression table has no 'patient_id' (or 'sample') column",
            file=file,
            row=1,
            remedy="name the first column patient_id; `ikaros qpcr` writes it that way",
        )
    ids = check_ids(expr.rename(columns={id_col: "patient_id"}), file)
    clash = [c for c in expr.columns if c != id_col and c in clinical_columns]
    if clash:
        raise InputError(
            f"column {clash[0]!r} is in both the cohort and the expression table",
            file=file,
            row=1,
            column=clash[0],
            remedy="rename or drop it in one of the two files",
        )
    out = pd.DataFrame({"patient_id": ids}, index=expr.index)
    for marker in markers:
        if marker in expr.columns:
            numeric(
                expr[marker],
                file=file,
                column=marker,
                what="marker value",
                remedy="enter expression as a number (decimal point); leave empty if missing",
            )
            out[marker] = expr[marker]
    return out


def _matrix_table(
    path: str | os.PathLike[str],
    markers: Sequence[str],
    patient_ids: list[str],
    sample_pattern: str | None,
    genes: Mapping[str, str],
    notes: list[str],
) -> pd.DataFrame:
    from ikaros.scan.matrix import load_matrix, orient_matrix

    file = str(path)
    matrix = load_matrix(path)
    by_sample, chosen, orientation, report = orient_matrix(
        matrix, patient_ids, source=file, sample_pattern=sample_pattern
    )
    symbols = {str(g): genes.get(str(g), str(g)) for g in by_sample.columns}
    wanted: dict[str, str] = {}
    for gene, symbol in symbols.items():
        if symbol in markers:
            if symbol in wanted:
                raise InputError(
                    f"marker {symbol!r} is the symbol of two genes of the matrix "
                    f"({wanted[symbol]!r} and {gene!r})",
                    file=file,
                    remedy="keep one of them (drop the other row) before the analysis",
                )
            wanted[symbol] = gene
    notes.append(f"{file}: {orientation}; " + "; ".join(report))
    out = pd.DataFrame({"patient_id": list(chosen)})
    for marker, gene in wanted.items():
        values = by_sample.loc[[chosen[p] for p in chosen], gene].to_numpy()
        out[marker] = [None if v != v else repr(float(v)) for v in values]
        if gene != marker:
            notes.append(f"marker {marker} is gene {gene} of the expression matrix")
    return out


def attach_expression(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    markers: Sequence[str],
    *,
    sample_pattern: str | None = None,
    genes: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Join the markers found in ``path`` to the cohort cells ``frame`` (by patient_id)."""
    file = str(path)
    notes: list[str] = []
    if "patient_id" not in frame.columns or not markers:
        return frame, []  # cohort validation reports a missing patient_id column
    clinical_ids = frame["patient_id"].map(lambda v: None if v is None else str(v).strip())
    if _is_patient_table(Path(path)) and sample_pattern is None:
        expr = _patient_table(path, markers, list(frame.columns))
    else:
        expr = _matrix_table(
            path,
            markers,
            [p for p in clinical_ids if p is not None],
            sample_pattern,
            dict(genes or {}),
            notes,
        )
    absent = [m for m in markers if m not in frame.columns and m not in expr.columns]
    if absent:
        where = (
            "a gene of the expression matrix"
            if "patient_id" not in _head(path)
            else ("a column of the expression table")
        )
        raise InputError(
            f"marker {absent[0]!r} is neither a column of the cohort nor {where}"
            + (" (after the gene map)" if genes else ""),
            file=file,
            remedy="check the gene symbol (case matters), or give --genes with a two-column "
            "table gene ID -> symbol for a matrix labelled by gene IDs",
        )
    by_id = expr.set_index("patient_id")
    merged = frame.copy()
    for col in by_id.columns:
        merged[col] = clinical_ids.map(by_id[col]).astype(object)
        merged[col] = merged[col].where(merged[col].notna(), None)
    matched = clinical_ids.isin(by_id.index)
    extra = sorted(set(by_id.index) - set(clinical_ids))
    if (~matched).any():
        notes.append(
            f"{int((~matched).sum())} of {len(frame)} cohort patients have no row in the "
            f"expression file {file}"
        )
    if extra:
        shown = ", ".join(extra[:5]) + (", ..." if len(extra) > 5 else "")
        notes.append(f"{len(extra)} expression samples match no cohort patient ({shown})")
    if not matched.any():
        raise InputError(
            "no patient_id of the expression file matches the cohort",
            file=file,
            column="patient_id",
            remedy="check that both files use the same patient identifiers (or map sample "
            "names with --sample-pattern)",
        )
    return merged, notes
