"""The audit log: who uploaded, mapped, ran, downloaded or deleted what, and when.

Entries are written in the same transaction as the change they describe (a failed change leaves
no entry); downloads are recorded as they are served. A user sees the entries of their own
projects, including those of deleted cohorts and analyses.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ikaros.web.deps import AppContext, Principal
from ikaros.web.models import AuditEvent

__all__ = ["ACTIONS", "audit_view", "log_event", "recent_events", "record"]

#: what is recorded
ACTIONS = ("upload", "expression", "analyse", "download", "delete")


def record(
    s: Session,
    who: Principal,
    project_id: str,
    action: str,
    object_type: str,
    object_id: str,
    detail: str = "",
) -> None:
    """Add an entry in the session ``s`` (committed with the change it records)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    s.add(
        AuditEvent(
            user_name=who.name,
            project_id=project_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            detail=detail[:2000],
        )
    )


def log_event(
    ctx: AppContext,
    who: Principal,
    project_id: str,
    action: str,
    object_type: str,
    object_id: str,
    detail: str = "",
) -> None:
    """Record an entry in a transaction of its own (a download)."""
    with ctx.db.session() as s:
        record(s, who, project_id, action, object_type, object_id, detail)


def audit_view(e: AuditEvent) -> dict[str, Any]:
    return {
        "at": e.at.isoformat() + "Z",
        "user": e.user_name,
        "project_id": e.project_id,
        "action": e.action,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "detail": e.detail,
    }


def recent_events(ctx: AppContext, who: Principal, limit: int = 200) -> list[AuditEvent]:
    """The newest entries of the caller's projects, newest first."""
    with ctx.db.session() as s:
        return list(
            s.scalars(
                select(AuditEvent)
                .where(AuditEvent.project_id.in_(who.project_ids))
                .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                .limit(limit)
            )
        )
