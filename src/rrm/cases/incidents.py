"""Incidents: open, read, update with optimistic locking, move through the workflow, attach evidence.

Every change runs in one transaction with its audit entry, as an acting user whose role is checked.
Each incident carries a ``version``: a change based on a stale version raises ``ConflictError``,
so that a second writer never silently overwrites the first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from rrm.cases.audit import record
from rrm.cases.convert import incident_fields, to_incident, to_summary
from rrm.cases.db import CasesDB
from rrm.cases.models import (
    AuditRow,
    BreakoutRow,
    IncidentRow,
    LinkRow,
    NoteRow,
    SourceRow,
    StatementRow,
    TechniqueRow,
    TimelineRow,
    UserRow,
    utcnow,
)
from rrm.cases.permissions import acting_user, country_code, require_role
from rrm.cases.values import Incident, IncidentSummary
from rrm.cases.vocab import TRANSITIONS, FindingKind, IncidentStatus, Likelihood, Role, Severity
from rrm.errors import ConflictError, InputError, InvalidTransitionError, NotFoundError
from rrm.frameworks.admiralty import AdmiraltyRating
from rrm.frameworks.breakout import BreakoutCategory
from rrm.frameworks.disarm import load_disarm
from rrm.frameworks.tlp import TLP

__all__ = [
    "IncidentChanges",
    "IncidentDraft",
    "add_event",
    "add_note",
    "add_source",
    "add_technique",
    "editing",
    "get_incident",
    "link_finding",
    "list_incidents",
    "open_incident",
    "record_breakout",
    "text_field",
    "transition",
    "update_incident",
]

_LIMITS = {"title": 300, "target_process": 300, "suspected_actor": 300, "reference": 2000, "ref": 2000}
_TEXT_LIMIT = 100_000


def text_field(value: str, field: str, *, required: bool = True) -> str:
    """Untrusted text: stripped, not empty where required, within the column's length."""
    text = value.strip()
    if required and not text:
        raise InputError("must not be empty", field=field)
    limit = _LIMITS.get(field, _TEXT_LIMIT)
    if len(text) > limit:
        raise InputError(f"is {len(text):,} characters long, the limit is {limit:,}", field=field)
    return text


@dataclass(frozen=True)
class IncidentDraft:
    """What an analyst knows when opening an incident."""

    title: str
    summary: str = ""
    tlp: TLP = TLP.AMBER
    severity: Severity = Severity.MODERATE
    target_country: str | None = None
    target_process: str | None = None  # the election or process targeted
    suspected_actor: str | None = None
    attribution_confidence: Likelihood | None = None


@dataclass(frozen=True)
class IncidentChanges:
    """Fields to change; ``None`` leaves a field as it is, an empty string clears an optional one."""

    title: str | None = None
    summary: str | None = None
    tlp: TLP | None = None
    severity: Severity | None = None
    target_country: str | None = None
    target_process: str | None = None
    suspected_actor: str | None = None
    attribution_confidence: Likelihood | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


_EAGER = (
    selectinload(IncidentRow.breakouts), selectinload(IncidentRow.techniques), selectinload(IncidentRow.links),
    selectinload(IncidentRow.sources), selectinload(IncidentRow.timeline), selectinload(IncidentRow.notes),
    selectinload(IncidentRow.actions), selectinload(IncidentRow.assessments),
    selectinload(IncidentRow.statements).selectinload(StatementRow.signatures),
    selectinload(IncidentRow.lessons),
)


def _load(session: Session, incident_id: int) -> IncidentRow:
    row = session.get(IncidentRow, incident_id, options=_EAGER)
    if row is None:
        raise NotFoundError(f"no incident {incident_id}")
    return row


def _stale(session: Session, row: IncidentRow, expected: int) -> ConflictError:
    last = session.scalars(
        select(AuditRow).where(AuditRow.incident_id == row.id).order_by(AuditRow.id.desc()).limit(1)
    ).first()
    by = f" by {last.actor} ({last.action})" if last is not None else ""
    return ConflictError(
        f"incident {row.id} is at version {row.version}, your change was based on version {expected}: "
        f"it was changed{by} in the meantime; nothing was overwritten, reload it and apply your change again"
    )


@contextmanager
def editing(
    db: CasesDB, actor: str, incident_id: int, needed: Role, action: str, expected_version: int | None = None
) -> Iterator[tuple[Session, UserRow, IncidentRow]]:
    """A transaction changing one incident: the user checked, the version checked, then bumped."""
    with db.transaction() as session:
        user = acting_user(session, actor, needed, action)
        row = _load(session, incident_id)
        if expected_version is not None and row.version != expected_version:
            raise _stale(session, row, expected_version)
        yield session, user, row
        row.updated_at = utcnow()  # bumps the version through the mapper's version counter
        session.flush()


def _result(db: CasesDB, incident_id: int) -> Incident:
    with db.transaction() as session:
        return to_incident(_load(session, incident_id))


