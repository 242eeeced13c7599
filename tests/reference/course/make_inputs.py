"""Write the (start, stop] CSV inputs of make_golden.R (run from the repository root).

    /work/venv/bin/python tests/reference/course/make_inputs.py
    Rscript tests/reference/course/make_golden.R

The tables come from ``tests/course/reference_inputs.py`` (the hand-made course table and the
two seeded simulated cohorts, split by ikaros.course.derived.counting_process).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from tests.course.reference_inputs import write_inputs  # noqa: E402

if __name__ == "__main__":
    for path in write_inputs():
        print("wrote", path.relative_to(ROOT))
