"""Mutations table of a course cohort: one row per patient, gene and alteration.

Columns
-------
``patient_id``
    Must be a patient of the course table.
``gene``
    A gene symbol as HGNC writes it: upper-case letters, digits and hyphens with at least one
    letter (``^[A-Z0-9-]+$``, e.g. ``TP53``, ``IKZF1``, ``HLA-A``), or one of the documented
    extensions: HGNC open-reading-frame symbols (``C11orf65``), fusions in HGNC ``::``
    notation (``BCR::ABL1``), and the pseudo-gene ``KARYOTYPE`` for karyotype-level findings.
    Anything else (``tp53``, ``p53``, ``TP53 R273H``, an Excel-mangled ``1-Sep``) is an unknown
    gene.
``alteration``
    One of :data:`ALTERATIONS`: ``missense``, ``nonsense``, ``frameshift``, ``splice``,
    ``deletion``, ``amplification``, ``fusion``, ``hypodiploidy``, ``other``, plus
    ``unaltered``: the gene (or karyotype) was evaluated and found unaltered (not ``none``,
    which table readers take for a missing value). ``unaltered`` rows make denominators
    explicit: "TP53 mutated in 9 of 19 evaluable" needs the 10 unaltered patients.
    ``hypodiploidy`` is a karyotype finding: its gene is ``KARYOTYPE`` (or empty).

A patient evaluated for a gene has at least one row for it; ``unaltered`` together with an
alteration of the same gene and patient is a contradiction.

References
----------
Bruford EA, et al. Guidelines for human gene nomenclature. Nat Genet 2020;52:754-758.
Geyer MB, et al. Blood Adv 2023;7:3087-3098 (TP53 9/19 evaluable, low hypodiploidy 8/26).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from ikaros.errors import InputError
from ikaros.files import read_table

__all__ = [
    "ALTERATIONS",
    "KARYOTYPE",
    "alteration_counts",
    "load_mutations",
    "mutations_from_frame",
    "valid_gene",
]

ALTERATIONS: tuple[str, ...] = (
    "missense", "nonsense", "frameshift", "splice", "deletion", "amplification", "fusion",
    "hypodiploidy", "other", "unaltered",
)  # fmt: skip
KARYOTYPE = "KARYOTYPE"
_KARYOTYPE_CLASSES = ("hypodiploidy", "other", "unaltered")
_SYMBOL = re.compile(r"[A-Z0-9-]+")
_ORF = re.compile(r"C(\d+|X|Y)orf\d+")
_GENE_REMEDY = (
    "use the HGNC symbol in capitals (e.g. TP53), A::B for a fusion, or KARYOTYPE for a "
    "karyotype finding"
)


def _symbol(text: str) -> bool:
    return bool(_SYMBOL.fullmatch(text) and re.search(r"[A-Z]", text)) or bool(_ORF.fullmatch(text))


def valid_gene(text: str) -> bool:
    """Whether ``text`` is an accepted gene name (see the module documentation)."""
    parts = text.split("::")
    return all(_symbol(p) for p in parts) and len(parts) <= 3


def _bad(
    problem: str, file: str, row: object, column: str, value: object, remedy: str
) -> InputError:
    return InputError(
        problem,
        file=file,
        row=int(row),  # type: ignore[call-overload]
        column=column,
        value="" if value is None else value,
        remedy=remedy,
        has_value=True,
    )


def _gene_remedy(text: str) -> str:
    if re.fullmatch(r"\d{1,2}-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)", text, re.I):
        return "this looks like a gene name turned into a date by a spreadsheet; " + _GENE_REMEDY
    if valid_gene(text.upper()) and text.upper() != text:
        return f"write it in capitals: {text.upper()!r}"
    return _GENE_REMEDY


def mutations_from_frame(
    frame: pd.DataFrame, patients: Iterable[str], *, source: str = "<mutations>"
) -> pd.DataFrame:
    """Validate a mutations table against the course patients.

    Parameters
    ----------
    frame
        Text cells with columns ``patient_id``, ``gene``, ``alteration``; the index gives row
        numbers (a fresh ``RangeIndex`` is renumbered from 2).
    patients
        Patient identifiers of the course table.
    source
        File name for messages.

    Returns
    -------
    pandas.DataFrame
        ``patient_id``, ``gene``, ``alteration`` (lower case), ``row``.

    Raises
    ------
    InputError
        On the first problem, naming file, row, column, value and remedy.
    """
    file = source
    known = set(patients)
    frame = frame.copy()
    if isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0:
        frame.index = frame.index + 2
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.astype(object).where(frame.notna(), None)
    frame = frame.map(lambda v: None if v is None else (str(v).strip() or None))
    for col in ("patient_id", "gene", "alteration"):
        if col not in frame.columns:
            raise InputError(
                f"mutations table has no {col!r} column",
                file=file,
                row=1,
                column=col,
                remedy="the mutations table has the columns patient_id, gene, alteration",
            )
    rows = []
    seen: dict[tuple[str, str], dict[str, int]] = {}
    for row, rec in frame.iterrows():
        pid = rec["patient_id"]
        if pid is None:
            raise _bad("patient_id is missing", file, row, "patient_id", "", "fill it in")
        if pid not in known:
            raise _bad(
                "patient_id is not in the course table",
                file,
                row,
                "patient_id",
                pid,
                "use the identifiers of the course table (check spelling and case)",
            )
        alt_raw = rec["alteration"]
        alteration = None if alt_raw is None else str(alt_raw).lower()
        if alteration is None:
            raise _bad(
                "alteration is missing",
                file,
                row,
                "alteration",
                "",
                f"use one of {', '.join(ALTERATIONS)} (unaltered = evaluated, not altered)",
            )
        if alteration not in ALTERATIONS:
            raise _bad(
                "unknown alteration class",
                file,
                row,
                "alteration",
                alt_raw,
                f"use one of {', '.join(ALTERATIONS)} (unaltered = evaluated, not altered)",
            )
        gene = rec["gene"]
        if gene is None:
            if alteration != "hypodiploidy":
                raise _bad("gene is missing", file, row, "gene", "", _GENE_REMEDY)
            gene = KARYOTYPE
        if not valid_gene(gene):
            raise _bad("unknown gene symbol", file, row, "gene", gene, _gene_remedy(gene))
        if alteration == "hypodiploidy" and gene != KARYOTYPE:
            raise _bad(
                "hypodiploidy is a karyotype finding, not a gene alteration",
                file,
                row,
                "gene",
                gene,
                f"write gene {KARYOTYPE} (or leave it empty) for hypodiploidy",
            )
        if gene == KARYOTYPE and alteration not in _KARYOTYPE_CLASSES:
            raise _bad(
                f"a {KARYOTYPE} row takes {', '.join(_KARYOTYPE_CLASSES)}",
                file,
                row,
                "alteration",
                alt_raw,
                "name the gene for a gene alteration",
            )
        previous = seen.setdefault((str(pid), gene), {})
        clash = [
            r for a, r in previous.items() if (a == "unaltered") != (alteration == "unaltered")
        ]
        if clash:
            raise _bad(
                f"{gene} of patient {pid!r} is recorded both as unaltered and altered "
                f"(row {clash[0]})",
                file,
                row,
                "alteration",
                alt_raw,
                "keep either the unaltered row or the alteration rows",
            )
        previous.setdefault(str(alteration), int(row))  # type: ignore[call-overload]
        rows.append((str(pid), gene, str(alteration), int(row)))  # type: ignore[call-overload]
    if not rows:
        raise InputError("mutations table has no rows", file=file, remedy="add the rows")
    return pd.DataFrame(rows, columns=["patient_id", "gene", "alteration", "row"])


def load_mutations(path: str | os.PathLike[str], patients: Iterable[str]) -> pd.DataFrame:
    """Read (CSV, TSV, XLSX, Parquet) and validate a mutations table; see the module docs."""
    return mutations_from_frame(
        read_table(path, what="mutations"), patients, source=str(Path(path))
    )


def alteration_counts(mutations: pd.DataFrame, gene: str) -> tuple[int, int]:
    """Patients with ``gene`` altered and patients evaluated for it (any row for ``gene``)."""
    rows = mutations.loc[mutations["gene"] == gene]
    evaluated = rows["patient_id"].nunique()
    altered = rows.loc[rows["alteration"] != "unaltered", "patient_id"].nunique()
    return int(altered), int(evaluated)