def open_incident(db: CasesDB, actor: str, draft: IncidentDraft) -> Incident:
    """Open a new incident, in ``draft`` status."""
    with db.transaction() as session:
        user = acting_user(session, actor, Role.ANALYST, "open incidents")
        row = IncidentRow(
            title=text_field(draft.title, "title"), summary=text_field(draft.summary, "summary", required=False),
            status=IncidentStatus.DRAFT.value, tlp=draft.tlp.name, severity=draft.severity.value,
            target_country=country_code(draft.target_country, field="target_country") if draft.target_country
            else None,
            target_process=text_field(draft.target_process, "target_process", required=False) or None
            if draft.target_process else None,
            suspected_actor=text_field(draft.suspected_actor, "suspected_actor", required=False) or None
            if draft.suspected_actor else None,
            attribution_confidence=draft.attribution_confidence.value if draft.attribution_confidence else None,
            created_by=user.name,
        )
        session.add(row)
        session.flush()
        record(session, user.name, "incident.open", f"incident {row.id}", incident_id=row.id,
               after=incident_fields(row))
        incident_id = row.id
    return _result(db, incident_id)


def get_incident(db: CasesDB, actor: str, incident_id: int) -> Incident:
    with db.transaction() as session:
        acting_user(session, actor, Role.VIEWER, "read incidents")
        return to_incident(_load(session, incident_id))


def list_incidents(db: CasesDB, actor: str, *, status: IncidentStatus | None = None) -> list[IncidentSummary]:
    """Incidents, most recently changed first."""
    with db.transaction() as session:
        acting_user(session, actor, Role.VIEWER, "list incidents")
        query = select(IncidentRow).options(selectinload(IncidentRow.breakouts))
        if status is not None:
            query = query.where(IncidentRow.status == status.value)
        rows = session.scalars(query.order_by(IncidentRow.updated_at.desc(), IncidentRow.id.desc())).all()
        return [to_summary(row) for row in rows]


def _changed_values(changes: IncidentChanges) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if changes.title is not None:
        values["title"] = text_field(changes.title, "title")
    if changes.summary is not None:
        values["summary"] = text_field(changes.summary, "summary", required=False)
    if changes.tlp is not None:
        values["tlp"] = changes.tlp.name
    if changes.severity is not None:
        values["severity"] = changes.severity.value
    if changes.target_country is not None:
        values["target_country"] = (
            country_code(changes.target_country, field="target_country") if changes.target_country.strip() else None
        )
    for name in ("target_process", "suspected_actor"):
        value = getattr(changes, name)
        if value is not None:
            values[name] = text_field(value, name, required=False) or None
    if changes.attribution_confidence is not None:
        values["attribution_confidence"] = changes.attribution_confidence.value
    return values


def update_incident(
    db: CasesDB, actor: str, incident_id: int, expected_version: int, changes: IncidentChanges
) -> Incident:
    """Change an incident's fields, based on the version the analyst saw. Lowering the TLP needs a lead."""
    values = _changed_values(changes)
    if not values:
        raise InputError("nothing to change", field="changes")
    with editing(db, actor, incident_id, Role.ANALYST, "edit incidents", expected_version) as (session, user, row):
        if changes.tlp is not None and changes.tlp.rank < TLP[row.tlp].rank:
            require_role(user, Role.LEAD, f"lower the TLP of incident {row.id} from "
                                          f"{TLP[row.tlp].label} to {changes.tlp.label}")
        before = {name: getattr(row, name) for name in values}
        for name, value in values.items():
            setattr(row, name, value)
        record(session, user.name, "incident.update", f"incident {row.id}", incident_id=row.id,
               before=before | {"version": row.version}, after=values | {"version": row.version + 1})
    return _result(db, incident_id)


def transition(
    db: CasesDB, actor: str, incident_id: int, status: IncidentStatus, *, expected_version: int | None = None
) -> Incident:
    """Move an incident along draft → assessed → shared → responding → closed. Closing needs a lead."""
    with editing(db, actor, incident_id, Role.ANALYST, "change the status of incidents", expected_version) as (
        session, user, row,
    ):
        current = IncidentStatus(row.status)
        needed = Role.LEAD if IncidentStatus.CLOSED in (current, status) else Role.ANALYST
        if status not in TRANSITIONS[current]:
            allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current]))
            raise InvalidTransitionError(
                f"incident {row.id} is {current}: it cannot become {status} (from {current}: {allowed})",
                current=current.value, requested=status.value,
            )
        require_role(user, needed, f"move incident {row.id} from {current} to {status}")
        row.status = status.value
        record(session, user.name, "incident.transition", f"incident {row.id}", incident_id=row.id,
               before={"status": current.value}, after={"status": status.value})
    return _result(db, incident_id)


