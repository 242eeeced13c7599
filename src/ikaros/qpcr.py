"""Relative quantification of RQ-PCR Ct values (IKZF1, IKZF3, CRBN, BSG against reference genes).

Input: a long table (CSV/TSV/XLSX/Parquet, read with :func:`ikaros.files.read_table`), one row
per well, with columns

``sample``, ``gene``
    Sample (patient) identifier and gene symbol (case-sensitive).
``ct``
    Threshold cycle in (0, 50] (header ``Cq`` or ``Cp`` also accepted). ``Undetermined`` (or
    ``Undet``, ``No Ct``, ``No Cq``, ``Not detected``, ``ND``, ``N.D.``, ``-``), a blank cell or
    ``NA`` means the well did not amplify (see *Undetermined Ct*).
``replicate`` (optional)
    Replicate label, unique within (sample, gene). Without the column every row of a (sample,
    gene) is a further replicate.
``efficiency`` (optional)
    Amplification efficiency of the gene's assay, one value per gene: the amplification factor E
    in [1.5, 2.2] (E = 2 is perfect doubling) or a percentage in [75, 110] (E = 1 + percent / 100,
    a trailing ``%`` allowed). The ranges do not overlap, so each value is unambiguous; a file
    must use one convention throughout.

Other headers are mapped with ``mapping={"sample": "Patient", "ct": "CT mean"}`` (ikaros name ->
header). Every problem raises :class:`~ikaros.errors.InputError` naming the file, spreadsheet row
(header = row 1), column, value and a remedy.

Replicates are averaged on the Ct scale (the geometric mean of quantities). The QC table gives per
sample and gene the replicate counts, mean Ct, SD (n - 1) and a flag when SD > ``sd_flag``
(default 0.5 Ct).

Undetermined Ct
---------------
``undetermined="drop"`` (default): undetermined replicates are ignored; if all replicates of a
sample and gene are undetermined the value is missing (NaN) and listed in
:attr:`QpcrResult.notes`; a sample whose reference gene is missing this way gets NaN for every
target. ``"max"``: undetermined replicates are set to the cycle limit ``max_ct`` (default 40) and
counted in the QC column ``n_imputed`` (the expression is then an upper bound). ``"error"``: any
undetermined Ct is an input error.

Methods
-------
Reference genes r (``reference_genes``), target t, sample s, calibrator c:

``"delta_ct"`` (assumes E = 2)
    dCt(s, t) = Ct(s, t) - mean_r Ct(s, r); expression = 2^-dCt. The mean reference Ct is log2 of
    the geometric mean of the reference quantities (Vandesompele et al. 2002).
``"delta_delta_ct"`` (assumes E = 2; Livak & Schmittgen 2001)
    ddCt(s, t) = dCt(s, t) - dCt(c, t); expression = 2^-ddCt (1 for the calibrator).
``"pfaffl"`` (per-gene efficiencies E_g; Pfaffl 2001)
    With a calibrator: E_t^(Ct(c, t) - Ct(s, t)) / geomean_r E_r^(Ct(c, r) - Ct(s, r)); without:
    E_t^-Ct(s, t) / geomean_r E_r^-Ct(s, r). With all E = 2 these equal delta-delta-Ct and
    delta-Ct. The other two methods ignore efficiencies.

References
----------
Livak KJ, Schmittgen TD (2001). Analysis of relative gene expression data using real-time
quantitative PCR and the 2^-ddCt method. *Methods* 25:402-408.
Pfaffl MW (2001). A new mathematical model for relative quantification in real-time RT-PCR.
*Nucleic Acids Res* 29:e45.
Vandesompele J, De Preter K, Pattyn F, et al. (2002). Accurate normalization of real-time
quantitative RT-PCR data by geometric averaging of multiple internal control genes. *Genome
Biol* 3:research0034.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ikaros.errors import AnalysisError, InputError
from ikaros.files import read_table

__all__ = ["UNDETERMINED_TOKENS", "QpcrResult", "load_ct_table", "relative_expression"]

#: Ct cell contents (case-insensitive) meaning "no amplification", besides blank/NA cells.
UNDETERMINED_TOKENS: frozenset[str] = frozenset(
    {"undetermined", "undet", "no ct", "no cq", "not detected", "nd", "n.d.", "-"}
)
_CANONICAL = ("sample", "gene", "ct", "replicate", "efficiency")
_REQUIRED = ("sample", "gene", "ct")
_ALIASES = {"ct": ("ct", "cq", "cp")}
_METHODS = ("delta_ct", "delta_delta_ct", "pfaffl")
_POLICIES = ("drop", "max", "error")
_FACTOR_RANGE = (1.5, 2.2)
_PERCENT_RANGE = (75.0, 110.0)
_EFF_FIX = (
    "give E as an amplification factor in [1.5, 2.2] (2 = 100 %) or as a percentage in "
    "[75, 110], one convention for the whole file"
)


@dataclass(frozen=True)
class QpcrResult:
    """Relative expression of the target genes.

    Attributes
    ----------
    expression
        Index ``sample`` (order of first appearance), one column per target gene, relative
        expression on the linear scale; NaN where it could not be computed (see ``notes``).
    qc
        One row per sample and gene: ``sample``, ``gene``, ``role`` (reference/target), ``n``
        (replicate rows), ``n_undetermined``, ``n_imputed`` (set to ``max_ct``), ``n_used``,
        ``mean_ct``, ``sd_ct``, ``sd_high`` (SD > ``sd_flag``), ``first_row``.
    method
        Plain-language description of the calculation.
    reference_genes
        Reference genes used for normalisation.
    calibrator
        Calibrator sample, if any.
    notes
        One line per missing expression value, with the reason.
    """

    expression: pd.DataFrame
    qc: pd.DataFrame
    method: str
    reference_genes: tuple[str, ...]
    calibrator: str | None = None
    notes: tuple[str, ...] = ()

    def to_cohort_columns(
        self, id_column: str = "patient_id", *, prefix: str = "", include_calibrator: bool = True
    ) -> pd.DataFrame:
        """Expression as cohort columns: ``id_column`` plus one column per target gene.

        Parameters
        ----------
        id_column
            Name of the identifier column (the cohort table's key).
        prefix
            Prepended to every gene column name.
        include_calibrator
            Keep the calibrator's row (set False when the calibrator is not a patient).
        """
        frame = self.expression
        if not include_calibrator and self.calibrator is not None:
            frame = frame.drop(index=self.calibrator)
        out = frame.add_prefix(prefix).reset_index()
        out = out.rename(columns={"sample": id_column})
        out.columns.name = None
        return out


# --------------------------------------------------------------------------- parsing


def _row(label: Any) -> int | None:
    return int(label) if isinstance(label, int | np.integer) else None


def _text(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class _Where:
    """File and header names, for error messages."""

    file: str | None
    cols: dict[str, str]

    def error(
        self, problem: str, row: int | None, col: str | None, value: Any = None, fix: str = ""
    ) -> InputError:
        column = None if col is None else self.cols.get(col, col)
        return InputError(problem, file=self.file, row=row, column=column, value=value, remedy=fix)


def _resolve_columns(
    frame: pd.DataFrame, mapping: Mapping[str, str] | None, file: str | None
) -> dict[str, str]:
    header = [str(c) for c in frame.columns]
    shown = ", ".join(repr(c) for c in header)
    where = _Where(file, {})
    found: dict[str, str] = {}
    for canonical, column in (mapping or {}).items():
        if canonical not in _CANONICAL:
            fix = f"mapping keys are the ikaros names ({', '.join(_CANONICAL)}); values are headers"
            raise where.error(
                f"unknown name {canonical!r} in the column mapping", None, None, fix=fix
            )
        if column not in header:
            problem = f"column {column!r} mapped to {canonical!r} is not in the header"
            raise where.error(problem, 1, column, fix=f"the header has {shown}")
        found[canonical] = column
    for canonical in _CANONICAL:
        hits = [c for c in header if c.strip().lower() in _ALIASES.get(canonical, (canonical,))]
        if canonical in found:
            continue
        if len(hits) > 1:
            fix = f"choose one with mapping={{{canonical!r}: {hits[0]!r}}}"
            raise where.error(
                f"several columns could be {canonical!r}: {hits!r}", 1, hits[1], fix=fix
            )
        if hits:
            found[canonical] = hits[0]
        elif canonical in _REQUIRED:
            fix = f"add the column or map it with mapping={{{canonical!r}: ...}}; header: {shown}"
            raise where.error(f"required column {canonical!r} is missing", 1, canonical, fix=fix)
    return found


_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def _strict_float(text: str) -> float:
    """A decimal number written in ASCII digits (Python's float() also takes "2_5.10" and
    full-width or Arabic-Indic digits, which an instrument export never holds)."""
    if not _NUMBER.fullmatch(text.strip()):
        raise ValueError(text)
    return float(text)


def _parse_ct(value: Any, row: int | None, where: _Where) -> float:
    """Ct as float; NaN when undetermined."""
    if isinstance(value, float | np.floating) and math.isnan(value):
        return math.nan
    text = _text(value)
    if text is None or text.lower() in UNDETERMINED_TOKENS:
        return math.nan
    try:
        number = _strict_float(text)
    except ValueError:
        fix = (
            "use a decimal point, not a comma"
            if re.fullmatch(r"[+-]?\d+,\d+", text)
            else "write the Ct as a number (e.g. 31.52), or 'Undetermined' if the well did not "
            "amplify"
        )
        raise where.error("Ct is not a number", row, "ct", text, fix) from None
    if not (math.isfinite(number) and 0.0 < number <= 50.0):
        fix = "check the export; a well without amplification should read 'Undetermined'"
        raise where.error("Ct is outside the valid range (0, 50]", row, "ct", text, fix)
    return number


def _parse_efficiency(value: Any, row: int | None, where: _Where) -> tuple[float, str] | None:
    """(factor E, convention) or None for a blank cell."""
    text = _text(value)
    if text is None:
        return None
    try:
        number = _strict_float(text.removesuffix("%").strip())
    except ValueError:
        raise where.error("efficiency is not a number", row, "efficiency", text, _EFF_FIX) from None
    if not text.endswith("%") and _FACTOR_RANGE[0] <= number <= _FACTOR_RANGE[1]:
        return number, "factor"
    if _PERCENT_RANGE[0] <= number <= _PERCENT_RANGE[1]:
        return 1.0 + number / 100.0, "percent"
    raise where.error(
        "efficiency is outside the accepted ranges", row, "efficiency", text, _EFF_FIX
    )


def _prepare(
    frame: pd.DataFrame, file: str | None, mapping: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Validate a raw Ct table and return it in canonical form (see :func:`load_ct_table`)."""
    cols = _resolve_columns(frame, mapping, file)
    where = _Where(file, cols)
    records: list[tuple[str, str, str, float, bool, float]] = []
    seen: dict[tuple[str, str, str], int | None] = {}
    counter: dict[tuple[str, str], int] = {}
    gene_eff: dict[str, tuple[float, int | None]] = {}
    convention: tuple[str, int | None] | None = None
    for label, cells in frame.iterrows():
        row = _row(label)
        sample, gene = _text(cells[cols["sample"]]), _text(cells[cols["gene"]])
        for name, text in (("sample", sample), ("gene", gene)):
            if text is None:
                raise where.error(f"{name} is missing", row, name, fix=f"fill in the {name}")
        assert sample is not None and gene is not None
        ct = _parse_ct(cells[cols["ct"]], row, where)
        if "replicate" in cols:
            rep = _text(cells[cols["replicate"]])
            if rep is None:
                fix = "label every replicate or remove the replicate column"
                raise where.error("replicate is missing", row, "replicate", fix=fix)
            if (sample, gene, rep) in seen:
                problem = (
                    f"duplicate replicate: sample {sample!r}, gene {gene!r}, replicate {rep!r} "
                    f"already appears in row {seen[(sample, gene, rep)]}"
                )
                fix = "give each replicate its own label or delete the duplicate row"
                raise where.error(problem, row, "replicate", rep, fix)
        else:
            counter[(sample, gene)] = counter.get((sample, gene), 0) + 1
            rep = str(counter[(sample, gene)])
        seen[(sample, gene, rep)] = row
        eff = math.nan
        parsed = (
            _parse_efficiency(cells[cols["efficiency"]], row, where)
            if "efficiency" in cols
            else None
        )
        if parsed is not None:
            eff, conv = parsed
            text = _text(cells[cols["efficiency"]])
            convention = convention or (conv, row)
            if conv != convention[0]:
                problem = (
                    f"efficiency is a {conv} here but a {convention[0]} in row {convention[1]}"
                )
                raise where.error(problem, row, "efficiency", text, _EFF_FIX)
            if gene in gene_eff and not math.isclose(eff, gene_eff[gene][0]):
                problem = f"gene {gene!r} has another efficiency in row {gene_eff[gene][1]}"
                raise where.error(problem, row, "efficiency", text, "give one efficiency per gene")
            gene_eff.setdefault(gene, (eff, row))
        records.append((sample, gene, rep, ct, math.isnan(ct), eff))
    names = ["sample", "gene", "replicate", "ct", "undetermined", "efficiency"]
    out = pd.DataFrame.from_records(records, columns=names, index=frame.index)
    out["efficiency"] = out["gene"].map({g: e for g, (e, _) in gene_eff.items()}).astype(float)
    out.attrs = {"ikaros_qpcr": True, "source": file, "columns": cols}
    return out


def load_ct_table(
    path: str | os.PathLike[str], mapping: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Read and validate a long Ct table.

    Parameters
    ----------
    path
        CSV, TSV, XLSX or Parquet file.
    mapping
        Optional ``{ikaros name: header in the file}`` for ``sample``, ``gene``, ``ct``,
        ``replicate``, ``efficiency``.

    Returns
    -------
    pandas.DataFrame
        Index = spreadsheet row numbers; columns ``sample``, ``gene``, ``replicate`` (str;
        ``"1"``, ``"2"``, ... in file order when the file has none), ``ct`` (float, NaN when
        undetermined), ``undetermined`` (bool), ``efficiency`` (factor E of the gene, NaN if not
        given). ``attrs`` records the source file and header names.

    Raises
    ------
    InputError
        Unreadable file, missing column, missing sample/gene, non-numeric or out-of-range Ct,
        out-of-range or inconsistent efficiency, duplicate (sample, gene, replicate).
    """
    return _prepare(read_table(path, what="Ct table"), str(path), mapping)


# --------------------------------------------------------------------------- calculation


def relative_expression(
    table: pd.DataFrame | str | os.PathLike[str],
    *,
    reference_genes: str | Sequence[str],
    calibrator: str | None = None,
    method: Literal["delta_ct", "delta_delta_ct", "pfaffl"] = "delta_ct",
    undetermined: Literal["drop", "max", "error"] = "drop",
    max_ct: float = 40.0,
    sd_flag: float = 0.5,
    source: str | None = None,
    efficiency: Mapping[str, float | str] | None = None,
) -> QpcrResult:
    """Relative expression of every non-reference gene.

    Parameters
    ----------
    table
        Output of :func:`load_ct_table`, a raw DataFrame with the same columns (validated here;
        its index is reported as the row number), or a file path.
    reference_genes
        One or several reference genes (combined by the mean of their Cts, i.e. the geometric
        mean of their quantities).
    calibrator
        Calibrator sample: required for ``"delta_delta_ct"``, optional for ``"pfaffl"``, not
        allowed for ``"delta_ct"``.
    method
        ``"delta_ct"``, ``"delta_delta_ct"`` or ``"pfaffl"`` (see the module docstring).
    undetermined
        Policy for undetermined Cts: ``"drop"``, ``"max"`` or ``"error"``.
    max_ct
        Cycle limit substituted for undetermined Cts under ``"max"``; in (0, 50].
    sd_flag
        Replicate SD (in Ct) above which the QC table flags a sample and gene.
    source
        File name for messages (default: the file the table was loaded from).
    efficiency
        ``{gene: E}`` (factor or percent) overriding the table's efficiencies; ``"pfaffl"`` only.

    Returns
    -------
    QpcrResult

    Raises
    ------
    InputError
        Unknown reference gene, calibrator not in the table, a sample without rows for a
        reference gene, an undetermined Ct under ``"error"``, no efficiency for a gene under
        ``"pfaffl"``, or any problem :func:`load_ct_table` detects.
    AnalysisError
        Invalid arguments (unknown method or policy, missing calibrator, no target gene).
    """
    if isinstance(table, str | os.PathLike):
        table = load_ct_table(table)
    file = source if source is not None else table.attrs.get("source")
    if not table.attrs.get("ikaros_qpcr"):
        table = _prepare(table, file)
    refs = (reference_genes,) if isinstance(reference_genes, str) else tuple(reference_genes)
    plan = _Plan(method, refs, calibrator, undetermined, max_ct, sd_flag)
    plan.check_arguments()
    where = _Where(file, dict(table.attrs.get("columns", {})))
    _check_design(table, plan, where)
    genes = list(dict.fromkeys(table["gene"]))
    targets = [g for g in genes if g not in refs]
    log_eff = _log_efficiencies(table, plan, [*refs, *targets], efficiency, where)

    used = table["ct"].where(~table["undetermined"], max_ct if undetermined == "max" else np.nan)
    rows = pd.Series([_row(i) for i in table.index], index=table.index, dtype="Int64")
    work = table.assign(used_ct=used, _row=rows)
    qc = (
        work.groupby(["sample", "gene"], sort=False)
        .agg(
            n=("used_ct", "size"),
            n_undetermined=("undetermined", "sum"),
            n_used=("used_ct", "count"),
            mean_ct=("used_ct", "mean"),
            sd_ct=("used_ct", "std"),
            first_row=("_row", "min"),
        )
        .reset_index()
    )
    qc.insert(2, "role", np.where(qc["gene"].isin(refs), "reference", "target"))
    qc.insert(5, "n_imputed", qc["n_undetermined"] if undetermined == "max" else 0)
    qc.insert(9, "sd_high", qc["sd_ct"] > sd_flag)
    ct = qc.pivot(index="sample", columns="gene", values="mean_ct")
    ct = ct.reindex(index=list(dict.fromkeys(table["sample"])), columns=genes)
    # ln of E^-Ct per sample and gene, relative to the calibrator if there is one
    log_q = -ct.mul(pd.Series(log_eff)[genes], axis=1)
    if calibrator is not None:
        log_q = log_q - log_q.loc[calibrator]
    normaliser = log_q[list(refs)].mean(axis=1, skipna=False)  # ln geometric mean over refs
    log_expr = log_q[targets].sub(normaliser, axis=0)
    expression = pd.DataFrame(np.exp(log_expr.to_numpy()), index=log_expr.index, columns=targets)
    expression.index.name, expression.columns.name = "sample", "gene"
    return QpcrResult(
        expression=expression,
        qc=qc,
        method=plan.describe(bool(table["efficiency"].notna().any()), log_eff),
        reference_genes=refs,
        calibrator=calibrator,
        notes=tuple(_notes(ct, table, plan, expression)),
    )


@dataclass(frozen=True)
class _Plan:
    """The arguments of :func:`relative_expression` that shape the calculation."""

    method: str
    refs: tuple[str, ...]
    calibrator: str | None
    undetermined: str
    max_ct: float
    sd_flag: float

    def check_arguments(self) -> None:
        refs, cal = self.refs, self.calibrator
        checks = [
            (self.method in _METHODS, f"unknown method {self.method!r}; use one of {_METHODS}"),
            (self.undetermined in _POLICIES, f"unknown undetermined={self.undetermined!r}"),
            (0.0 < self.max_ct <= 50.0, f"max_ct must be in (0, 50], got {self.max_ct!r}"),
            (self.sd_flag > 0, f"sd_flag must be positive, got {self.sd_flag!r}"),
            (0 < len(refs) == len(set(refs)), f"reference genes must be distinct: {refs!r}"),
            (
                self.method != "delta_delta_ct" or cal is not None,
                "delta_delta_ct needs a calibrator",
            ),
            (self.method != "delta_ct" or cal is None, "method 'delta_ct' uses no calibrator"),
        ]
        for ok, message in checks:
            if not ok:
                raise AnalysisError(message)

    def describe(self, has_efficiency: bool, log_eff: dict[str, float]) -> str:
        refs = ", ".join(self.refs)
        norm = (
            f"mean Ct of the reference genes {refs} (geometric mean of quantities)"
            if len(self.refs) > 1
            else f"Ct of the reference gene {refs}"
        )
        cal = f"calibrator {self.calibrator!r}" if self.calibrator else "no calibrator"
        if self.method == "delta_ct":
            text = f"delta-Ct: expression = 2^-(Ct_target - {norm}), assuming E = 2"
        elif self.method == "delta_delta_ct":
            text = (
                "delta-delta-Ct (Livak & Schmittgen 2001): expression = 2^-(dCt_sample - "
                f"dCt_calibrator), dCt = Ct_target - {norm}, {cal}, assuming E = 2"
            )
        else:
            effs = ", ".join(f"{g} {math.exp(v):.4g}" for g, v in log_eff.items())
            text = (
                f"efficiency-corrected ratio (Pfaffl 2001), {cal}, reference genes {refs} "
                f"combined by the geometric mean; efficiencies E: {effs}"
            )
        if self.method != "pfaffl" and has_efficiency:
            text += "; the efficiency column is not used by this method"
        policy = {
            "drop": "undetermined replicates dropped (value missing if all are undetermined)",
            "max": f"undetermined Ct set to {self.max_ct:g} (expression is then an upper bound)",
            "error": "undetermined Ct not allowed",
        }[self.undetermined]
        return (
            f"{text}; replicates averaged on the Ct scale; {policy}; SD flag > {self.sd_flag:g} Ct"
        )


def _first_row(table: pd.DataFrame, mask: pd.Series) -> int | None:
    return _row(table.index[mask.to_numpy()][0])


def _check_design(table: pd.DataFrame, plan: _Plan, where: _Where) -> None:
    genes = list(dict.fromkeys(table["gene"]))
    samples = list(dict.fromkeys(table["sample"]))
    for ref in plan.refs:
        if ref not in genes:
            fix = f"genes in the table: {', '.join(genes)} (names are case-sensitive)"
            raise where.error(f"reference gene {ref!r} is not in the table", None, "gene", ref, fix)
    if len(genes) == len(plan.refs):
        raise AnalysisError("every gene in the table is a reference gene; there is no target")
    cal = plan.calibrator
    if cal is not None and cal not in samples:
        fix = f"choose one of: {', '.join(samples[:10])}" + (" ..." if len(samples) > 10 else "")
        raise where.error(
            f"calibrator sample {cal!r} is not in the table", None, "sample", cal, fix
        )
    present = set(zip(table["sample"], table["gene"], strict=True))
    for s in samples:
        for ref in plan.refs:
            if (s, ref) not in present:
                problem = f"sample {s!r} has no row for reference gene {ref!r}"
                fix = "add its Ct (or 'Undetermined'), or remove the sample"
                raise where.error(
                    problem, _first_row(table, table["sample"] == s), "gene", ref, fix
                )
    if plan.undetermined == "error" and table["undetermined"].any():
        row = _first_row(table, table["undetermined"])
        fix = "repeat the measurement, or use undetermined='drop' or 'max'"
        raise where.error("Ct is undetermined (undetermined='error')", row, "ct", fix=fix)


def _log_efficiencies(
    table: pd.DataFrame,
    plan: _Plan,
    genes: list[str],
    override: Mapping[str, float | str] | None,
    where: _Where,
) -> dict[str, float]:
    """ln E per gene (ln 2 for the methods that assume E = 2)."""
    if plan.method != "pfaffl":
        if override:
            raise AnalysisError(f"efficiency is used only by method 'pfaffl', not {plan.method!r}")
        return dict.fromkeys(genes, math.log(2.0))
    eff = table.groupby("gene", sort=False)["efficiency"].first().to_dict()
    for gene, value in (override or {}).items():
        if gene not in eff:
            raise AnalysisError(f"efficiency given for gene {gene!r}, which is not in the table")
        parsed = _parse_efficiency(value, None, _Where(None, {}))
        eff[gene] = math.nan if parsed is None else parsed[0]
    out = {}
    for gene in genes:
        if math.isnan(eff[gene]):
            problem = f"no amplification efficiency for gene {gene!r} (method 'pfaffl')"
            fix = "fill in the efficiency column for this gene or pass efficiency={gene: E}"
            row = _first_row(table, table["gene"] == gene)
            raise where.error(problem, row, "efficiency", fix=fix)
        out[gene] = math.log(eff[gene])
    return out


def _notes(ct: pd.DataFrame, table: pd.DataFrame, plan: _Plan, expr: pd.DataFrame) -> list[str]:
    """One line per missing expression value, with the reason."""
    present = set(zip(table["sample"], table["gene"], strict=True))
    no_ct, no_expr = ct.isna(), expr.isna()
    notes = []
    for s in expr.index:
        bad_refs = ", ".join(r for r in plan.refs if no_ct.at[s, r])
        for t in expr.columns:
            if not no_expr.at[s, t]:
                continue
            if (s, t) not in present:
                why = "no rows for this sample and gene"
            elif no_ct.at[s, t]:
                why = "all replicates undetermined"
            elif bad_refs:
                why = f"all replicates of reference gene(s) {bad_refs} undetermined"
            else:
                why = f"calibrator {plan.calibrator!r} has no usable value for this gene"
            notes.append(f"sample {s!r}, gene {t!r}: expression missing ({why})")
    return notes
