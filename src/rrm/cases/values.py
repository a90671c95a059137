"""What the cases library hands out: frozen values, detached from the database.

These are the models that sharing between nodes (STIX, TAXII) builds on: plain data, no session.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from rrm.cases.vocab import (
    ActionKind,
    ActionStatus,
    FindingKind,
    IncidentStatus,
    LessonKind,
    Likelihood,
    Role,
    Severity,
    Stance,
)
from rrm.frameworks.breakout import BreakoutCategory
from rrm.frameworks.disarm_model import SuggestedCountermeasure
from rrm.frameworks.tlp import TLP

__all__ = [
    "AuditEntry",
    "BreakoutEntry",
    "CountermeasureAdvice",
    "Incident",
    "IncidentSummary",
    "Lesson",
    "LessonHit",
    "LinkedFinding",
    "Note",
    "Partner",
    "PartnerAssessment",
    "ResponseAction",
    "Signature",
    "Source",
    "Statement",
    "TechniqueUse",
    "TimelineEvent",
    "User",
    "jsonable",
]


@dataclass(frozen=True)
class Partner:
    code: str
    name: str
    country: str


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    partner: str  # partner code


@dataclass(frozen=True)
class BreakoutEntry:
    """One assessment on the Breakout Scale; an operation can break out further later."""

    category: BreakoutCategory
    assessed_on: date
    evidence: str
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class TechniqueUse:
    technique_id: str
    name: str
    evidence: str
    added_by: str
    added_at: datetime


@dataclass(frozen=True)
class LinkedFinding:
    kind: FindingKind
    ref: str
    run_id: str | None
    note: str
    added_by: str


@dataclass(frozen=True)
class Source:
    id: int
    description: str
    reference: str
    rating: str  # Admiralty code: source reliability A–F and information credibility 1–6, e.g. "B2"
    added_by: str


@dataclass(frozen=True)
class TimelineEvent:
    id: int
    occurred_at: datetime
    description: str
    reference: str
    added_by: str


@dataclass(frozen=True)
class Note:
    id: int
    author: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class ResponseAction:
    id: int
    kind: ActionKind
    description: str
    owner: str  # partner code
    status: ActionStatus
    due_on: date | None
    created_by: str


@dataclass(frozen=True)
class PartnerAssessment:
    """A partner agrees or disagrees with the incident's assessment, with a confidence 0–100."""

    partner: str
    stance: Stance
    confidence: int
    rationale: str
    assessed_by: str
    assessed_at: datetime


@dataclass(frozen=True)
class Signature:
    partner: str
    signed_by: str
    signed_at: datetime


@dataclass(frozen=True)
class Statement:
    id: int
    incident_id: int
    text: str
    created_by: str
    created_at: datetime
    signatures: tuple[Signature, ...]


@dataclass(frozen=True)
class Lesson:
    id: int
    kind: LessonKind
    text: str
    tlp: TLP
    author: str
    created_at: datetime


@dataclass(frozen=True)
class Incident:
    id: int
    title: str
    summary: str
    status: IncidentStatus
    tlp: TLP
    severity: Severity
    target_country: str | None
    target_process: str | None
    suspected_actor: str | None
    attribution_confidence: Likelihood | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int
    breakout: tuple[BreakoutEntry, ...] = ()
    techniques: tuple[TechniqueUse, ...] = ()
    links: tuple[LinkedFinding, ...] = ()
    sources: tuple[Source, ...] = ()
    timeline: tuple[TimelineEvent, ...] = ()
    notes: tuple[Note, ...] = ()
    actions: tuple[ResponseAction, ...] = ()
    assessments: tuple[PartnerAssessment, ...] = ()
    statements: tuple[Statement, ...] = ()
    lessons: tuple[Lesson, ...] = ()

    @property
    def breakout_category(self) -> BreakoutCategory | None:
        """The latest Breakout Scale category, if one was recorded."""
        return self.breakout[-1].category if self.breakout else None

    @property
    def current_assessments(self) -> tuple[PartnerAssessment, ...]:
        """The latest assessment of each partner."""
        latest: dict[str, PartnerAssessment] = {}
        for assessment in self.assessments:
            latest[assessment.partner] = assessment
        return tuple(latest.values())


@dataclass(frozen=True)
class IncidentSummary:
    id: int
    title: str
    status: IncidentStatus
    tlp: TLP
    severity: Severity
    breakout_category: BreakoutCategory | None
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class AuditEntry:
    """Who did what and when; ``before`` and ``after`` summarise the change (JSON objects)."""

    id: int
    at: datetime
    actor: str
    action: str
    incident_id: int | None
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class CountermeasureAdvice:
    """Countermeasures suggested from DISARM blue for an incident's techniques, with the caveat to show."""

    incident_id: int
    techniques: tuple[str, ...]
    warning: str
    suggestions: tuple[SuggestedCountermeasure, ...]  # best first


@dataclass(frozen=True)
class LessonHit:
    incident_id: int
    incident_title: str | None  # None where the incident's own TLP is above what was asked for
    lesson: Lesson


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: dataclasses, enums (TLP by name), dates, tuples."""
    if isinstance(value, TLP):
        return value.label
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        data = {f.name: jsonable(getattr(value, f.name)) for f in fields(value)}
        if isinstance(value, Incident):
            data["breakout_category"] = value.breakout_category
        return data
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
