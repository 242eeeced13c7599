"""What a study analyses and how: :class:`StudyOptions`, checked once, for every entry point."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ikaros.errors import InputError
from ikaros.groups import CUT_KINDS

__all__ = ["StudyOptions", "parse_cut"]

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def parse_cut(text: str) -> tuple[str, tuple[float, ...]]:
    """``--cut`` as (kind, thresholds): a named rule, ``optimal``, or numbers ``3.5,5.5``.

    Raises
    ------
    InputError
        The text is neither a rule nor an increasing list of finite numbers.
    """
    value = text.strip()
    if value in (*CUT_KINDS, "optimal") and value != "thresholds":
        return value, ()
    parts = [p.strip() for p in value.split(",")]
    if all(_NUMBER.fullmatch(p) for p in parts) and parts:
        cuts = tuple(float(p) for p in parts)
        if not all(np.isfinite(c) for c in cuts):
            raise InputError(
                f"--cut {text!r}: thresholds must be finite numbers",
                remedy="write e.g. --cut 3.5,5.5",
            )
        if any(b <= a for a, b in itertools.pairwise(cuts)):
            raise InputError(
                f"--cut {text!r}: thresholds must increase from left to right",
                remedy="write e.g. --cut 3.5,5.5",
            )
        return "thresholds", cuts
    raise InputError(
        f"--cut {text!r} is not a cut",
        remedy="use quartile (default), median, tertile, upper-quartile, optimal, or thresholds "
        "such as --cut 3.5,5.5 (k thresholds give k+1 groups)",
    )


@dataclass(frozen=True)
class StudyOptions:
    """What to analyse and how.

    Parameters
    ----------
    markers, endpoints, covariates
        Marker columns, endpoint names, and extra covariates for the multivariable models.
    groups
        Clinical variables whose levels are compared (``--group``).
    references
        Reference level per grouping variable (default: the first level).
    transform
        ``"none"`` or ``"log2"``: scale of the marker in Cox models (groups use raw values).
    landmark
        Landmark time in months for survival estimates (default 36 = 3 years).
    conf_level
        Confidence level of every interval.
    firth
        ``"auto"``, ``"never"`` or ``"always"``: see :func:`ikaros.stats.cox.fit_cox`.
    cut
        ``quartile`` (Q1 vs Q2-4, Kronke et al.), ``median``, ``tertile``, ``upper-quartile``
        (Q4 vs Q1-3), ``optimal`` (quartile plus a maximally selected cut, labelled optimised) or
        thresholds ``"3.5,5.5"``.
    title, labels, xlim
        For the report: its title, display labels of columns, the time axis limit (months).
    treatment, treatment_reference, stepp_permutations
        Treatment-by-marker analysis (exploratory): the two-level treatment column, its reference
        level, and the permutations of the STEPP heterogeneity test.
    performance, base_model, performance_bootstrap
        Prognostic performance of the marker's Cox models (discrimination, calibration, net
        benefit, optimism-corrected C with this many bootstrap replicates), and its added value
        over a base model of standard variables (e.g. ``("iss", "cyto_high_risk")``).
    """

    markers: tuple[str, ...]
    endpoints: tuple[str, ...]
    covariates: tuple[str, ...] = ()
    transform: str = "none"
    landmark: float = 36.0
    conf_level: float = 0.95
    firth: str = "auto"
    seed: int | None = None
    measurement: str | None = None
    cut: str = "quartile"
    cut_pmethod: str = "Lau94"
    n_permutations: int = 10000
    n_bootstrap: int = 0
    minprop: float = 0.1
    maxprop: float = 0.9
    groups: tuple[str, ...] = ()
    references: Mapping[str, str] = field(default_factory=dict)
    title: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    xlim: float | None = None
    performance: bool = False
    base_model: tuple[str, ...] = ()
    performance_bootstrap: int = 200
    treatment: str | None = None
    treatment_reference: str | None = None
    stepp_permutations: int = 1000

    def __post_init__(self) -> None:
        if self.transform not in ("none", "log2"):
            raise InputError(
                f"transform must be 'none' or 'log2', got {self.transform!r}",
                remedy="use --transform none or --transform log2",
            )
        if not (self.landmark > 0 and np.isfinite(self.landmark)):
            raise InputError(
                f"landmark must be a positive number of months, got {self.landmark}",
                remedy="use e.g. --landmark 36",
            )
        if not 0.5 <= self.conf_level < 1.0:
            raise InputError(
                f"conf_level must lie in [0.5, 1), got {self.conf_level}",
                remedy="use e.g. 0.95",
            )
        if self.firth not in ("auto", "never", "always"):
            raise InputError(
                f"firth must be auto, never or always, got {self.firth!r}",
                remedy="use --firth auto",
            )
        parse_cut(self.cut)
        if self.cut_pmethod not in ("Lau94", "condMC", "both"):
            raise InputError(
                f"cut p-value method must be Lau94, condMC or both, got {self.cut_pmethod!r}",
                remedy="use --cut-pmethod Lau94",
            )
        if not self.markers and not self.groups:
            raise InputError(
                "nothing to analyse: no marker and no grouping variable given",
                remedy="name a marker with --marker, or a variable to compare with --group",
            )
        if not self.endpoints:
            raise InputError("no endpoint given", remedy="name at least one with --endpoint")
        if not self.markers and self.cut != "quartile":
            raise InputError(
                f"--cut {self.cut} groups a marker, but no --marker is given",
                remedy="add --marker COLUMN, or drop --cut (--group compares a variable's levels)",
            )
        for option, names in (
            ("--marker", self.markers),
            ("--endpoint", self.endpoints),
            ("--covariate", self.covariates),
            ("--group", self.groups),
        ):
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise InputError(
                    f"{option} {twice[0]!r} is given more than once",
                    remedy=f"name each {option[2:]} once",
                )
        clash = sorted(set(self.markers) & set(self.covariates))
        if clash:
            raise InputError(
                f"{clash[0]!r} is given both as --marker and as --covariate",
                remedy="a marker is already in every Cox model; drop it from --covariate",
            )
        both = sorted(set(self.markers) & set(self.groups))
        if both:
            raise InputError(
                f"{both[0]!r} is given both as --marker and as --group",
                remedy="a continuous marker is cut with --cut; --group compares categories",
            )
        unknown = sorted(set(self.references) - set(self.groups))
        if unknown:
            raise InputError(
                f"--reference names {unknown[0]!r}, which is not a --group variable",
                remedy="give --reference COLUMN=LEVEL for a column also named with --group",
            )
        if self.treatment_reference is not None and self.treatment is None:
            raise InputError(
                "--treatment-reference needs --treatment", remedy="add --treatment COLUMN"
            )
        if self.treatment is not None and self.treatment in (*self.markers, *self.covariates):
            raise InputError(
                f"{self.treatment!r} is both the treatment and a marker or covariate",
                remedy="the treatment enters every treatment-by-marker model by itself",
            )
        if self.base_model and not self.performance:
            raise InputError(
                "--base-model is used by the performance analysis",
                remedy="add --performance",
            )
        if self.performance_bootstrap < 0:
            raise InputError(
                f"--performance-bootstrap must be 0 or more, got {self.performance_bootstrap}",
                remedy="use e.g. --performance-bootstrap 200 (0 skips the optimism correction)",
            )
        if self.xlim is not None and not (self.xlim > 0 and np.isfinite(self.xlim)):
            raise InputError(
                f"--xlim must be a positive number of months, got {self.xlim}",
                remedy="use e.g. --xlim 60",
            )

    @property
    def load_groups(self) -> tuple[str, ...]:
        """Grouping variables the cohort must be read with: the groups and the treatment."""
        return tuple(dict.fromkeys((*self.groups, *([self.treatment] if self.treatment else []))))

    @property
    def load_covariates(self) -> tuple[str, ...]:
        """Covariates the cohort must be read with: the models' and the base model's."""
        return tuple(dict.fromkeys((*self.covariates, *self.base_model)))

    @property
    def cut_kind(self) -> str:
        """The primary cut: a rule of :data:`ikaros.groups.CUT_KINDS` (optimal -> quartile)."""
        kind, _ = parse_cut(self.cut)
        return "quartile" if kind == "optimal" else kind

    @property
    def thresholds(self) -> tuple[float, ...]:
        return parse_cut(self.cut)[1]

    @property
    def optimal(self) -> bool:
        return parse_cut(self.cut)[0] == "optimal"

    def label(self, column: str) -> str:
        """Display label of a column (``--label COL=TEXT``), else a canonical column's name
        ("ISS stage"), else the column name."""
        from ikaros.cohort._variables import CANONICAL_LABELS

        return self.labels.get(column) or CANONICAL_LABELS.get(column, column)
