"""Cases: incidents and everything attached to them, in a relational store (SQLite or PostgreSQL).

    >>> from rrm.cases import CasesDB, migrate, open_incident, IncidentDraft
    >>> migrate(url)                                   # doctest: +SKIP
    >>> with CasesDB(url) as db:                       # doctest: +SKIP
    ...     incident = open_incident(db, "alice", IncidentDraft(title="Flooding of #election2025"))

Every operation takes the acting user (a name) and checks their role; every change is written to the
append-only audit log in the same transaction. The values handed out are frozen dataclasses.
"""

from __future__ import annotations

from rrm.cases.access import add_partner, add_user, list_partners, list_users
from rrm.cases.audit import audit_log
from rrm.cases.db import CasesDB, MigrationResult, head_revision, migrate
from rrm.cases.from_findings import BEHAVIOUR_TECHNIQUES, open_from_community, open_from_finding
from rrm.cases.incidents import (
    IncidentChanges,
    IncidentDraft,
    add_event,
    add_note,
    add_source,
    add_technique,
    get_incident,
    link_finding,
    list_incidents,
    open_incident,
    record_breakout,
    transition,
    update_incident,
)
from rrm.cases.lessons import ExportFormat, LessonsExport, add_lesson, export_lessons, search_lessons
from rrm.cases.response import assess, plan_action, sign_statement, suggest_countermeasures, update_action
from rrm.cases.values import (
    AuditEntry,
    BreakoutEntry,
    CountermeasureAdvice,
    Incident,
    IncidentSummary,
    Lesson,
    LessonHit,
    LinkedFinding,
    Note,
    Partner,
    PartnerAssessment,
    ResponseAction,
    Signature,
    Source,
    Statement,
    TechniqueUse,
    TimelineEvent,
    User,
    jsonable,
)
from rrm.cases.vocab import (
    TRANSITIONS,
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

__all__ = [
    "BEHAVIOUR_TECHNIQUES",
    "TRANSITIONS",
    "ActionKind",
    "ActionStatus",
    "AuditEntry",
    "BreakoutEntry",
    "CasesDB",
    "CountermeasureAdvice",
    "ExportFormat",
    "FindingKind",
    "Incident",
    "IncidentChanges",
    "IncidentDraft",
    "IncidentStatus",
    "IncidentSummary",
    "Lesson",
    "LessonHit",
    "LessonKind",
    "LessonsExport",
    "Likelihood",
    "LinkedFinding",
    "MigrationResult",
    "Note",
    "Partner",
    "PartnerAssessment",
    "ResponseAction",
    "Role",
    "Severity",
    "Signature",
    "Source",
    "Stance",
    "Statement",
    "TechniqueUse",
    "TimelineEvent",
    "User",
    "add_event",
    "add_lesson",
    "add_note",
    "add_partner",
    "add_source",
    "add_technique",
    "add_user",
    "assess",
    "audit_log",
    "export_lessons",
    "get_incident",
    "head_revision",
    "jsonable",
    "link_finding",
    "list_incidents",
    "list_partners",
    "list_users",
    "migrate",
    "open_from_community",
    "open_from_finding",
    "open_incident",
    "plan_action",
    "record_breakout",
    "search_lessons",
    "sign_statement",
    "suggest_countermeasures",
    "transition",
    "update_action",
    "update_incident",
]
