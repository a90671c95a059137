"""The relational tables of the cases store (SQLAlchemy 2 typed ORM).

These rows are internal: the library hands out the frozen dataclasses of ``rrm.cases.values``.
Enumerations are stored as their text value in plain string columns, so that the same schema and
migrations work on SQLite and PostgreSQL. The schema itself is made by the Alembic migrations in
``rrm/cases/migrations``; a test checks that they and these classes agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "AuditRow",
    "Base",
    "BreakoutRow",
    "IncidentRow",
    "LessonRow",
    "LinkRow",
    "NoteRow",
    "PartnerAssessmentRow",
    "PartnerRow",
    "ResponseActionRow",
    "SignatureRow",
    "SourceRow",
    "StatementRow",
    "TechniqueRow",
    "TimelineRow",
    "UserRow",
    "utcnow",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class PartnerRow(Base):
    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    partner: Mapped[PartnerRow] = relationship(lazy="joined")


class IncidentRow(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    tlp: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    target_country: Mapped[str | None] = mapped_column(String(2))
    target_process: Mapped[str | None] = mapped_column(String(300))
    suspected_actor: Mapped[str | None] = mapped_column(String(300))
    attribution_confidence: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    breakouts: Mapped[list[BreakoutRow]] = relationship(order_by="BreakoutRow.id")
    techniques: Mapped[list[TechniqueRow]] = relationship(order_by="TechniqueRow.id")
    links: Mapped[list[LinkRow]] = relationship(order_by="LinkRow.id")
    sources: Mapped[list[SourceRow]] = relationship(order_by="SourceRow.id")
    timeline: Mapped[list[TimelineRow]] = relationship(order_by="(TimelineRow.occurred_at, TimelineRow.id)")
    notes: Mapped[list[NoteRow]] = relationship(order_by="NoteRow.id")
    actions: Mapped[list[ResponseActionRow]] = relationship(order_by="ResponseActionRow.id")
    assessments: Mapped[list[PartnerAssessmentRow]] = relationship(order_by="PartnerAssessmentRow.id")
    statements: Mapped[list[StatementRow]] = relationship(order_by="StatementRow.id")
    lessons: Mapped[list[LessonRow]] = relationship(order_by="LessonRow.id")


class _IncidentChild:
    """Columns every attachment of an incident has."""

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BreakoutRow(_IncidentChild, Base):
    __tablename__ = "breakout_assessments"
    __table_args__ = (CheckConstraint("category BETWEEN 1 AND 6", name="ck_breakout_category"),)

    category: Mapped[int] = mapped_column(Integer)
    assessed_on: Mapped[date] = mapped_column(Date)
    evidence: Mapped[str] = mapped_column(Text)


class TechniqueRow(_IncidentChild, Base):
    __tablename__ = "incident_techniques"
    __table_args__ = (UniqueConstraint("incident_id", "technique_id", name="uq_incident_technique"),)

    technique_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(300))
    evidence: Mapped[str] = mapped_column(Text)


class LinkRow(_IncidentChild, Base):
    __tablename__ = "incident_links"
    __table_args__ = (UniqueConstraint("incident_id", "kind", "ref", name="uq_incident_link"),)

    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(2000))
    run_id: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")


class SourceRow(_IncidentChild, Base):
    __tablename__ = "incident_sources"

    description: Mapped[str] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(String(2000), default="")
    rating: Mapped[str] = mapped_column(String(2))


class TimelineRow(_IncidentChild, Base):
    __tablename__ = "timeline_events"

    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    description: Mapped[str] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(String(2000), default="")


class NoteRow(_IncidentChild, Base):
    __tablename__ = "notes"

    text: Mapped[str] = mapped_column(Text)


class ResponseActionRow(_IncidentChild, Base):
    __tablename__ = "response_actions"

    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    owner_partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    status: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[date | None] = mapped_column(Date)

    owner: Mapped[PartnerRow] = relationship(lazy="joined")


class PartnerAssessmentRow(_IncidentChild, Base):
    __tablename__ = "partner_assessments"
    __table_args__ = (CheckConstraint("confidence BETWEEN 0 AND 100", name="ck_assessment_confidence"),)

    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    stance: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[int] = mapped_column(Integer)
    rationale: Mapped[str] = mapped_column(Text, default="")

    partner: Mapped[PartnerRow] = relationship(lazy="joined")


class StatementRow(_IncidentChild, Base):
    __tablename__ = "statements"

    text: Mapped[str] = mapped_column(Text)

    signatures: Mapped[list[SignatureRow]] = relationship(order_by="SignatureRow.id", lazy="selectin")


class SignatureRow(Base):
    __tablename__ = "statement_signatures"
    __table_args__ = (UniqueConstraint("statement_id", "partner_id", name="uq_statement_partner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    signed_by: Mapped[str] = mapped_column(String(100))
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    partner: Mapped[PartnerRow] = relationship(lazy="joined")


class LessonRow(_IncidentChild, Base):
    __tablename__ = "lessons"

    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    tlp: Mapped[str] = mapped_column(String(16))


class AuditRow(Base):
    """One entry of the append-only audit log. No code path updates or deletes it; triggers refuse it."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(64))
    incident_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no foreign key: the log outlives rows
    target: Mapped[str] = mapped_column(String(200))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
