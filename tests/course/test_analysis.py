"""course_results.json, mutations block (schema 1.1): n/N among the patients evaluated.

The expected counts are read off the rows given here; the intervals are the Clopper-Pearson
limits of ``clopper_pearson``, checked against R ``binom.test`` in test_stats_against_r.py.
"""

from __future__ import annotations

import pandas as pd
import pytest

from ikaros.course.analysis import COURSE_SCHEMA_VERSION, analyse_course
from ikaros.course.stats import clopper_pearson
from ikaros.course.table import load_course, with_mutations
from tests.course.helpers import VALID

#: Patients P01-P05 in the table (P06 not); TP53 altered in P01, unaltered in P02 and P04,
#: not evaluated in P03 (a row) and P05 (no row); KARYOTYPE hypodiploid in P01 and P02, not
#: evaluated in P03-P05; MYC evaluated in nobody.
ROWS = [
    ("P01", "TP53", "missense"),
    ("P01", "KARYOTYPE", "hypodiploidy"),
    ("P01", "MYC", "not_evaluated"),
    ("P02", "TP53", "unaltered"),
    ("P02", "KARYOTYPE", "hypodiploidy"),
    ("P03", "TP53", "not_evaluated"),
    ("P03", "KARYOTYPE", "not_evaluated"),
    ("P04", "TP53", "unaltered"),
    ("P05", "MYC", "not_evaluated"),
]


@pytest.fixture(scope="module")
def mutations() -> dict:
    frame = pd.DataFrame(ROWS, columns=["patient_id", "gene", "alteration"])
    data = with_mutations(load_course(VALID), frame, source="rows")
    results = analyse_course(data)
    assert results["course_schema_version"] == COURSE_SCHEMA_VERSION == "1.1"
    return results["mutations"]


def test_frequencies_are_among_the_patients_evaluated(mutations: dict) -> None:
    assert mutations["patients"] == 5
    tp53 = mutations["TP53"]
    assert (tp53["count"], tp53["n"], tp53["not_evaluated"]) == (1, 3, 2)
    assert tp53 == {**mutations["genes"]["TP53"], "published": {"count": 9, "n": 19}}
    cp = clopper_pearson(1, 3)
    assert (tp53["estimate"], tp53["lower"], tp53["upper"]) == (1 / 3, cp.lower, cp.upper)
    hypo = mutations["hypodiploidy"]
    assert (hypo["count"], hypo["n"], hypo["not_evaluated"]) == (2, 2, 3)
    assert hypo["published"] == {"count": 8, "n": 26}
    assert "KARYOTYPE" not in mutations["genes"]


def test_a_gene_evaluated_in_nobody_has_no_estimate(mutations: dict) -> None:
    myc = mutations["genes"]["MYC"]
    assert (myc["count"], myc["n"], myc["not_evaluated"]) == (0, 0, 5)
    assert myc["estimate"] is None and myc["lower"] is None and myc["upper"] is None
    assert myc["reason"] == "no patient was evaluated"
