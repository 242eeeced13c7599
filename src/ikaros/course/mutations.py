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
    ``deletion``, ``amplification``, ``fusion``, ``hypodiploidy``, ``other``, plus two states
    that are not alterations: ``unaltered``, the gene (or karyotype) was evaluated and found
    unaltered (not ``none``, which table readers take for a missing value), and
    ``not_evaluated``, the gene (or karyotype) was not tested in this patient (not ``NA``, for
    the same reason). ``hypodiploidy`` is a karyotype finding: its gene is ``KARYOTYPE`` (or
    empty).

Evaluation states
-----------------
Each patient of the table is, for each gene of the table, in one of three states: *altered*
(one or more alteration rows), *not altered* (an ``unaltered`` row) or *not evaluated*. A
frequency is "altered / evaluated": "TP53 mutated in 9 of 19 evaluable" needs the 10
``unaltered`` rows, and the patients not evaluated are left out of the denominator, as Geyer et
al. (2023) report it and draw it (dark grey in their oncoprint, Figure 1). A patient is not
evaluated for a gene when the table says so with a ``not_evaluated`` row, or when it has no row
for that gene (the convention of tables written before ``not_evaluated`` existed, kept
unchanged). ``unaltered`` and an alteration of the same gene and patient contradict each other,
and so do ``not_evaluated`` and any other row of the same gene and patient.

