"""Parameters of the degradation-threshold model, each with its source or marked "assumed".

Every number the model uses is a :class:`Parameter` with a status:

``published``
    The value as reported in the cited source.
``derived``
    Computed from published values (the computation is given in ``source``).
``assumed``
    Our choice: no published value was found. ``low`` and ``high`` give the plausible range that
    the sensitivity (tornado) analysis explores.

The PK parameters (``ka``, ``CL/F``, ``V/F``) are *derived*: they are the one-compartment values
that come closest (smallest largest relative error) to the published single-dose means after
10 mg (Cmax 188 ng/mL, AUC(0-24) 852 ng h/mL, t1/2 3.72 h, tmax 1 h [MDS06]_). The three means
cannot all be met by a one-compartment model with first-order absorption: there
``Cmax / AUC = ke exp(-ke tmax) < ke``, while the published ratio (0.221 /h) exceeds the
``ke = ln 2 / 3.72 h = 0.186 /h`` of the published half-life (means of individual values do not
obey the model's identities exactly). The compromise misses each anchor by about 12%
(``docs/model.md``, tested in ``tests/model/test_pk.py``). The total clearance implied by the same
study's renal clearance and urinary recovery, 7.48 L/h / 0.656 = 11.4 L/h, is close to the
derived 10.3 L/h.

References
----------
.. [MDS06] A pharmacokinetic and pharmacodynamic study of lenalidomide in patients with low- or
   intermediate-1-risk myelodysplastic syndromes. Blood 2006;108(11):4854 (ASH abstract): single
   oral 10 mg in 12 patients, mean (SD) Cmax 188 (59.5) ng/mL, AUC(0-t) 852.3 (272) ng h/mL,
   t1/2 3.72 (0.75) h, median tmax 1.00 (0.5-2.0) h, renal clearance 7.48 L/h, 65.6% of the dose
   excreted unchanged in urine over 24 h.
.. [Chen12] Chen N, Kasserra C, Reyes J, Liu L, Lau H. Single-dose pharmacokinetics of
   lenalidomide in healthy volunteers: dose proportionality, food effect, and racial
   sensitivity. Cancer Chemother Pharmacol 2012;70:717-725. doi:10.1007/s00280-012-1966-z
   (tmax about 1 h, t1/2 3-4 h, AUC and Cmax proportional to dose from 5 to 400 mg).
.. [Chen07] Chen N, Lau H, Kong L, et al. Pharmacokinetics of lenalidomide in subjects with
   various degrees of renal impairment and in subjects on hemodialysis. J Clin Pharmacol
   2007;47:1466-1475. doi:10.1177/0091270007309563 (84% of the dose recovered unchanged in urine
   with normal renal function; total and renal clearance fall with creatinine clearance; absorption
   and non-renal elimination unchanged).
.. [Chen17] Chen N, Zhou S, Palmisano M. Clinical pharmacokinetics and pharmacodynamics of
   lenalidomide. Clin Pharmacokinet 2017;56:139-152. doi:10.1007/s40262-016-0432-1 (about 82% of
   an oral dose excreted unchanged in urine within 24 h; t1/2 3-4 h; renal function the only
   important factor for exposure).
.. [Connarn18] Connarn JN, et al. Population pharmacokinetics of lenalidomide in healthy
   volunteers and patients with hematologic malignancies. Clin Pharmacol Drug Dev
   2018;7:465-473. doi:10.1002/cpdd.372 (one-compartment model with linear absorption and
   elimination; apparent clearance increases with creatinine clearance).
.. [Label] REVLIMID (lenalidomide) prescribing information, section 12.3 (Clinical
   Pharmacology): linear pharmacokinetics, no accumulation on daily dosing, half-life about 3 h,
   dose adjustment by creatinine clearance.
.. [Kronke14] Kronke J, Udeshi ND, Narla A, et al. Lenalidomide causes selective degradation of
   IKZF1 and IKZF3 in multiple myeloma cells. Science 2014;343:301-305.
   doi:10.1126/science.1244851
.. [Lu14] Lu G, Middleton RE, Sun H, et al. The myeloma drug lenalidomide promotes the
   cereblon-dependent destruction of Ikaros proteins. Science 2014;343:305-309.
   doi:10.1126/science.1244917
.. [Eichner16] Eichner R, Heider M, Fernandez-Saiz V, et al. Immunomodulatory drugs disrupt the
   cereblon-CD147-MCT1 axis to exert antitumor activity and teratogenicity. Nat Med
   2016;22:735-743. doi:10.1038/nm.4128
.. [Franssen18] Franssen LE, Nijhof IS, Bjorklund CC, et al. Lenalidomide combined with low-dose
   cyclophosphamide and prednisone modulates Ikaros and Aiolos in lymphocytes. Oncotarget
   2018;9:34009-34021. doi:10.18632/oncotarget.26131 (mid-cycle fall of Ikaros and Aiolos,
   back to baseline on day 1 of the next cycle, one week after the last dose).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Literal

from ikaros.errors import InputError

__all__ = [
    "LENALIDOMIDE_MW",
    "MARKERS",
    "PARAMETER_NAMES",
    "REFERENCES",
    "ModelParameters",
    "Parameter",
    "default_parameters",
]

Status = Literal["published", "derived", "assumed"]

#: Molar mass of lenalidomide (C13H13N3O3), g/mol: 1 umol/L = 259.26 ng/mL.
LENALIDOMIDE_MW = 259.26

#: The citation keys used in the parameter sources.
REFERENCES: dict[str, str] = {
    "MDS06": "A pharmacokinetic and pharmacodynamic study of lenalidomide in patients with low- "
    "or intermediate-1-risk myelodysplastic syndromes. Blood 2006;108(11):4854 (ASH abstract).",
    "Chen12": "Chen N, Kasserra C, Reyes J, Liu L, Lau H. Single-dose pharmacokinetics of "
    "lenalidomide in healthy volunteers: dose proportionality, food effect, and racial "
    "sensitivity. Cancer Chemother Pharmacol 2012;70:717-725. doi:10.1007/s00280-012-1966-z",
    "Chen07": "Chen N, Lau H, Kong L, et al. Pharmacokinetics of lenalidomide in subjects with "
    "various degrees of renal impairment and in subjects on hemodialysis. J Clin Pharmacol "
    "2007;47:1466-1475. doi:10.1177/0091270007309563",
    "Chen17": "Chen N, Zhou S, Palmisano M. Clinical pharmacokinetics and pharmacodynamics of "
    "lenalidomide. Clin Pharmacokinet 2017;56:139-152. doi:10.1007/s40262-016-0432-1",
    "Connarn18": "Connarn JN, et al. Population pharmacokinetics of lenalidomide in healthy "
    "volunteers and patients with hematologic malignancies. Clin Pharmacol Drug Dev "
    "2018;7:465-473. doi:10.1002/cpdd.372",
    "Label": "REVLIMID (lenalidomide) prescribing information, section 12.3 Pharmacokinetics.",
    "Kronke14": "Kronke J, Udeshi ND, Narla A, et al. Lenalidomide causes selective degradation "
    "of IKZF1 and IKZF3 in multiple myeloma cells. Science 2014;343:301-305. "
    "doi:10.1126/science.1244851",
    "Lu14": "Lu G, Middleton RE, Sun H, et al. The myeloma drug lenalidomide promotes the "
    "cereblon-dependent destruction of Ikaros proteins. Science 2014;343:305-309. "
    "doi:10.1126/science.1244917",
    "Eichner16": "Eichner R, Heider M, Fernandez-Saiz V, et al. Immunomodulatory drugs disrupt "
    "the cereblon-CD147-MCT1 axis to exert antitumor activity and teratogenicity. Nat Med "
    "2016;22:735-743. doi:10.1038/nm.4128",
    "Franssen18": "Franssen LE, Nijhof IS, Bjorklund CC, et al. Lenalidomide combined with "
    "low-dose cyclophosphamide and prednisone modulates Ikaros and Aiolos in lymphocytes. "
    "Oncotarget 2018;9:34009-34021. doi:10.18632/oncotarget.26131",
    "Oncotarget": "Prognostic impact of Ikaros expression in lenalidomide-treated multiple "
    "myeloma. Oncotarget (research letter), Figure 1 (the mechanism modelled here).",
}

#: CRBN substrates the model has parameters for.
MARKERS: tuple[str, ...] = ("IKZF1", "IKZF3", "BSG")


@dataclass(frozen=True)
class Parameter:
    """One model parameter with its provenance.

    Attributes
    ----------
    name
        Key used in :class:`ModelParameters`, the JSON output and the tornado plot.
    label
        Human-readable name with symbol.
    value
        The value used.
    unit
        Its unit (``1/h``, ``L/h``, ``ng/mL``, ...).
    status
        ``published``, ``derived`` or ``assumed`` (see the module docstring).
    source
        Citation key(s) and how the value follows from them, or why it is assumed.
    low, high
        Plausible range explored by the sensitivity analysis; ``None`` for parameters that are not
        varied (published constants).
    symbol
        Short name for figure labels.
    """

    name: str
    label: str
    value: float
    unit: str
    status: Status
    source: str
    low: float | None = None
    high: float | None = None
    symbol: str = ""

    def with_value(self, value: float) -> Parameter:
        return replace(self, value=float(value))


@dataclass(frozen=True)
class ModelParameters:
    """All parameters of the model for one CRBN substrate (``marker``).

    PK: one-compartment oral model, times in hours, concentrations in ng/mL. Turnover:
    ``dP/dt = k_syn m - (k_deg + E_max C^h / (EC50^h + C^h)) P`` with ``k_syn = k_deg`` so that
    an untreated patient with the cohort-median mRNA (``m = 1``) has ``P = 1``.
    """

    marker: str
    ka: Parameter
    cl_f: Parameter
    v_f: Parameter
    fe_renal: Parameter
    crcl_ref: Parameter
    half_life_protein: Parameter
    emax: Parameter
    ec50: Parameter
    hill: Parameter
    theta: Parameter
    min_hours_below: Parameter

    def values(self) -> dict[str, float]:
        """Name -> value of every parameter."""
        return {p.name: p.value for p in self.all()}

    def all(self) -> tuple[Parameter, ...]:
        return tuple(getattr(self, f.name) for f in fields(self) if f.name != "marker")

    def uncertain(self) -> tuple[Parameter, ...]:
        """Parameters with a plausible range (explored by the tornado analysis)."""
        return tuple(p for p in self.all() if p.low is not None and p.high is not None)

    @property
    def k_deg(self) -> float:
        """Baseline first-order degradation rate of the protein, 1/h."""
        return math.log(2.0) / self.half_life_protein.value

    def replace(self, **values: float) -> ModelParameters:
        """A copy with some parameter values changed (validated)."""
        changed = {}
        for key, value in values.items():
            if key not in PARAMETER_NAMES:
                raise InputError(
                    f"unknown model parameter {key!r}",
                    remedy=f"use one of {', '.join(PARAMETER_NAMES)}",
                )
            changed[key] = getattr(self, key).with_value(value)
        out = replace(self, **changed)
        out.validate()
        return out

    def validate(self) -> None:
        """Raise :class:`InputError` for a value outside its domain."""
        for p in self.all():
            v = p.value
            ok = math.isfinite(v) and (v >= 0 if p.name in _NON_NEGATIVE else v > 0)
            if p.name == "fe_renal":
                ok = ok and v <= 1.0
            if not ok:
                domain = (
                    "between 0 and 1"
                    if p.name == "fe_renal"
                    else ("non-negative" if p.name in _NON_NEGATIVE else "positive")
                )
                raise InputError(
                    f"model parameter {p.name} must be finite and {domain}",
                    value=v,
                    remedy=f"give {p.label} in {p.unit}",
                )


_NON_NEGATIVE = frozenset({"min_hours_below", "fe_renal"})

PARAMETER_NAMES: tuple[str, ...] = (
    "ka",
    "cl_f",
    "v_f",
    "fe_renal",
    "crcl_ref",
    "half_life_protein",
    "emax",
    "ec50",
    "hill",
    "theta",
    "min_hours_below",
)

_PK_FIT = (
    "derived: minimax fit of a one-compartment model to the 10 mg single-dose means of [MDS06] "
    "(Cmax 188 ng/mL, AUC 852 ng h/mL, t1/2 3.72 h) with tmax near 1 h [MDS06, Chen12]"
)


def _pk() -> dict[str, Parameter]:
    return {
        "ka": Parameter(
            "ka",
            "absorption rate constant ka",
            3.0,
            "1/h",
            "derived",
            _PK_FIT + "; ka = 3.0/h gives tmax = 0.95 h. Range: tmax 0.5-1.6 h",
            1.5,
            6.0,
            symbol="ka (absorption)",
        ),
        "cl_f": Parameter(
            "cl_f",
            "apparent clearance CL/F (at the reference CrCl)",
            10.3,
            "L/h",
            "derived",
            _PK_FIT + "; cf. 7.48 L/h renal / 0.656 excreted = 11.4 L/h [MDS06]. Range +-30% "
            "(the CV of AUC in [MDS06] is 32%)",
            7.2,
            13.4,
            symbol="CL/F",
        ),
        "v_f": Parameter(
            "v_f",
            "apparent volume V/F",
            49.1,
            "L",
            "derived",
            _PK_FIT + ". Range +-30% (the CV of Cmax in [MDS06] is 32%)",
            34.4,
            63.8,
            symbol="V/F",
        ),
        "fe_renal": Parameter(
            "fe_renal",
            "fraction of CL/F that is renal, fe",
            0.82,
            "1",
            "published",
            "about 82% of an oral dose excreted unchanged in urine within 24 h [Chen17] "
            "(84% with normal renal function [Chen07]); CL/F(CrCl) = CL/F (1 - fe + fe CrCl / "
            "CrCl_ref), non-renal clearance unchanged by renal impairment [Chen07, Connarn18]",
            symbol="fe (renal fraction)",
        ),
        "crcl_ref": Parameter(
            "crcl_ref",
            "reference creatinine clearance CrCl_ref",
            90.0,
            "mL/min",
            "assumed",
            "the renal function at which CL/F applies; the CrCl of the anchor study [MDS06] is "
            "not reported. Only matters when a patient's CrCl is given",
            symbol="CrCl_ref",
        ),
    }


#: Turnover parameters per substrate: (protein half-life h, Emax 1/h, EC50 ng/mL) and ranges.
_TURNOVER: dict[str, tuple[tuple[float, float, float], tuple[float, float, float], str]] = {
    "IKZF1": (
        (12.0, 4.0, 36.0),
        (0.5, 0.15, 1.5),
        "Ikaros",
    ),
    "IKZF3": (
        (12.0, 4.0, 36.0),
        (0.5, 0.15, 1.5),
        "Aiolos",
    ),
    "BSG": (
        (24.0, 8.0, 72.0),
        (0.2, 0.05, 0.6),
        "Basigin/CD147",
    ),
}
_EC50 = {"IKZF1": (130.0, 26.0, 520.0), "IKZF3": (130.0, 26.0, 520.0), "BSG": (260.0, 52.0, 1040.0)}


def _turnover(marker: str) -> dict[str, Parameter]:
    (hl, hl_lo, hl_hi), (em, em_lo, em_hi), protein = _TURNOVER[marker]
    ec, ec_lo, ec_hi = _EC50[marker]
    if marker == "BSG":
        mech = (
            "IMiDs destabilise Basigin/CD147 by competing with it for CRBN, not by "
            "ubiquitination [Eichner16]; modelled as an added first-order loss"
        )
    else:
        mech = (
            f"lenalidomide recruits {protein} to CRL4-CRBN for ubiquitination and proteasomal "
            "degradation within hours in myeloma cells [Kronke14, Lu14]"
        )
    return {
        "half_life_protein": Parameter(
            "half_life_protein",
            f"baseline {protein} protein half-life ln2/k_deg",
            hl,
            "h",
            "assumed",
            "no measured half-life in myeloma cells found; recovery to baseline within the "
            "7-day break [Franssen18] needs a half-life well below a day or two",
            hl_lo,
            hl_hi,
            symbol="protein half-life",
        ),
        "emax": Parameter(
            "emax",
            "maximal drug-induced degradation rate E_max",
            em,
            "1/h",
            "assumed",
            mech + "; E_max = 0.5/h is an induced half-life of 1.4 h" if marker != "BSG" else mech,
            em_lo,
            em_hi,
            symbol="E_max",
        ),
        "ec50": Parameter(
            "ec50",
            "lenalidomide concentration for half-maximal induced degradation EC50",
            ec,
            "ng/mL",
            "assumed",
            (
                "degradation is seen in cell lines at 0.1-10 umol/L [Kronke14, Lu14]; "
                f"EC50 = {ec / LENALIDOMIDE_MW:.1f} umol/L (x {LENALIDOMIDE_MW} g/mol), range "
                f"{ec_lo / LENALIDOMIDE_MW:.1f}-{ec_hi / LENALIDOMIDE_MW:.1f} umol/L; total "
                "plasma concentration is used (protein binding about 30% [Label])"
            ),
            ec_lo,
            ec_hi,
            symbol="EC50",
        ),
        "hill": Parameter(
            "hill",
            "Hill coefficient h",
            1.0,
            "1",
            "assumed",
            "single binding site (lenalidomide-CRBN-substrate ternary complex); range 0.7-2",
            0.7,
            2.0,
            symbol="Hill h",
        ),
        "theta": Parameter(
            "theta",
            "critical protein level theta (relative to the untreated median patient)",
            0.1,
            "1",
            "assumed",
            "the letter's 'critical low level' [Oncotarget] has no published value; "
            "0.1 was chosen for illustration so that at 25 mg on days 1-21 the demo cohort's "
            "sensitive group is roughly its lowest quartile, i.e. it is tuned to the published "
            "Q1 finding and is not an independent prediction. Fit it with --fit-theta",
            0.05,
            0.2,
            symbol="theta",
        ),
        "min_hours_below": Parameter(
            "min_hours_below",
            "minimum time below theta per cycle for growth arrest",
            168.0,
            "h",
            "assumed",
            "growth must stop for a week (a quarter of a 28-day cycle) to count; with 0 the "
            "criterion is the nadir alone, which with daily dosing is the same for 21/28 and "
            "continuous schedules (the protein reaches its periodic state within days). "
            "Range 1-14 days",
            24.0,
            336.0,
            symbol="time below theta",
        ),
    }


def default_parameters(marker: str) -> ModelParameters:
    """The default parameters for a CRBN substrate (``IKZF1``, ``IKZF3`` or ``BSG``).

    Raises
    ------
    InputError
        The marker is not a modelled CRBN substrate.
    """
    if marker not in MARKERS:
        remedy = f"use one of {', '.join(MARKERS)}"
        if marker == "CRBN":
            remedy = "CRBN is the ligase, not a substrate of the drug; " + remedy
        raise InputError(
            f"the degradation model has no parameters for marker {marker!r}", remedy=remedy
        )
    params = ModelParameters(marker=marker, **_pk(), **_turnover(marker))
    params.validate()
    return params
