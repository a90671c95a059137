"""Lessons learned: what worked, what did not, recommendations; searchable, exportable by TLP.

A closed incident carries the lessons. Each lesson has its own TLP, so that an export at a chosen
TLP (for civil-society or private-sector partners) holds only what is marked at or below it.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, or_, select

from rrm.cases.audit import record
from rrm.cases.convert import to_lesson
from rrm.cases.db import CasesDB
from rrm.cases.incidents import editing, get_incident, text_field
from rrm.cases.models import IncidentRow, LessonRow
from rrm.cases.permissions import acting_user
from rrm.cases.values import Incident, LessonHit, jsonable
from rrm.cases.vocab import IncidentStatus, LessonKind, Role, parse_tlp
from rrm.errors import StateError
from rrm.frameworks.tlp import TLP

__all__ = ["ExportFormat", "LessonsExport", "add_lesson", "export_lessons", "search_lessons"]


class ExportFormat(StrEnum):
    MARKDOWN = "markdown"
    JSON = "json"


@dataclass(frozen=True)
class LessonsExport:
    tlp: TLP
    format: ExportFormat
    text: str
    lessons: int
    withheld: int  # lessons left out because they are marked above the chosen TLP


def add_lesson(
    db: CasesDB, actor: str, incident_id: int, kind: LessonKind, text: str, *, tlp: TLP | None = None
) -> Incident:
    """Record a lesson on a closed incident; its TLP defaults to the incident's."""
    body = text_field(text, "text")
    with editing(db, actor, incident_id, Role.ANALYST, "record lessons learned") as (session, user, row):
        if row.status != IncidentStatus.CLOSED.value:
            raise StateError(f"incident {row.id} is {row.status}: lessons learned are recorded once it is closed")
        marking = tlp or parse_tlp(row.tlp)
        session.add(LessonRow(incident_id=row.id, kind=kind.value, text=body, tlp=marking.name,
                              created_by=user.name))
        record(session, user.name, "lesson.add", f"incident {row.id}", incident_id=row.id,
               after={"kind": kind.value, "tlp": marking.name, "text": body})
    return get_incident(db, actor, incident_id)


def _visible(marking: str, ceiling: TLP | None) -> bool:
    return ceiling is None or parse_tlp(marking).rank <= ceiling.rank


def search_lessons(db: CasesDB, actor: str, text: str, *, tlp: TLP | None = None, limit: int = 50) -> list[LessonHit]:
    """Lessons whose text (or incident title) contains every word of ``text``, case-insensitively."""
    words = text.lower().split()
    with db.transaction() as session:
        acting_user(session, actor, Role.VIEWER, "search lessons learned")
        query = select(LessonRow, IncidentRow).join(IncidentRow, LessonRow.incident_id == IncidentRow.id)
        for word in words:
            pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(or_(func.lower(LessonRow.text).like(pattern, escape="\\"),
                                    func.lower(IncidentRow.title).like(pattern, escape="\\")))
        hits: list[LessonHit] = []
        for lesson, incident in session.execute(query.order_by(LessonRow.id.desc())):
            if not _visible(lesson.tlp, tlp):
                continue
            title = incident.title if _visible(incident.tlp, tlp) else None
            hits.append(LessonHit(incident_id=incident.id, incident_title=title, lesson=to_lesson(lesson)))
            if len(hits) >= limit:
                break
        return hits


_HEADINGS = {
    LessonKind.WORKED: "What worked",
    LessonKind.DID_NOT_WORK: "What did not work",
    LessonKind.RECOMMENDATION: "Recommendations",
}


def _markdown(text: str) -> str:
    """Text for Markdown that renders as text: no HTML, no accidental headings or lists."""
    escaped = html.escape(" ".join(text.split()), quote=False)
    return escaped.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_").replace("`", "\\`") \
        .replace("[", "\\[").replace("]", "\\]").replace("#", "\\#")


def export_lessons(
    db: CasesDB, actor: str, tlp: TLP, *, format: ExportFormat = ExportFormat.MARKDOWN,
    incident_ids: list[int] | None = None,
) -> LessonsExport:
    """Lessons learned of closed incidents, holding only what is marked at or below ``tlp``."""
    with db.transaction() as session:
        exporter = acting_user(session, actor, Role.VIEWER, "export lessons learned")
        query = select(IncidentRow).where(IncidentRow.status == IncidentStatus.CLOSED.value)
        if incident_ids:
            query = query.where(IncidentRow.id.in_(incident_ids))
        incidents = session.scalars(query.order_by(IncidentRow.id)).all()
        sections = []
        shown = withheld = 0
        for incident in incidents:
            visible = [x for x in incident.lessons if _visible(x.tlp, tlp)]
            withheld += len(incident.lessons) - len(visible)
            if not visible:
                continue
            shown += len(visible)
            sections.append({
                "incident": incident.id,
                "title": incident.title if _visible(incident.tlp, tlp) else None,
                "lessons": [to_lesson(x) for x in visible],
            })
        record(session, exporter.name, "lessons.export", f"lessons at {tlp.label}",
               after={"tlp": tlp.name, "incidents": [s["incident"] for s in sections], "lessons": shown})
    if format is ExportFormat.JSON:
        body = json.dumps({"tlp": tlp.label, "incidents": jsonable(sections)}, indent=2, ensure_ascii=False)
    else:
        lines = [f"# Lessons learned ({tlp.label})", "",
                 f"Only content marked {tlp.label} or below is included.", ""]
        for section in sections:
            title = section["title"]
            heading = f"Incident {section['incident']}" + (f": {_markdown(str(title))}" if title else "")
            lines += [f"## {heading}", ""]
            lessons = section["lessons"]
            assert isinstance(lessons, list)
            for kind, label in _HEADINGS.items():
                items = [x for x in lessons if x.kind is kind]
                if items:
                    lines += [f"### {label}", ""]
                    lines += [f"- {_markdown(x.text)} ({x.tlp.label})" for x in items]
                    lines.append("")
        if not sections:
            lines.append("No lessons learned at this TLP.")
        body = "\n".join(lines).rstrip() + "\n"
    return LessonsExport(tlp=tlp, format=format, text=body, lessons=shown, withheld=withheld)