The validated table (:func:`mutations_from_frame`) makes every state explicit: for every patient
and gene of the table without a row it adds a ``not_evaluated`` row with ``row`` 0 ("implied
by the absence of a row"), so that a reader of the table, e.g. the oncoprint, sees the three
states without knowing this convention.

References
----------
Bruford EA, et al. Guidelines for human gene nomenclature. Nat Genet 2020;52:754-758.
Geyer MB, et al. Blood Adv 2023;7:3087-3098 (TP53 9/19 evaluable, low hypodiploidy 8/26;
Figure 1: dark grey = not evaluated).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ikaros.errors import InputError
from ikaros.files import read_table

__all__ = [
    "ALTERATIONS",
    "KARYOTYPE",
    "NOT_EVALUATED",
    "UNALTERED",
    "GeneCounts",
    "alteration_counts",
    "gene_counts",
    "load_mutations",
    "mutations_from_frame",
    "valid_gene",
]

UNALTERED = "unaltered"
NOT_EVALUATED = "not_evaluated"
ALTERATIONS: tuple[str, ...] = (
    "missense", "nonsense", "frameshift", "splice", "deletion", "amplification", "fusion",
    "hypodiploidy", "other", UNALTERED, NOT_EVALUATED,
)  # fmt: skip
#: The values of ``alteration`` that are not alterations.
_STATES = (UNALTERED, NOT_EVALUATED)
KARYOTYPE = "KARYOTYPE"
_KARYOTYPE_CLASSES = ("hypodiploidy", "other", UNALTERED, NOT_EVALUATED)
_SYMBOL = re.compile(r"[A-Z0-9-]+")
_ORF = re.compile(r"C(\d+|X|Y)orf\d+")
_GENE_REMEDY = (
    "use the HGNC symbol in capitals (e.g. TP53), A::B for a fusion, or KARYOTYPE for a "
    "karyotype finding"
)
_ALTERATION_REMEDY = (
    f"use one of {', '.join(ALTERATIONS)} (unaltered = evaluated, not altered; "
    "not_evaluated = not tested in this patient)"
)
#: Spellings (letters only, lower case) that mean "not tested" or "tested, nothing found".
_LIKE_NOT_EVALUATED = frozenset(
    (
        "notevaluated", "noteval", "notevaluable", "nonevaluable", "unevaluable", "nottested",
        "untested", "notdone", "notassessed", "notavailable", "notperformed", "ne", "nt", "nd",
        "na", "nan",
    )
)  # fmt: skip
_LIKE_UNALTERED = frozenset(
    ("wt", "wildtype", "wild", "normal", "negative", "neg", "notaltered", "nomutation", "none")
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


def _alteration_remedy(text: str) -> str:
    """The remedy for an unknown alteration, with the intended state when it is recognisable."""
    key = re.sub(r"[^a-z]", "", text.lower())
    if key in _LIKE_NOT_EVALUATED:
        return (
            f"if the gene was not tested in this patient write {NOT_EVALUATED}; "
            + _ALTERATION_REMEDY
        )
    if key in _LIKE_UNALTERED:
        return (
            f"if the gene was tested and found unaltered write {UNALTERED}; " + _ALTERATION_REMEDY
        )
    return _ALTERATION_REMEDY


def _clash(
    previous: dict[str, int], alteration: str, gene: str, pid: object
) -> tuple[str, str] | None:
    """Problem and remedy when ``alteration`` contradicts earlier rows of the same gene and patient.

    ``previous`` maps the alterations already recorded for them to their first row.
    """
    if alteration == NOT_EVALUATED or NOT_EVALUATED in previous:
        other = [
            r for a, r in previous.items() if (a == NOT_EVALUATED) != (alteration == NOT_EVALUATED)
        ]
        if not other:
            return None
        return (
            f"{gene} of patient {pid!r} is recorded both as not evaluated and as evaluated "
            f"(row {other[0]})",
            f"keep either the {NOT_EVALUATED} row or the rows of the test result "
            f"({UNALTERED} or the alterations found)",
        )
    other = [r for a, r in previous.items() if (a == UNALTERED) != (alteration == UNALTERED)]
    if not other:
        return None
    return (
        f"{gene} of patient {pid!r} is recorded both as unaltered and altered (row {other[0]})",
        "keep either the unaltered row or the alteration rows",
    )


def _complete(rows: list[tuple[str, str, str, int]]) -> list[tuple[str, str, str, int]]:
    """Add a ``not_evaluated`` row (row 0) for every patient x gene of the table without one."""
    patients = list(dict.fromkeys(r[0] for r in rows))
    genes = list(dict.fromkeys(r[1] for r in rows))
    present = {(r[0], r[1]) for r in rows}
    implied = [(p, g, NOT_EVALUATED, 0) for p in patients for g in genes if (p, g) not in present]
    return rows + implied


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
        ``patient_id``, ``gene``, ``alteration`` (lower case), ``row``: the rows of the table in
        their order, then one ``not_evaluated`` row with ``row`` 0 for every patient and gene of
        the table that had no row (patients, then genes, in order of first appearance).

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
    rows: list[tuple[str, str, str, int]] = []
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
                "alteration is missing (empty, NA and none count as missing)",
                file,
                row,
                "alteration",
                "",
                f"write {NOT_EVALUATED} if the gene was not tested in this patient; otherwise "
                + _ALTERATION_REMEDY,
            )
        if alteration not in ALTERATIONS:
            raise _bad(
                "unknown alteration class",
                file,
                row,
                "alteration",
                alt_raw,
                _alteration_remedy(str(alt_raw)),
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
        clash = _clash(previous, alteration, gene, pid)
        if clash is not None:
            raise _bad(clash[0], file, row, "alteration", alt_raw, clash[1])
        previous.setdefault(alteration, int(row))  # type: ignore[call-overload]
        rows.append((str(pid), gene, alteration, int(row)))  # type: ignore[call-overload]
    if not rows:
        raise InputError("mutations table has no rows", file=file, remedy="add the rows")
    return pd.DataFrame(_complete(rows), columns=["patient_id", "gene", "alteration", "row"])


def load_mutations(path: str | os.PathLike[str], patients: Iterable[str]) -> pd.DataFrame:
    """Read (CSV, TSV, XLSX, Parquet) and validate a mutations table; see the module docs."""
    return mutations_from_frame(
        read_table(path, what="mutations"), patients, source=str(Path(path))
    )


@dataclass(frozen=True)
class GeneCounts:
    """Patients of the mutations table by their state for one gene (or ``KARYOTYPE`` finding).

    ``altered``: patients with the alteration (for a gene: any alteration); ``evaluated``:
    patients tested (altered or not), the denominator; ``not_evaluated``: patients of the table
    not tested. ``evaluated + not_evaluated`` is the number of patients in the table.
    """

    altered: int
    evaluated: int
    not_evaluated: int


def gene_counts(mutations: pd.DataFrame, gene: str, alteration: str | None = None) -> GeneCounts:
    """Altered, evaluated and not-evaluated patients for ``gene`` in a validated table.

    Parameters
    ----------
    mutations
        A table returned by :func:`mutations_from_frame` (or any table with its columns; a
        patient without a row for ``gene`` counts as not evaluated either way).
    gene
        The gene, or ``KARYOTYPE``.
    alteration
        Count only this alteration class as altered (e.g. ``"hypodiploidy"``); default: any.
    """
    rows = mutations.loc[mutations["gene"] == gene]
    tested = rows.loc[rows["alteration"] != NOT_EVALUATED]
    found = tested.loc[~tested["alteration"].isin(_STATES)]
    if alteration is not None:
        found = found.loc[found["alteration"] == alteration]
    evaluated = int(tested["patient_id"].nunique())
    return GeneCounts(
        altered=int(found["patient_id"].nunique()),
        evaluated=evaluated,
        not_evaluated=int(mutations["patient_id"].nunique()) - evaluated,
    )


def alteration_counts(mutations: pd.DataFrame, gene: str) -> tuple[int, int]:
    """Patients with ``gene`` altered and patients evaluated for it (``not_evaluated`` left out)."""
    counts = gene_counts(mutations, gene)
    return counts.altered, counts.evaluated
