"""Treatment-by-marker analyses and multi-cohort validation with meta-analysis.

Numerics only (no plotting; figures are in :mod:`ikaros.report.figures.validation`):

- :mod:`ikaros.validation.predictive`: marker x treatment Cox models, subgroup effects,
  Gail-Simon test, STEPP (:mod:`~ikaros.validation.stepp`, :mod:`~ikaros.validation.gail_simon`);
- :mod:`ikaros.validation.meta`: random-effects meta-analysis as R metafor (REML, HKSJ,
  plug-in prediction interval, Q-profile intervals, leave-one-out), with the bootstrap
  prediction interval of :mod:`~ikaros.validation.prediction` (Nagashima et al. 2019);
- :mod:`ikaros.validation.multicohort`: the same analysis per cohort, pooled two-stage and
  one-stage (Cox stratified by cohort); :mod:`~ikaros.validation.manifest` reads the TOML manifest;
- :mod:`ikaros.validation.simulate`: two-arm and multi-cohort data with known truth.

Every result is a frozen dataclass with ``to_dict()``; :func:`dumps` writes deterministic JSON
(schema version :data:`VALIDATION_SCHEMA_VERSION`).
"""

from ikaros.validation._serial import VALIDATION_SCHEMA_VERSION, dumps, plain

__all__ = ["VALIDATION_SCHEMA_VERSION", "dumps", "plain"]
