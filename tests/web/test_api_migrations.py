"""The Alembic migrations build exactly the schema of the models (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Connection

from ikaros.web.db import MIGRATIONS, Database
from ikaros.web.models import Base


def _config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def _differences(conn: Connection) -> list[object]:
    context = MigrationContext.configure(
        conn, opts={"compare_type": True, "compare_server_default": False}
    )
    return list(compare_metadata(context, Base.metadata))


def test_upgrade_to_head_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            assert inspect(conn).get_table_names() == []
            command.upgrade(_config(conn), "head")
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            assert tables == set(Base.metadata.tables) | {"alembic_version"}
            assert _differences(conn) == []
            head = ScriptDirectory.from_config(_config(conn)).get_current_head()
            assert MigrationContext.configure(conn).get_current_revision() == head
            for name, table in Base.metadata.tables.items():
                columns = {c["name"]: c for c in inspect(conn).get_columns(name)}
                assert set(columns) == set(table.columns.keys()), name
                for column in table.columns:
                    assert columns[column.name]["nullable"] == column.nullable, (name, column)
    finally:
        engine.dispose()


def test_downgrade_and_upgrade_again(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            command.upgrade(_config(conn), "head")
        with engine.begin() as conn:
            command.downgrade(_config(conn), "base")
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        with engine.begin() as conn:
            command.upgrade(_config(conn), "head")
        with engine.connect() as conn:
            assert _differences(conn) == []
    finally:
        engine.dispose()


def test_app_migration_is_idempotent(database_url: str) -> None:
    """What the app runs at every start-up: the first creates the schema, the next do nothing."""
    for _ in range(2):
        db = Database(database_url)
        try:
            db.migrate()
            with db.engine.connect() as conn:
                assert _differences(conn) == []
        finally:
            db.dispose()
