"""Typed, frozen results of the degradation-threshold model and their versioned JSON file.

``model.json`` holds one :class:`ModelResult`. ``model_schema_version`` is ``MAJOR.MINOR``: a
reader accepts any MINOR of its MAJOR (added fields), and refuses another MAJOR with
:class:`ikaros.errors.SchemaVersionError`. Numbers that cannot be estimated are ``null`` with a
reason beside them. The text is deterministic: the same input and options give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ikaros.model.parameters import Parameter
from ikaros.results import Curve, serial

__all__ = [
    "DISCLAIMER",
    "MODEL_SCHEMA_VERSION",
    "ClassSummary",
    "DoseResponseRow",
    "InputSummary",
    "ModelOptions",
    "ModelResult",
    "PKCheck",
    "PatientPrediction",
    "ProfilePoint",
    "ThetaFit",
    "TornadoRow",
    "TrajectorySample",
    "load_model_json",
    "model_from_json",
    "model_to_json",
]

#: MAJOR.MINOR of model.json.
MODEL_SCHEMA_VERSION = "1.0"

DISCLAIMER = (
    "Hypothesis-generating model. It turns the mechanism proposed in the Oncotarget letter "
    "(Figure 1: high Ikaros/Aiolos/BSG expression keeps the protein above a critical level "
    "despite lenalidomide-induced, CRBN-dependent degradation) into numbers. Its "
    "pharmacokinetics rest on published single-dose data; the protein turnover, the drug effect "
    "on it and the critical level are assumed (see the parameter table). Its predictions have "
    "not been validated against outcome or protein data and must not guide treatment."
)


@dataclass(frozen=True)
class InputSummary:
    """Where the cohort came from and who was analysed."""

    source: str
    sha256: str | None
    n_patients: int
    n_analysed: int
    excluded_missing_marker: int
    excluded_missing_endpoint: int
    median_expression: float
    crcl_column: str | None
    crcl_missing: int


@dataclass(frozen=True)
class ModelOptions:
    marker: str
    endpoint: str
    dose_mg: float
    schedule: str
    n_cycles: int
    classified_on_cycle: int
    doses: tuple[float, ...]
    schedules: tuple[str, ...]
    fit_theta: bool
    seed: int
    landmark_months: float


@dataclass(frozen=True)
class PKCheck:
    """One published single-dose anchor against the model (10 mg, reference renal function)."""

    quantity: str
    unit: str
    published: float
    model: float
    relative_error: float
    tolerance: float
    source: str


@dataclass(frozen=True)
class TrajectorySample:
    """``P(t)`` of one relative mRNA level, sampled for the figure (times in days).

    ``nadir`` and ``hours_below`` (theta) are those of the classified (last) cycle.
    """

    label: str
    m: float
    nadir: float
    hours_below: float
    sensitive: bool
    protein: tuple[float, ...]


@dataclass(frozen=True)
class PatientPrediction:
    """The model's read-outs for one patient.

    ``nadir`` and ``hours_below`` hold one value per simulated cycle; ``score`` is
    ``m q`` (``q`` the level the patient's ``P1`` stays below for ``min_hours_below``), and the
    patient is predicted sensitive when ``score < theta``.
    """

    patient_id: str
    row: int
    expression: float
    m: float
    crcl: float | None
    nadir: tuple[float, ...]
    hours_below: tuple[float, ...]
    score: float
    critical_m: float
    sensitive: bool


@dataclass(frozen=True)
class ClassSummary:
    """Kaplan-Meier summary of one predicted class."""

    label: str
    n: int
    events: int
    median: float | None
    landmark: float | None
    landmark_lower: float | None
    landmark_upper: float | None
    curve: Curve | None


@dataclass(frozen=True)
class DoseResponseRow:
    dose_mg: float
    schedule: str
    critical_m: float
    n_sensitive: int
    sensitive_fraction: float


@dataclass(frozen=True)
class TornadoRow:
    """Predictions with one uncertain parameter at the ends of its plausible range."""

    parameter: str
    label: str
    unit: str
    base: float
    low: float
    high: float
    critical_m_low: float
    critical_m_high: float
    fraction_low: float
    fraction_high: float


@dataclass(frozen=True)
class ProfilePoint:
    cut: float
    n_low: int
    loglik: float
    lr_statistic: float
    monotone: bool


@dataclass(frozen=True)
class ThetaFit:
    """Theta estimated from the endpoint by profile likelihood over the cut of the score.

    ``theta`` is the cut on the score ``m q`` (patients at or below are "sensitive");
    ``critical_m`` the same cut on the relative mRNA at the reference renal function. The
    profile likelihood is the Cox partial likelihood (Efron ties) of the two-group model at each
    candidate cut; ``p_lau94`` and ``p_permutation`` are the search-corrected p-values of the
    maximally selected log-rank statistic over the same candidate cuts, as ``ikaros cutpoint``.
    ``support_lower``/``support_upper`` bound the cuts whose likelihood-ratio statistic is within
    3.84 of the maximum (a likelihood support set, not a calibrated confidence interval).
    """

    theta: float | None
    critical_m: float | None
    hazard_ratio: float | None
    support_lower: float | None
    support_upper: float | None
    maxstat_cut: float | None
    p_lau94: float | None
    p_permutation: float | None
    n_permutations: int
    minprop: float
    maxprop: float
    profile: tuple[ProfilePoint, ...]
    note: str


@dataclass(frozen=True)
class ModelResult:
    model_schema_version: str
    ikaros_version: str
    software: dict[str, str]
    disclaimer: str
    input: InputSummary
    options: ModelOptions
    parameters: tuple[Parameter, ...]
    pk_check: tuple[PKCheck, ...]
    q_reference: float
    critical_m: float
    trajectory_days: tuple[float, ...]
    concentration: tuple[float, ...]
    trajectories: tuple[TrajectorySample, ...]
    patients: tuple[PatientPrediction, ...]
    classes: tuple[ClassSummary, ...]
    logrank_statistic: float | None
    logrank_p: float | None
    logrank_note: str
    dose_response: tuple[DoseResponseRow, ...]
    tornado: tuple[TornadoRow, ...]
    theta_fit: ThetaFit | None
    notes: tuple[str, ...]
    command: str | None = None

    @property
    def n_sensitive(self) -> int:
        return sum(p.sensitive for p in self.patients)

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)


# --------------------------------------------------------------------------- JSON


def model_to_json(result: ModelResult) -> str:
    """Deterministic JSON text of a result (ends with a newline)."""
    return serial.dumps(result)


def model_from_json(text: str, *, source: str = "model.json") -> ModelResult:
    """Read ``model.json`` text back into a :class:`ModelResult`.

    Raises
    ------
    SchemaVersionError
        Written under another major schema version, or not following the schema.
    InputError
        Not JSON.
    """
    return serial.from_json(
        text,
        ModelResult,
        MODEL_SCHEMA_VERSION,
        source=source,
        version_key="model_schema_version",
        what="model",
        command="ikaros model",
    )


def load_model_json(path: str | Path) -> ModelResult:
    """Read a ``model.json`` file (see :func:`model_from_json`)."""
    return model_from_json(Path(path).read_text(encoding="utf-8"), source=str(path))
