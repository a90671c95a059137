"""The append-only audit log: who did what and when, with before/after summaries.

Entries are only ever added (:func:`record`, in the same transaction as the change they describe);
there is no code path that changes or removes one, and database triggers refuse UPDATE and DELETE.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rrm.cases.convert import aware
from rrm.cases.db import CasesDB
from rrm.cases.models import AuditRow
from rrm.cases.permissions import acting_user
from rrm.cases.values import AuditEntry
from rrm.cases.vocab import Role

__all__ = ["audit_log", "record"]


def _dump(summary: dict[str, Any] | None) -> str | None:
    return None if summary is None else json.dumps(summary, sort_keys=True, ensure_ascii=False, default=str)


def record(
    session: Session,
    actor: str,
    action: str,
    target: str,
    *,
    incident_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add one entry to the audit log, inside the caller's transaction."""
    session.add(AuditRow(actor=actor, action=action, target=target, incident_id=incident_id,
                         before=_dump(before), after=_dump(after)))


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id, at=aware(row.at), actor=row.actor, action=row.action, incident_id=row.incident_id,
        target=row.target, before=json.loads(row.before) if row.before else None,
        after=json.loads(row.after) if row.after else None,
    )


def audit_log(
    db: CasesDB, actor: str, *, incident_id: int | None = None, user: str | None = None, limit: int = 200
) -> list[AuditEntry]:
    """The latest ``limit`` entries, oldest first, of one incident and/or one user."""
    with db.transaction() as session:
        acting_user(session, actor, Role.VIEWER, "read the audit log")
        query = select(AuditRow)
        if incident_id is not None:
            query = query.where(AuditRow.incident_id == incident_id)
        if user is not None:
            query = query.where(AuditRow.actor == user)
        rows = session.scalars(query.order_by(AuditRow.id.desc()).limit(limit)).all()
        return [_entry(row) for row in reversed(rows)]
