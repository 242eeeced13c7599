"""The mutations table: three states per patient and gene, implied "not evaluated", counts.

Malformed tables are in ``tests/data/bad_course/cases.toml`` (run by test_validation.py). Here:
valid tables with ``not_evaluated`` rows, tables without them (the older convention: no row =
not evaluated) and the counts, which are compared with counts made here from the rows.
"""

from __future__ import annotations

import pandas as pd
import pytest

from ikaros.course.mutations import (
    KARYOTYPE,
    NOT_EVALUATED,
    GeneCounts,
    alteration_counts,
    gene_counts,
    mutations_from_frame,
)
from ikaros.course.simulate import simulate_ball_cohort

PATIENTS = ("P01", "P02", "P03", "P04", "P05", "P06")


def _frame(rows: list[tuple[str, str | None, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["patient_id", "gene", "alteration"])


#: TP53: P01 altered, P02 unaltered, P03 not evaluated (explicit, upper case), P04 no row;
#: KARYOTYPE: P01 hypodiploid, P02 not evaluated, P03 other, P04 no row; P05 only in IKZF1,
#: with two not_evaluated rows (a repeat is no contradiction).
ROWS: list[tuple[str, str | None, str]] = [
    ("P01", "TP53", "missense"),
    ("P01", "TP53", "frameshift"),
    ("P01", None, "hypodiploidy"),
    ("P02", "TP53", "unaltered"),
    ("P02", "KARYOTYPE", "not_evaluated"),
    ("P03", "TP53", "NOT_EVALUATED"),
    ("P03", "KARYOTYPE", "other"),
    ("P04", "IKZF1", "deletion"),
    ("P05", "IKZF1", "not_evaluated"),
    ("P05", "IKZF1", "Not_Evaluated"),
]


def test_every_patient_and_gene_gets_a_state() -> None:
    table = mutations_from_frame(_frame(ROWS), PATIENTS, source="m.csv")
    given = table.loc[table["row"] > 0]
    assert list(given["row"]) == list(range(2, 2 + len(ROWS)))  # as a spreadsheet numbers them
    assert list(given["alteration"]) == [a.lower() for _, _, a in ROWS]
    implied = table.loc[table["row"] == 0]
    assert (implied["alteration"] == NOT_EVALUATED).all()
    # the patients (P01-P05: P06 has no row) x the genes of the table that had no row
    assert sorted(zip(implied["patient_id"], implied["gene"], strict=True)) == [
        ("P01", "IKZF1"), ("P02", "IKZF1"), ("P03", "IKZF1"),
        ("P04", "KARYOTYPE"), ("P04", "TP53"),
        ("P05", "KARYOTYPE"), ("P05", "TP53"),
    ]  # fmt: skip
    cells = set(zip(table["patient_id"], table["gene"], strict=True))
    assert cells == {(p, g) for p in PATIENTS[:5] for g in ("TP53", KARYOTYPE, "IKZF1")}


def test_counts_leave_the_patients_not_evaluated_out_of_the_denominator() -> None:
    table = mutations_from_frame(_frame(ROWS), PATIENTS)
    # read off ROWS: altered / tested / not tested among the 5 patients of the table
    assert gene_counts(table, "TP53") == GeneCounts(altered=1, evaluated=2, not_evaluated=3)
    assert gene_counts(table, KARYOTYPE) == GeneCounts(2, 2, 3)  # hypodiploidy and other
    assert gene_counts(table, KARYOTYPE, "hypodiploidy") == GeneCounts(1, 2, 3)
    assert gene_counts(table, "IKZF1") == GeneCounts(1, 1, 4)
    assert alteration_counts(table, "TP53") == (1, 2)
    assert gene_counts(table, "NRAS") == GeneCounts(0, 0, 5)  # not in the table at all


def _triples(table: pd.DataFrame) -> set[tuple[str, str, str]]:
    return set(zip(table["patient_id"], table["gene"], table["alteration"], strict=True))


@pytest.mark.parametrize("seed", [68, 3])
def test_tables_without_not_evaluated_rows_mean_the_same(seed: int) -> None:
    """The older convention (no row = not evaluated) gives the same states and counts."""
    sim = simulate_ball_cohort(seed)
    assert sim.mutations is not None
    patients = sorted(set(sim.mutations["patient_id"]))
    explicit = mutations_from_frame(sim.mutations, patients)
    old = sim.mutations.loc[sim.mutations["alteration"] != NOT_EVALUATED]
    implicit = mutations_from_frame(old.reset_index(drop=True), patients)
    assert (implicit["row"] == 0).sum() == (sim.mutations["alteration"] == NOT_EVALUATED).sum()
    assert (explicit["row"] == 0).sum() == 0  # every state written out by the simulation
    assert _triples(explicit) == _triples(implicit)
    for gene in set(sim.mutations["gene"]):
        assert gene_counts(explicit, gene) == gene_counts(implicit, gene)
    # the published denominators (Geyer et al. 2023), counted from the simulated rows
    raw = sim.mutations
    for gene, altered, tested in (("TP53", 9, 19), (KARYOTYPE, 8, 26)):
        rows = raw.loc[raw["gene"] == gene]
        assert (rows["alteration"] != NOT_EVALUATED).sum() == tested
        assert (~rows["alteration"].isin([NOT_EVALUATED, "unaltered"])).sum() == altered
        assert (rows["alteration"] == NOT_EVALUATED).sum() == 32 - tested
