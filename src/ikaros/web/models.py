"""Database tables (SQLAlchemy 2 declarative). Changes need an Alembic migration."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "Analysis",
    "AuditEvent",
    "Base",
    "Cohort",
    "LoginSession",
    "Project",
    "ProjectMember",
    "Upload",
    "User",
    "new_id",
    "utcnow",
]


def new_id() -> str:
    """An unguessable public identifier (128 bits, hex)."""
    return secrets.token_hex(16)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class LoginSession(Base):
    """A logged-in browser session (server side; the cookie carries only a random id).

    ``id`` is the SHA-256 of that random id, so the table does not hold usable cookies. A session
    ends at ``expires_at``, at logout, and on a password change (the rows are deleted); deleting
    the user deletes its sessions.
    """

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    members: Mapped[list[ProjectMember]] = relationship(back_populates="project")


class ProjectMember(Base):
    __tablename__ = "project_members"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    project: Mapped[Project] = relationship(back_populates="members")


class Cohort(Base):
    """An uploaded, validated cohort file (stored content-addressed, never modified)."""

    __tablename__ = "cohorts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_format: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int] = mapped_column(Integer)
    time_unit: Mapped[str] = mapped_column(String(16), default="months")
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    n_patients: Mapped[int] = mapped_column(Integer)
    markers: Mapped[list[str]] = mapped_column(JSON)
    endpoints: Mapped[list[str]] = mapped_column(JSON)
    overview: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: how the file is read (:class:`ikaros.web.mapping.CohortSpec`); None before revision 0003
    mapping: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: the columns by kind (grouping variables with their levels, covariates, binary columns)
    variables: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: the expression file joined to the cohort (name, sha256, format, options), if any
    expression: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Upload(Base):
    """A stored upload that did not validate yet, kept for the mapping step (page flow).

    The file itself is in the content-addressed store; the row is deleted when the upload
    becomes a cohort, is discarded, or expires (:data:`ikaros.web.services.UPLOAD_TTL`).
    """

    __tablename__ = "uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_format: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    #: the mapping last tried
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON)


class AuditEvent(Base):
    """Who uploaded, mapped, ran, downloaded or deleted what, and when.

    Rows outlive what they describe (a deleted cohort keeps its history); ``user_name`` and
    ``project_id`` are copied so that an entry stays readable and visible to the project.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_name: Mapped[str] = mapped_column(String(64))
    project_id: Mapped[str] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(32))
    object_type: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")


class Analysis(Base):
    """A study analysis of a cohort: parameters, status, versions and results.json."""

    __tablename__ = "analyses"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id"), index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    with_report: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    progress_label: Mapped[str] = mapped_column(String(200), default="")
    error: Mapped[str | None] = mapped_column(Text)
    software: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    results_json: Mapped[str | None] = mapped_column(Text)
    results_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: set when a worker takes the analysis up; only that run may record progress and results
    run_id: Mapped[str | None] = mapped_column(String(32))
