"""Rows of the cases store turned into the frozen values of ``rrm.cases.values``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rrm.cases.models import IncidentRow, LessonRow, StatementRow
from rrm.cases.values import (
    BreakoutEntry,
    Incident,
    IncidentSummary,
    Lesson,
    LinkedFinding,
    Note,
    PartnerAssessment,
    ResponseAction,
    Signature,
    Source,
    Statement,
    TechniqueUse,
    TimelineEvent,
)
from rrm.cases.vocab import (
    ActionKind,
    ActionStatus,
    FindingKind,
    IncidentStatus,
    LessonKind,
    Likelihood,
    Severity,
    Stance,
    parse_tlp,
)
from rrm.frameworks.breakout import BreakoutCategory

__all__ = ["aware", "incident_fields", "to_incident", "to_lesson", "to_statement", "to_summary"]


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def incident_fields(row: IncidentRow) -> dict[str, Any]:
    """The incident's own fields, as the audit log summarises them."""
    return {
        "title": row.title, "summary": row.summary, "status": row.status, "tlp": row.tlp,
        "severity": row.severity, "target_country": row.target_country, "target_process": row.target_process,
        "suspected_actor": row.suspected_actor, "attribution_confidence": row.attribution_confidence,
        "version": row.version,
    }


def to_lesson(row: LessonRow) -> Lesson:
    return Lesson(id=row.id, kind=LessonKind(row.kind), text=row.text, tlp=parse_tlp(row.tlp),
                  author=row.created_by, created_at=aware(row.created_at))


def to_statement(row: StatementRow) -> Statement:
    return Statement(
        id=row.id, incident_id=row.incident_id, text=row.text, created_by=row.created_by,
        created_at=aware(row.created_at),
        signatures=tuple(Signature(partner=s.partner.code, signed_by=s.signed_by, signed_at=aware(s.signed_at))
                         for s in row.signatures),
    )


def to_summary(row: IncidentRow) -> IncidentSummary:
    return IncidentSummary(
        id=row.id, title=row.title, status=IncidentStatus(row.status), tlp=parse_tlp(row.tlp),
        severity=Severity(row.severity), breakout_category=BreakoutCategory(row.breakouts[-1].category) if row.breakouts else None,
        version=row.version, updated_at=aware(row.updated_at),
    )


def to_incident(row: IncidentRow) -> Incident:
    return Incident(
        id=row.id, title=row.title, summary=row.summary, status=IncidentStatus(row.status),
        tlp=parse_tlp(row.tlp), severity=Severity(row.severity), target_country=row.target_country,
        target_process=row.target_process, suspected_actor=row.suspected_actor,
        attribution_confidence=Likelihood(row.attribution_confidence) if row.attribution_confidence else None,
        created_by=row.created_by, created_at=aware(row.created_at), updated_at=aware(row.updated_at),
        version=row.version,
        breakout=tuple(BreakoutEntry(category=BreakoutCategory(b.category), assessed_on=b.assessed_on, evidence=b.evidence,
                                     recorded_by=b.created_by, recorded_at=aware(b.created_at))
                       for b in row.breakouts),
        techniques=tuple(TechniqueUse(technique_id=t.technique_id, name=t.name, evidence=t.evidence,
                                      added_by=t.created_by, added_at=aware(t.created_at))
                         for t in row.techniques),
        links=tuple(LinkedFinding(kind=FindingKind(k.kind), ref=k.ref, run_id=k.run_id, note=k.note,
                                  added_by=k.created_by) for k in row.links),
        sources=tuple(Source(id=s.id, description=s.description, reference=s.reference, rating=s.rating,
                             added_by=s.created_by) for s in row.sources),
        timeline=tuple(TimelineEvent(id=e.id, occurred_at=aware(e.occurred_at), description=e.description,
                                     reference=e.reference, added_by=e.created_by) for e in row.timeline),
        notes=tuple(Note(id=n.id, author=n.created_by, text=n.text, created_at=aware(n.created_at))
                    for n in row.notes),
        actions=tuple(ResponseAction(id=a.id, kind=ActionKind(a.kind), description=a.description,
                                     owner=a.owner.code, status=ActionStatus(a.status), due_on=a.due_on,
                                     created_by=a.created_by) for a in row.actions),
        assessments=tuple(PartnerAssessment(partner=a.partner.code, stance=Stance(a.stance),
                                            confidence=a.confidence, rationale=a.rationale,
                                            assessed_by=a.created_by, assessed_at=aware(a.created_at))
                          for a in row.assessments),
        statements=tuple(to_statement(s) for s in row.statements),
        lessons=tuple(to_lesson(x) for x in row.lessons),
    )
