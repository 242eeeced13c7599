"""The figures package imports each figure module when one of its names is first used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.text import Text

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


def test_volcano_labels_do_not_overlap() -> None:
    """Ten significant genes close together: every label is drawn, none covers another."""
    rng = np.random.default_rng(5)
    n = 400
    hr = np.exp(rng.normal(0, 0.2, n))
    p = rng.uniform(0.05, 1, n)
    hr[:10] = np.exp(0.5 + 0.01 * np.arange(10))  # a tight cluster of strong genes
    p[:10] = 1e-4 * (1 + 0.02 * np.arange(10))
    table = {
        "gene": np.array([f"ENSG{i:011d}" for i in range(n)]),
        "cox_hr": hr,
        "cox_p": p,
        "cox_q": np.where(np.arange(n) < 10, 0.001, 0.5),
    }
    fig = volcano_figure(table)
    fig.canvas.draw()  # annotations are positioned when drawn
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    ax = fig.axes[0]
    labels = [t for t in ax.texts if t.get_text().startswith("ENSG")]
    assert sorted(t.get_text() for t in labels) == [f"ENSG{i:011d}" for i in range(10)]
    boxes = [Text.get_window_extent(t, renderer) for t in labels]  # the text, not its leader
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)
