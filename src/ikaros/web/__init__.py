"""The ikaros web workbench: upload a cohort, explore markers, run the study analysis.

A thin FastAPI layer over :mod:`ikaros.cohort`, :mod:`ikaros.study`, :mod:`ikaros.cutpoints` and
:mod:`ikaros.report`: the statistics and the report are the engine's, nothing is re-implemented
here. Storage is a SQL database through SQLAlchemy (SQLite in the data directory by default,
PostgreSQL when ``IKAROS_DATABASE_URL`` names one) with Alembic migrations, and a content-addressed
file store for uploaded cohorts. Start it with ``ikaros serve``.
"""

from ikaros.web.settings import Settings

__all__ = ["Settings"]