def add_technique(
    db: CasesDB, actor: str, incident_id: int, technique_id: str, evidence: str, *,
    expected_version: int | None = None,
) -> Incident:
    """Attach a DISARM technique with the evidence for it; unknown ids are rejected.

    Adding a technique already attached appends the new evidence to it.
    """
    technique = load_disarm().technique(technique_id.strip().upper())
    text = text_field(evidence, "evidence")
    with editing(db, actor, incident_id, Role.ANALYST, "edit incidents", expected_version) as (session, user, row):
        existing = next((t for t in row.techniques if t.technique_id == technique.id), None)
        if existing is None:
            session.add(TechniqueRow(incident_id=row.id, technique_id=technique.id, name=technique.name,
                                     evidence=text, created_by=user.name))
            before = None
        else:
            before = {"evidence": existing.evidence}
            existing.evidence = f"{existing.evidence}\n{text}"
        record(session, user.name, "incident.technique", f"incident {row.id} technique {technique.id}",
               incident_id=row.id, before=before, after={"technique": technique.id, "evidence": text})
    return _result(db, incident_id)


def record_breakout(
    db: CasesDB, actor: str, incident_id: int, category: BreakoutCategory | int | str, evidence: str, *,
    assessed_on: date | None = None,
) -> Incident:
    """Record the Breakout Scale category (1–6) reached, on a date, with the evidence; history is kept."""
    category = BreakoutCategory.parse(category)
    text = text_field(evidence, "evidence")
    with editing(db, actor, incident_id, Role.ANALYST, "edit incidents") as (session, user, row):
        previous = row.breakouts[-1].category if row.breakouts else None
        session.add(BreakoutRow(incident_id=row.id, category=int(category), evidence=text, created_by=user.name,
                                assessed_on=assessed_on or datetime.now(UTC).date()))
        record(session, user.name, "incident.breakout", f"incident {row.id}", incident_id=row.id,
               before={"category": previous}, after={"category": int(category), "evidence": text})
    return _result(db, incident_id)


def link_finding(
    db: CasesDB, actor: str, incident_id: int, kind: FindingKind, ref: str, *, run_id: str | None = None,
    note: str = "",
) -> Incident:
    """Link a finding (community, account, post, URL, domain) to the incident; linking twice is a no-op."""
    reference = text_field(ref, "ref")
    if kind is FindingKind.URL and not reference.lower().startswith(("http://", "https://")):
        raise InputError(f"{reference!r} is not an http(s) URL", field="ref")
    with editing(db, actor, incident_id, Role.ANALYST, "edit incidents") as (session, user, row):
        if not any(k.kind == kind.value and k.ref == reference for k in row.links):
            session.add(LinkRow(incident_id=row.id, kind=kind.value, ref=reference, run_id=run_id,
                                note=text_field(note, "note", required=False), created_by=user.name))
            record(session, user.name, "incident.link", f"incident {row.id} {kind} {reference}"[:200],
                   incident_id=row.id, after={"kind": kind.value, "ref": reference, "run_id": run_id})
    return _result(db, incident_id)


def add_source(
    db: CasesDB, actor: str, incident_id: int, description: str, rating: str, *, reference: str = ""
) -> Incident:
    """Cite a source with its Admiralty rating (source reliability A–F, information credibility 1–6)."""
    code = AdmiraltyRating.parse(rating).code
    text = text_field(description, "description")
    with editing(db, actor, incident_id, Role.ANALYST, "edit incidents") as (session, user, row):
        session.add(SourceRow(incident_id=row.id, description=text, rating=code,
                              reference=text_field(reference, "reference", required=False), created_by=user.name))
        record(session, user.name, "incident.source", f"incident {row.id}", incident_id=row.id,
               after={"rating": code, "description": text})
    return _result(db, incident_id)


def add_event(
    db: CasesDB, actor: str, incident_id: int, occurred_at: datetime, description: str, *, reference: str = ""
) -> Incident:
    """Add an event to the incident's timeline (kept in time order)."""
    moment = occurred_at if occurred_at.tzinfo else occurred_at.replace(tzinfo=UTC)
    text = text_field(description, "description")
    with editing(db, actor, incident_id, Role.ANALYST, "edit incidents") as (session, user, row):
        session.add(TimelineRow(incident_id=row.id, occurred_at=moment.astimezone(UTC), description=text,
                                reference=text_field(reference, "reference", required=False), created_by=user.name))
        record(session, user.name, "incident.event", f"incident {row.id}", incident_id=row.id,
               after={"occurred_at": moment.isoformat(), "description": text})
    return _result(db, incident_id)


def add_note(db: CasesDB, actor: str, incident_id: int, text: str) -> Incident:
    """An analyst's note on the incident."""
    body = text_field(text, "text")
    with editing(db, actor, incident_id, Role.ANALYST, "edit incidents") as (session, user, row):
        session.add(NoteRow(incident_id=row.id, text=body, created_by=user.name))
        record(session, user.name, "incident.note", f"incident {row.id}", incident_id=row.id, after={"text": body})
    return _result(db, incident_id)
