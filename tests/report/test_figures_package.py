"""The figures package imports each figure module when one of its names is first used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import ikaros.report.figures as figures
from ikaros.report.figures.volcano import volcano_figure


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(out.split())


def test_importing_the_package_or_one_figure_imports_only_what_it_needs() -> None:
    bare = _modules_after("import ikaros.report.figures")
    assert "matplotlib" not in bare and "pandas" not in bare
    one = _modules_after("from ikaros.report.figures import save_figure, volcano_figure")
    assert "matplotlib" in one
    assert "pandas" not in one  # the scan's volcano plot needs no table library
    assert "ikaros.report.figures.km" not in one


def test_every_exported_name_resolves() -> None:
    for name in figures.__all__:
        assert getattr(figures, name) is not None, name
    assert sorted(dir(figures)) == sorted(figures.__all__)


def test_volcano_from_a_mapping_of_arrays_equals_from_a_dataframe(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    table = pd.DataFrame(
        {
            "gene": [f"G{i}" for i in range(300)],
            "cox_hr": np.exp(rng.normal(0, 0.3, 300)),
            "cox_p": rng.uniform(1e-8, 1, 300),
            "cox_q": rng.uniform(0, 0.2, 300),
        }
    )
    table.loc[3, "cox_hr"] = np.nan
    table.loc[4, "cox_q"] = np.nan
    arrays = {c: table[c].to_numpy() for c in table}
    a, b = volcano_figure(table, title="x"), volcano_figure(arrays, title="x")
    figures.save_figure(a, tmp_path / "a", "v")
    figures.save_figure(b, tmp_path / "b", "v")
    for ext in ("png", "svg"):
        assert (tmp_path / "a" / f"v.{ext}").read_bytes() == (
            tmp_path / "b" / f"v.{ext}"
        ).read_bytes()
