"""The genome-wide prognostic scan: every gene against one endpoint, in blocks of genes.

Per gene: univariate Cox on the continuous expression (Efron, iterated to convergence; Firth
refit on monotone likelihood), optionally Cox adjusted for covariates (``cox_method`` /
``adj_method`` say what was fitted: ``cox``, ``firth`` or ``none``, and ``cox_note`` /
``adj_note`` why a gene is not an ordinary fit: monotone likelihood, a failed Firth refit,
no information, non-convergence; estimates are NaN wherever nothing was fitted), log-rank of
the lowest quartile vs the rest and of a median split (both pre-specified cuts), and, on
request, the maximally selected log-rank cutpoint with its search-corrected p-value (an
optimised cut). Benjamini-Hochberg q-values are computed per family of tests over all genes.

Blocks of genes run in-process (two threads on two or more cores: numpy releases the GIL, so
the blocks really run side by side) or on Dask (``scheduler``: ``"threads"``, ``"processes"`` or
the address of a running ``distributed`` scheduler); each block is computed by the same
function either way, so the numbers do not depend on the backend.

Benjamini-Hochberg q-values are computed here (a sort and a running minimum, as R
``p.adjust(method = "BH")``) rather than with statsmodels' ``multipletests``, whose import alone
took a second of every ``ikaros scan``; the tests check them against statsmodels.

References
----------
Benjamini Y, Hochberg Y. Controlling the false discovery rate: a practical and powerful approach
to multiple testing. J R Stat Soc B 1995;57:289-300.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ikaros.cohort import Cohort
from ikaros.cutpoints import maxstat_scan
from ikaros.cutpoints._engine import sorted_quantiles
from ikaros.errors import AnalysisError, InputError
from ikaros.scan._validate import WORK_BYTES, workers
from ikaros.scan.engine import cox_scan, logrank_scan
from ikaros.scan.matrix import AlignedMatrix

__all__ = [
    "SCAN_SCHEMA_VERSION",
    "ScanOptions",
    "ScanResult",
    "bh_qvalues",
    "column_quantiles",
    "run_scan",
]

SCAN_SCHEMA_VERSION = "1.0"
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ScanOptions:
    """What the scan computes.

    Parameters
    ----------
    endpoint
        Endpoint name ``E`` (columns ``E_time``, ``E_event`` in the cohort).
    covariates
        Adjust a second Cox model per gene for these cohort columns (complete cases).
    cutpoints
        Also compute maximally selected log-rank cutpoints (Lausen-Schumacher corrected p).
    minprop, maxprop
        Quantile range of candidate cutpoints.
    block_size
        Genes per block (memory bound and unit of parallel work). The results do not depend
        on it; 1,000 genes keep the peak ~40 MB lower than 2,000 on 1,000 patients at the
        same speed (``benchmarks/bench_scan.py``).
    scheduler
        ``None`` (in-process), ``"threads"``, ``"processes"`` or a Dask scheduler address.
    """

    endpoint: str
    covariates: tuple[str, ...] = ()
    cutpoints: bool = True
    minprop: float = 0.1
    maxprop: float = 0.9
    block_size: int = 1000
    scheduler: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.minprop < self.maxprop < 1.0:
            raise InputError(
                f"--minprop and --maxprop must satisfy 0 < minprop < maxprop < 1, got "
                f"{self.minprop} and {self.maxprop}",
                remedy="use e.g. --minprop 0.1 --maxprop 0.9",
            )
        if self.block_size < 1:
            raise InputError(
                f"--block-size must be a positive number of genes, got {self.block_size}",
                remedy="use e.g. --block-size 1000",
            )


@dataclass(frozen=True)
class ScanResult:
    """Per-gene table and a summary of the scan."""

    table: pd.DataFrame
    n: int
    events: int
    excluded: dict[str, int]
    notes: tuple[str, ...] = ()
    options: ScanOptions = field(default_factory=lambda: ScanOptions("os"))


_ADJ_COLUMNS = ("hr", "lower", "upper", "p", "method", "converged", "monotone", "note")
_COX_COLUMNS = ("coef", "se", *_ADJ_COLUMNS)


def _scan_block(
    time: NDArray[np.float64],
    event: NDArray[np.int64],
    X: NDArray[np.float64],
    genes: Sequence[str],
    covariates: NDArray[np.float64] | None,
    covariate_names: Sequence[str],
    cutpoints: bool,
    minprop: float,
    maxprop: float,
    threads: int | None = None,
    work_bytes: int | None = None,
) -> pd.DataFrame:
    """All per-gene statistics of one block of genes (the unit of in-process or Dask work)."""
    genes = list(genes)
    X = np.ascontiguousarray(X, dtype=np.float64)  # the block's own copy, never the matrix's
    # columns gathered in a dict and made into one DataFrame at the end (inserting ~35 columns
    # one by one into a DataFrame took 10 ms per block)
    out: dict[str, object] = {"gene": genes}
    cox = cox_scan(time, event, X, genes=genes, threads=threads, work_bytes=work_bytes).to_frame()
    for col in _COX_COLUMNS:
        out[f"cox_{col}"] = cox[col].to_numpy()
    if covariates is not None:
        adj = cox_scan(
            time,
            event,
            X,
            genes=genes,
            covariates=covariates,
            covariate_names=covariate_names,
            threads=threads,
            work_bytes=work_bytes,
        ).to_frame()
        for col in _ADJ_COLUMNS:
            out[f"adj_{col}"] = adj[col].to_numpy()
    ms = None
    if cutpoints:  # each gene sorted once, for its cutpoint scan and its quantiles
        ms = maxstat_scan(time, event, X, minprop=minprop, maxprop=maxprop, quantiles=(0.25, 0.5))
        q25, med = ms["quantile"]
    else:
        q25, med = column_quantiles(X, (0.25, 0.5))
    for name, cut in (("q1", q25), ("median", med)):
        lr = logrank_scan(time, event, cut[None, :] < X)
        out[f"{name}_cut"] = cut
        out[f"{name}_cut_origin"] = "prespecified"
        out[f"{name}_logrank_chisq"] = lr.statistic
        out[f"{name}_logrank_p"] = lr.p
        out[f"{name}_n_high"] = lr.n_high
    if ms is not None:
        out["opt_cut"] = ms["cutpoint"]
        out["opt_cut_origin"] = "optimised"
        out["opt_statistic"] = ms["statistic"]
        out["opt_p_lau94"] = ms["p_lau94"]
        out["opt_p_unadjusted"] = ms["p_unadjusted"]
    return pd.DataFrame(out)


def bh_qvalues(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Benjamini-Hochberg q-values (R ``p.adjust(p, "BH")``); NaN p-values stay NaN.

    ``q_(i) = min_{k >= i} min(1, m p_(k) / k)`` over the ``m`` non-missing p-values sorted
    increasingly (tied p-values get the same q whatever their order).
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    if m:
        order = ok[np.argsort(p[ok], kind="stable")[::-1]]  # largest first
        scaled = p[order] * m / np.arange(m, 0, -1)
        q[order] = np.minimum(np.minimum.accumulate(scaled), 1.0)
    return q


def column_quantiles(X: NDArray[np.float64], probs: Sequence[float]) -> NDArray[np.float64]:
    """Type-7 quantiles of every column (R ``quantile``'s default), ``(len(probs), n_cols)``.

    The same numbers as ``numpy.quantile(X, probs, axis=0)`` (its interpolation is reproduced
    operation for operation), from one sort of the transposed block: sorting contiguous rows
    is several times faster than numpy's partition down strided columns.
    """
    return sorted_quantiles(np.sort(np.ascontiguousarray(X.T), axis=1), probs)


def _bh(p: pd.Series) -> NDArray[np.float64]:
    return bh_qvalues(p.to_numpy(dtype=np.float64))


def _blocks(n_genes: int, size: int) -> list[slice]:
    return [slice(i, min(i + size, n_genes)) for i in range(0, n_genes, size)]


def _run_dask(
    args: list[tuple], scheduler: str, progress: Progress | None, n_genes: int
) -> list[pd.DataFrame]:
    try:
        import dask
    except ImportError:  # pragma: no cover - dask is an optional dependency
        raise InputError(
            "--scheduler needs Dask", remedy="pip install 'ikaros[dask]' (dask[distributed])"
        ) from None
    tasks = [dask.delayed(_scan_block)(*a) for a in args]
    if scheduler in ("threads", "processes", "sync"):
        parts = list(dask.compute(*tasks, scheduler=scheduler))
        if progress:
            progress(n_genes, n_genes)
        return parts
    from distributed import Client

    try:
        client = Client(scheduler, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise InputError(
            f"cannot reach the Dask scheduler {scheduler!r}: {exc}",
            remedy="start it (dask scheduler) or use --scheduler threads|processes",
        ) from None
    try:
        futures = [client.submit(_scan_block, *a, pure=False) for a in args]
        parts = []
        done = 0
        for a, fut in zip(args, futures, strict=True):  # in order; progress per block
            parts.append(fut.result())
            done += len(a[3])
            if progress:
                progress(done, n_genes)
        return parts
    finally:
        client.close()


def run_scan(
    cohort: Cohort,
    matrix: AlignedMatrix,
    options: ScanOptions,
    *,
    progress: Progress | None = None,
) -> ScanResult:
    """Scan every gene of ``matrix`` against ``options.endpoint`` of ``cohort``."""
    tcol, ecol = f"{options.endpoint}_time", f"{options.endpoint}_event"
    if tcol not in cohort.data:
        raise InputError(
            f"endpoint {options.endpoint!r} not in the cohort",
            file=cohort.source,
            remedy=f"the cohort has endpoints {list(cohort.endpoints)}",
        )
    data = cohort.data.set_index("patient_id").loc[list(matrix.patient_ids)]
    needed = [tcol, ecol, *options.covariates]
    complete = data[needed].notna().all(axis=1).to_numpy()
    excluded = {
        "no_sample": len(matrix.patients_without_sample),
        "missing_endpoint_or_covariate": int((~complete).sum()),
    }
    data = data[complete]
    X = matrix.values if complete.all() else matrix.values[complete]
    time = data[tcol].to_numpy(dtype=float)
    event = data[ecol].to_numpy(dtype=np.int64)
    if event.sum() < 2:
        raise AnalysisError(
            f"{options.endpoint}: {int(event.sum())} events among the {len(time)} matched "
            "patients; a scan needs events"
        )
    cov = data[list(options.covariates)].to_numpy(dtype=float) if options.covariates else None
    blocks = _blocks(len(matrix.genes), options.block_size)
    n_workers = 1 if options.scheduler else min(workers(None), len(blocks))
    args = [
        (
            time,
            event,
            X[:, b],  # a view: each block copies its own columns when it runs
            matrix.genes[b],
            cov,
            options.covariates,
            options.cutpoints,
            options.minprop,
            options.maxprop,
            1 if n_workers > 1 else None,
            WORK_BYTES // n_workers,  # each thread's share of the Cox working memory
        )
        for b in blocks
    ]
    if options.scheduler:
        parts = _run_dask(args, options.scheduler, progress, len(matrix.genes))
    else:
        parts = []
        done = 0
        # whole blocks side by side (Cox, log-rank, cutpoints), one thread each: numpy releases
        # the GIL, and each block writes only its own result
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            for a, part in zip(args, pool.map(lambda a: _scan_block(*a), args), strict=True):
                parts.append(part)
                done += len(a[3])
                if progress:
                    progress(done, len(matrix.genes))
    table = pd.concat(parts, ignore_index=True)
    for col in ("cox_p", "adj_p", "q1_logrank_p", "median_logrank_p", "opt_p_lau94"):
        if col in table:
            table[col.replace("_p", "_q", 1)] = _bh(table[col])
    table.insert(1, "n", len(time))
    table.insert(2, "events", int(event.sum()))
    return ScanResult(table, len(time), int(event.sum()), excluded, tuple(matrix.report()), options)
