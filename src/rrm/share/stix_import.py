"""Import of STIX 2.1 bundles (and the storage shared with the MISP import): partners' incidents become
incidents here, in one transaction.

    >>> bundle = read_bundle(Path("incident.json").read_bytes(), source="incident.json")     # doctest: +SKIP
    >>> result = import_stix(db, "ana", bundle, source="incident.json", from_partner="FR")   # doctest: +SKIP

- ``incident`` objects (with the ``report`` wrapping them) and ``report``\\ s that wrap no incident (as
  OpenCTI exports them) become incidents; DISARM attack-patterns become techniques, ``url``,
  ``domain-name`` and ``user-account`` observables (and simple indicator patterns) linked findings,
  ``note``\\ s notes, ``opinion``\\ s partner assessments, RRM's ``course-of-action``\\ s response actions,
  ``threat-actor``/``intrusion-set`` the suspected actor; ``sighting``\\ s are kept (and shared again).
- Every object is checked first (malformed or unknown objects are refused, the error names the object
  and field); only then is anything written, all of it in one transaction.
- Which local incident a received one updates is kept in the append-only audit log: every import writes
  a ``share.import`` entry whose target is the received id (``incident--…``, ``report--…`` or
  ``misp-event--…``) and whose ``after`` holds the received version, the local version it produced, the
  creator's identity and the sightings. A newer received version (STIX ``modified``) updates the incident;
  an older or equal one is left; one whose local incident was changed here since the last import is
  **not** applied (a conflict, reported), so a newer local version is never silently overwritten.
- A bundle with attack-patterns and no incident or report is read as DISARM's framework bundle: checked
  against RRM's DISARM, its attack-pattern ids kept for exports.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from rrm.cases.audit import record
from rrm.cases.db import CasesDB
from rrm.cases.incidents import text_field
from rrm.cases.models import (
    AuditRow,
    BreakoutRow,
    IncidentRow,
    LinkRow,
    NoteRow,
    PartnerAssessmentRow,
    ResponseActionRow,
    SourceRow,
    TechniqueRow,
    TimelineRow,
)
from rrm.cases.permissions import acting_user, country_code, partner_by_code
from rrm.cases.vocab import (
    ActionKind,
    ActionStatus,
    FindingKind,
    IncidentStatus,
    Likelihood,
    Role,
    Severity,
    Stance,
    parse_choice,
)
from rrm.errors import InputError, RRMError
from rrm.frameworks.admiralty import AdmiraltyRating
from rrm.frameworks.breakout import BreakoutCategory
from rrm.frameworks.disarm import load_disarm
from rrm.frameworks.tlp import TLP
from rrm.share.stix_export import (
    DisarmStixIndex,
    NodeIdentity,
    Origin,
    disarm_external_id,
    likelihood_of,
    local_incident_stix_id,
)
from rrm.share.taxii.validate import checked_objects

__all__ = [
    "IMPORT_ACTION",
    "DisarmCheck",
    "ImportOutcome",
    "ImportResult",
    "IncomingIncident",
    "apply_incoming",
    "import_stix",
    "origin_of",
    "read_bundle",
    "received_key_of",
]

E = TypeVar("E", bound=StrEnum)
IMPORT_ACTION = "share.import"
MAX_SIGHTINGS = 2000


@dataclass(frozen=True)
class IncomingIncident:
    """One incident as a partner sent it, checked, ready to store."""

    key: str  # the received id: "incident--…", "report--…" or "misp-event--…"
    created: datetime
    modified: datetime
    title: str
    summary: str = ""
    tlp: TLP = TLP.AMBER
    status: IncidentStatus = IncidentStatus.DRAFT
    severity: Severity = Severity.MODERATE
    target_country: str | None = None
    target_process: str | None = None
    suspected_actor: str | None = None
    attribution_confidence: Likelihood | None = None
    breakout: tuple[tuple[int, date, str, datetime], ...] = ()  # category, assessed on, evidence, recorded at
    techniques: tuple[tuple[str, str, str, datetime], ...] = ()  # id, name, evidence, added at
    links: tuple[tuple[FindingKind, str, str], ...] = ()  # kind, ref, note
    sources: tuple[tuple[str, str, str], ...] = ()  # description, reference, Admiralty rating
    timeline: tuple[tuple[datetime, str, str], ...] = ()  # occurred at, description, reference
    notes: tuple[tuple[datetime, str], ...] = ()
    actions: tuple[tuple[ActionKind, str, str, ActionStatus, date | None], ...] = ()  # kind, text, owner, status, due
    assessments: tuple[tuple[str, Stance, int, str, datetime], ...] = ()  # partner, stance, confidence, why, at
    origin: Mapping[str, Any] | None = None  # the creator's identity object
    sightings: tuple[Mapping[str, Any], ...] = ()
    local_id: int | None = None  # set when the received incident is this node's own


@dataclass(frozen=True)
class ImportOutcome:
    key: str
    incident_id: int | None
    action: Literal["created", "updated", "unchanged", "conflict"]
    detail: str


def _naive_safe(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _last_import(session: Session, *, key: str | None = None, incident_id: int | None = None) -> AuditRow | None:
    query = select(AuditRow).where(AuditRow.action == IMPORT_ACTION)
    if key is not None:
        query = query.where(AuditRow.target == key[:200])
    if incident_id is not None:
        query = query.where(AuditRow.incident_id == incident_id)
    return session.scalars(query.order_by(AuditRow.id.desc()).limit(1)).first()


def origin_of(db: CasesDB, incident_id: int) -> Origin | None:
    """Where an incident came from, if it was received from a partner in STIX."""
    with db.transaction() as session:
        row = _last_import(session, incident_id=incident_id)
        if row is None or not row.after:
            return None
        after = json.loads(row.after)
    key = str(after.get("key", ""))
    if not key.startswith("incident--"):
        return None
    sightings = tuple(s for s in after.get("sightings", []) if isinstance(s, dict))
    return Origin(key, after.get("origin"), sightings)


def received_key_of(db: CasesDB, incident_id: int) -> str | None:
    """The id under which an incident was received (``incident--…`` or ``misp-event--…``), if it was."""
    with db.transaction() as session:
        row = _last_import(session, incident_id=incident_id)
        return None if row is None else json.loads(row.after or "{}").get("key")


def apply_incoming(
    db: CasesDB, actor: str, incoming: Sequence[IncomingIncident], *, source: str, from_partner: str | None = None,
    fmt: str = "stix",
) -> list[ImportOutcome]:
    """Store the received incidents, all or nothing: new ones created, newer versions applied."""
    outcomes: list[ImportOutcome] = []
    with db.transaction() as session:
        user = acting_user(session, actor, Role.ANALYST, "import incidents from partners")
        for item in incoming:
            outcomes.append(_apply_one(session, user.name, item, source=source, from_partner=from_partner, fmt=fmt))
    return outcomes


def _apply_one(
    session: Session, actor: str, item: IncomingIncident, *, source: str, from_partner: str | None, fmt: str
) -> ImportOutcome:
    if item.local_id is not None:
        own = session.get(IncidentRow, item.local_id)
        if own is not None:
            if _naive_safe(own.updated_at) >= item.modified:
                return ImportOutcome(item.key, own.id, "unchanged", "this node's own incident, as new here or newer")
            return ImportOutcome(item.key, own.id, "conflict",
                                 "a newer version of this node's own incident came back from a partner: not applied, "
                                 "compare it and update the incident by hand")
    last = _last_import(session, key=item.key)
    if last is None:
        row = IncidentRow(created_by=actor, created_at=item.created, version=1)
        _set_fields(row, item)
        session.add(row)
        session.flush()
        _add_children(session, row, item, actor)
        session.flush()
        _record(session, actor, row, item, source=source, from_partner=from_partner, fmt=fmt)
        return ImportOutcome(item.key, row.id, "created", f"new incident {row.id}")
    after = json.loads(last.after or "{}")
    found = session.get(IncidentRow, last.incident_id)
    if found is None:  # pragma: no cover - incidents are never deleted
        raise LookupError(last.incident_id)
    row = found
    received = datetime.fromisoformat(str(after["modified"]))
    if item.modified <= received:
        return ImportOutcome(item.key, row.id, "unchanged",
                             f"version {item.modified.isoformat()} is not newer than the one received before")
    if row.version != after.get("version"):
        return ImportOutcome(item.key, row.id, "conflict",
                             f"incident {row.id} was changed here since the last import (version {after.get('version')}"
                             f" → {row.version}): the partner's newer version was not applied, nothing was overwritten")
    _set_fields(row, item)
    _add_children(session, row, item, actor)
    session.flush()
    _record(session, actor, row, item, source=source, from_partner=from_partner, fmt=fmt)
    return ImportOutcome(item.key, row.id, "updated", f"incident {row.id} updated to the partner's newer version")


def _set_fields(row: IncidentRow, item: IncomingIncident) -> None:
    row.title = text_field(item.title, "title")
    row.summary = text_field(item.summary, "summary", required=False)
    row.status = item.status.value
    row.tlp = item.tlp.name
    row.severity = item.severity.value
    row.target_country = item.target_country
    row.target_process = item.target_process
    row.suspected_actor = item.suspected_actor
    row.attribution_confidence = item.attribution_confidence.value if item.attribution_confidence else None
    row.updated_at = item.modified


def _add_children(session: Session, row: IncidentRow, item: IncomingIncident, actor: str) -> None:
    """Adds what the incident does not hold yet; what was recorded here stays."""
    session.flush()
    session.refresh(row)
    have_breakout = {(b.category, b.assessed_on, b.evidence) for b in row.breakouts}
    for category, on, evidence, at in item.breakout:
        if (category, on, evidence) not in have_breakout:
            session.add(BreakoutRow(incident_id=row.id, category=category, assessed_on=on, evidence=evidence,
                                    created_by=actor, created_at=at))
    have_techniques = {t.technique_id: t for t in row.techniques}
    for tid, name, evidence, at in item.techniques:
        if tid not in have_techniques:
            session.add(TechniqueRow(incident_id=row.id, technique_id=tid, name=name, evidence=evidence,
                                     created_by=actor, created_at=at))
        elif evidence not in have_techniques[tid].evidence:
            have_techniques[tid].evidence = f"{have_techniques[tid].evidence}\n{evidence}"
    have_links = {(k.kind, k.ref) for k in row.links}
    for kind, ref, note in item.links:
        if (kind.value, ref) not in have_links:
            session.add(LinkRow(incident_id=row.id, kind=kind.value, ref=ref, note=note, created_by=actor))
            have_links.add((kind.value, ref))
    have_sources = {(s.description, s.reference, s.rating) for s in row.sources}
    for description, reference, rating in item.sources:
        if (description, reference, rating) not in have_sources:
            session.add(SourceRow(incident_id=row.id, description=description, reference=reference, rating=rating,
                                  created_by=actor))
    have_events = {(_naive_safe(e.occurred_at), e.description) for e in row.timeline}
    for moment, description, reference in item.timeline:
        if (moment, description) not in have_events:
            session.add(TimelineRow(incident_id=row.id, occurred_at=moment, description=description,
                                    reference=reference, created_by=actor))
    have_notes = {(_naive_safe(n.created_at), n.text) for n in row.notes}
    for at, text in item.notes:
        if (at, text) not in have_notes:
            session.add(NoteRow(incident_id=row.id, text=text, created_by=actor, created_at=at))
    have_actions = {(a.kind, a.description) for a in row.actions}
    for action_kind, description, owner, status, due in item.actions:
        if (action_kind.value, description) not in have_actions:
            session.add(ResponseActionRow(incident_id=row.id, kind=action_kind.value, description=description,
                                          owner=partner_by_code(session, owner), status=status.value, due_on=due,
                                          created_by=actor))
    have_assessments = {(a.partner.code, _naive_safe(a.created_at)) for a in row.assessments}
    for partner, stance, confidence, rationale, at in item.assessments:
        if (partner, at) not in have_assessments:
            session.add(PartnerAssessmentRow(incident_id=row.id, partner=partner_by_code(session, partner),
                                             stance=stance.value, confidence=confidence, rationale=rationale,
                                             created_by=actor, created_at=at))


def _record(
    session: Session, actor: str, row: IncidentRow, item: IncomingIncident, *, source: str,
    from_partner: str | None, fmt: str,
) -> None:
    record(session, actor, IMPORT_ACTION, item.key, incident_id=row.id, after={
        "key": item.key, "format": fmt, "modified": item.modified.isoformat(), "version": row.version,
        "source": source[:500], "from": from_partner, "origin": dict(item.origin) if item.origin else None,
        "sightings": [dict(s) for s in item.sightings[:MAX_SIGHTINGS]],
    })


# --- STIX 2.1 bundles ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DisarmCheck:
    """What a DISARM framework bundle held, and whether RRM understood it."""

    attack_patterns: int
    mapped: int
    unknown: tuple[str, ...]  # DISARM ids in the bundle that RRM's DISARM does not know
    missing: tuple[str, ...]  # RRM's DISARM techniques the bundle lacks
    index: DisarmStixIndex


@dataclass(frozen=True)
class ImportResult:
    source: str
    outcomes: tuple[ImportOutcome, ...] = ()
    ignored: Mapping[str, int] = field(default_factory=dict)  # object types not turned into anything
    warnings: tuple[str, ...] = ()
    disarm: DisarmCheck | None = None





def _moment(value: object, place: str, name: str) -> datetime:
    if not isinstance(value, str):
        raise InputError("is not a timestamp", source=place, field=name)
    try:
        return _naive_safe(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        raise InputError(f"{value[:40]!r} is not a timestamp", source=place, field=name) from None


def _text(value: object, place: str, name: str, *, limit: int = 100_000, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InputError("is not text", source=place, field=name)
    text = value.strip()
    if required and not text:
        raise InputError("must not be empty", source=place, field=name)
    if len(text) > limit:
        raise InputError(f"is {len(text):,} characters long, the limit is {limit:,}", source=place, field=name)
    return text


def read_bundle(raw: bytes | str, *, source: str) -> dict[str, Any]:
    """The JSON bundle in ``raw``, checked to be a STIX 2.1 bundle of valid objects (errors name the object)."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"is not JSON: {exc}", source=source) from exc
    if not isinstance(data, dict) or data.get("type") != "bundle" or not isinstance(data.get("objects", []), list):
        raise InputError("is not a STIX bundle (type 'bundle' with a list of objects)", source=source)
    try:
        checked_objects(data.get("objects", []))
    except InputError as exc:
        raise InputError(exc.reason, source=f"{source}, {exc.source}" if exc.source else source,
                         field=exc.field) from exc
    return data


def _tlp_of(obj: Mapping[str, Any]) -> TLP | None:
    levels = [TLP.from_marking_ref(str(ref)) for ref in obj.get("object_marking_refs") or []]
    known = [level for level in levels if level is not None]
    return max(known) if known else None


def _choice(enum: type[E], value: object, default: E, place: str, name: str) -> E:
    if value is None:
        return default
    return parse_choice(enum, _text(value, place, name, limit=64), field=name) if isinstance(value, str) else \
        _bad(place, name)


def _bad(place: str, name: str) -> Any:
    raise InputError("has an unusable value", source=place, field=name)


_PATTERN = re.compile(r"^\[(url|domain-name):value\s*=\s*'((?:[^'\\]|\\.)*)'\]$")


class _Bundle:
    """Lookups over one checked bundle."""

    def __init__(self, objects: Sequence[Mapping[str, Any]], source: str) -> None:
        self.source = source
        self.by_id = {str(o["id"]): o for o in objects}
        self.relationships = [o for o in objects if o["type"] == "relationship"]

    def place(self, obj: Mapping[str, Any]) -> str:
        return f"{self.source}, {obj['id']}"

    def related(self, kind: str, *, source: str | None = None, target: str | None = None) -> list[Mapping[str, Any]]:
        return [r for r in self.relationships if r.get("relationship_type") == kind
                and (source is None or r.get("source_ref") == source) and (target is None or r.get("target_ref") == target)]


def import_stix(
    db: CasesDB, actor: str, bundle: Mapping[str, Any], *, source: str, from_partner: str | None = None,
    node: NodeIdentity | None = None, disarm_index_path: Path | None = None,
) -> ImportResult:
    """Incidents (or reports) of a checked STIX bundle become incidents here, in one transaction.

    A DISARM framework bundle (attack-patterns, no incident or report) is checked against RRM's DISARM and
    its attack-pattern ids kept at ``disarm_index_path`` for exports.
    """
    objects = list(bundle.get("objects", []))
    checked_objects(objects)
    data = _Bundle(objects, source)
    subjects = _subjects(data)
    if not subjects:
        check = _disarm_check(objects)
        if check.attack_patterns and disarm_index_path is not None:
            check.index.save(disarm_index_path)
        return ImportResult(source, ignored=_ignored(objects, set()), disarm=check if check.attack_patterns else None)
    warnings: list[str] = []
    own = _own_incidents(db, node)
    incoming: list[IncomingIncident] = []
    used: set[str] = set()
    for subject, scope in subjects:
        incoming.append(_incoming(data, subject, scope, from_partner, own, warnings, used))
    outcomes = apply_incoming(db, actor, incoming, source=source, from_partner=from_partner)
    return ImportResult(source, tuple(outcomes), _ignored(objects, used), tuple(warnings))


def _subjects(data: _Bundle) -> list[tuple[Mapping[str, Any], list[Mapping[str, Any]]]]:
    """Each incident (with the objects of the report wrapping it, else the whole bundle) and each report that
    wraps no incident (with its ``object_refs``)."""
    objects = list(data.by_id.values())
    incidents = [o for o in objects if o["type"] == "incident"]
    reports = [o for o in objects if o["type"] == "report"]
    found: list[tuple[Mapping[str, Any], list[Mapping[str, Any]]]] = []
    for incident in incidents:
        wrapper = next((r for r in reports if incident["id"] in r.get("object_refs", [])), None)
        scope = [data.by_id[i] for i in wrapper["object_refs"] if i in data.by_id] if wrapper else objects
        found.append((incident, [*scope, *([wrapper] if wrapper else [])]))
    for report in reports:
        if not any(str(ref).startswith("incident--") for ref in report.get("object_refs", [])):
            found.append((report, [data.by_id[i] for i in report.get("object_refs", []) if i in data.by_id]))
    return found


def _disarm_check(objects: Sequence[Mapping[str, Any]]) -> DisarmCheck:
    disarm = load_disarm()
    known = {t.id for t in disarm.techniques()}
    index = DisarmStixIndex.from_objects(objects)
    patterns = sum(1 for o in objects if o.get("type") == "attack-pattern")
    unknown = tuple(sorted(t for t in index.patterns if t not in known))
    missing = tuple(sorted(known - set(index.patterns)))
    return DisarmCheck(patterns, len(index.patterns) - len(unknown), unknown, missing, index)


def _ignored(objects: Sequence[Mapping[str, Any]], used: set[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for obj in objects:
        if obj["id"] not in used and obj["type"] not in ("marking-definition", "relationship", "bundle"):
            counts[obj["type"]] = counts.get(obj["type"], 0) + 1
    return dict(sorted(counts.items()))


def _incoming(
    data: _Bundle, subject: Mapping[str, Any], scope: Sequence[Mapping[str, Any]], from_partner: str | None,
    own: Mapping[str, int], warnings: list[str], used: set[str],
) -> IncomingIncident:
    place = data.place(subject)
    sid = str(subject["id"])
    in_scope = {str(o["id"]): o for o in scope} | {sid: subject}
    used.update(in_scope)
    wrapper_ids = {str(o["id"]) for o in scope if o["type"] == "report"}
    about = {sid} | wrapper_ids
    local_id = own.get(sid) if subject["type"] == "incident" else None
    actor, confidence = _actor(data, in_scope, place)
    creator = data.by_id.get(str(subject.get("created_by_ref", "")))
    return IncomingIncident(
        key=sid, created=_moment(subject.get("created"), place, "created"),
        modified=_moment(subject.get("modified"), place, "modified"),
        title=_text(subject.get("name"), place, "name", limit=300, required=True),
        summary=_text(subject.get("description"), place, "description"),
        tlp=_tlp_of(subject) or TLP.AMBER,
        status=_choice(IncidentStatus, subject.get("x_rrm_status"), IncidentStatus.DRAFT, place, "x_rrm_status"),
        severity=_choice(Severity, subject.get("x_rrm_severity"), Severity.MODERATE, place, "x_rrm_severity"),
        target_country=country_code(_text(subject["x_rrm_target_country"], place, "x_rrm_target_country"),
                                    field="x_rrm_target_country") if subject.get("x_rrm_target_country") else None,
        target_process=_text(subject.get("x_rrm_target_process"), place, "x_rrm_target_process", limit=300) or None,
        suspected_actor=actor, attribution_confidence=confidence,
        breakout=tuple(_breakout(subject, place)), sources=tuple(_sources(subject, place)),
        timeline=tuple(_timeline(subject, place)),
        techniques=tuple(_techniques(data, in_scope, warnings)),
        links=tuple(_links(data, in_scope)),
        notes=tuple((_moment(o.get("created"), data.place(o), "created"),
                     _text(o.get("content"), data.place(o), "content", required=True))
                    for o in in_scope.values() if o["type"] == "note" and about & set(o.get("object_refs", []))),
        actions=tuple(_actions(data, in_scope, from_partner, warnings)),
        assessments=tuple(_opinions(data, in_scope, about, from_partner)),
        origin=dict(creator) if creator and creator.get("type") == "identity" else None,
        sightings=tuple(o for o in in_scope.values() if o["type"] == "sighting"),
        local_id=local_id,
    )


def _own_incidents(db: CasesDB, node: NodeIdentity | None) -> dict[str, int]:
    """The STIX ids of this node's own incidents (uuid5 of the node and the local id)."""
    if node is None:
        return {}
    with db.transaction() as session:
        ids = session.scalars(select(IncidentRow.id)).all()
    return {local_incident_stix_id(node, n): n for n in ids}


def _actor(
    data: _Bundle, scope: Mapping[str, Mapping[str, Any]], place: str
) -> tuple[str | None, Likelihood | None]:
    actors = [o for o in scope.values() if o["type"] in ("threat-actor", "intrusion-set")]
    if not actors:
        return None, None
    chosen = actors[0]
    confidence: Likelihood | None = None
    for rel in data.related("attributed-to", target=str(chosen["id"])):
        term = rel.get("x_rrm_attribution_confidence")
        if isinstance(term, str):
            confidence = Likelihood.parse(term, field="x_rrm_attribution_confidence")
        elif isinstance(rel.get("confidence"), int):
            confidence = likelihood_of(int(rel["confidence"]))
    return _text(chosen.get("name"), data.place(chosen), "name", limit=300, required=True), confidence


def _breakout(subject: Mapping[str, Any], place: str) -> list[tuple[int, date, str, datetime]]:
    found = []
    for i, entry in enumerate(_list(subject, "x_rrm_breakout", place)):
        name = f"x_rrm_breakout[{i}]"
        try:
            category = int(BreakoutCategory.parse(entry["category"]))
            on = date.fromisoformat(str(entry.get("assessed_on")))
        except (ValueError, TypeError, KeyError, InputError):
            raise InputError("needs a category 1–6 and an assessed_on date", source=place, field=name) from None
        found.append((category, on, _text(entry.get("evidence"), place, name, required=True),
                      _moment(entry.get("recorded_at"), place, name)))
    return found


def _sources(subject: Mapping[str, Any], place: str) -> list[tuple[str, str, str]]:
    found = []
    for i, entry in enumerate(_list(subject, "x_rrm_sources", place)):
        name = f"x_rrm_sources[{i}]"
        rating = AdmiraltyRating.parse(str(entry.get("rating", "")), source=place).code
        found.append((_text(entry.get("description"), place, name, required=True),
                      _text(entry.get("reference"), place, name, limit=2000), rating))
    return found


def _timeline(subject: Mapping[str, Any], place: str) -> list[tuple[datetime, str, str]]:
    found = []
    for i, entry in enumerate(_list(subject, "x_rrm_timeline", place)):
        name = f"x_rrm_timeline[{i}]"
        found.append((_moment(entry.get("occurred_at"), place, name),
                      _text(entry.get("description"), place, name, required=True),
                      _text(entry.get("reference"), place, name, limit=2000)))
    return found


def _list(subject: Mapping[str, Any], name: str, place: str) -> list[Mapping[str, Any]]:
    value = subject.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InputError("is not a list of objects", source=place, field=name)
    return value


def _techniques(
    data: _Bundle, scope: Mapping[str, Mapping[str, Any]], warnings: list[str]
) -> list[tuple[str, str, str, datetime]]:
    disarm = load_disarm()
    found = []
    for obj in scope.values():
        if obj["type"] != "attack-pattern":
            continue
        tid = disarm_external_id(obj)
        if tid is None:
            continue
        try:
            technique = disarm.technique(tid)
        except RRMError:
            warnings.append(f"{data.place(obj)}: DISARM {tid[:20]} is not a technique RRM knows; left out")
            continue
        uses = [r for r in data.related("uses", target=str(obj["id"])) if r.get("source_ref") in scope]
        evidence = "; ".join(str(r.get("description") or "") for r in uses if r.get("description")) or \
            f"reported in {data.source}"
        added = _moment(uses[0]["created"], data.place(uses[0]), "created") if uses else \
            _moment(obj.get("created"), data.place(obj), "created")
        found.append((technique.id, technique.name, _text(evidence, data.place(obj), "description", required=True),
                      added))
    return found


def _links(data: _Bundle, scope: Mapping[str, Mapping[str, Any]]) -> list[tuple[FindingKind, str, str]]:
    notes: dict[str, str] = {}
    for obj in scope.values():
        if obj["type"] == "indicator":
            for rel in data.related("based-on", source=str(obj["id"])):
                notes[str(rel.get("target_ref"))] = str(obj.get("description") or "")
    found: dict[tuple[FindingKind, str], str] = {}
    for obj in scope.values():
        place = data.place(obj)
        if obj["type"] == "url":
            ref = _text(obj.get("value"), place, "value", limit=2000, required=True)
            found.setdefault((FindingKind.URL, ref), notes.get(str(obj["id"]), ""))
        elif obj["type"] == "domain-name":
            ref = _text(obj.get("value"), place, "value", limit=2000, required=True).lower()
            found.setdefault((FindingKind.DOMAIN, ref), notes.get(str(obj["id"]), ""))
        elif obj["type"] == "user-account":
            account = _text(obj.get("user_id") or obj.get("account_login"), place, "user_id", limit=1000,
                            required=True)
            platform = _text(obj.get("account_type"), place, "account_type", limit=64)
            ref = f"{platform}:{account}" if platform else account
            found.setdefault((FindingKind.ACCOUNT, ref), notes.get(str(obj["id"]), ""))
        elif obj["type"] == "indicator" and obj.get("pattern_type") == "stix":
            match = _PATTERN.match(str(obj.get("pattern", "")).strip())
            if match:
                kind = FindingKind.URL if match.group(1) == "url" else FindingKind.DOMAIN
                value = re.sub(r"\\(.)", r"\1", match.group(2))
                if kind is FindingKind.URL and not value.lower().startswith(("http://", "https://")):
                    continue
                found.setdefault((kind, value if kind is FindingKind.URL else value.lower()),
                                 str(obj.get("description") or ""))
    return [(kind, ref, note) for (kind, ref), note in found.items()
            if kind is not FindingKind.URL or ref.lower().startswith(("http://", "https://"))]


def _partner_of(data: _Bundle, obj: Mapping[str, Any], from_partner: str | None) -> str | None:
    creator = data.by_id.get(str(obj.get("created_by_ref", "")))
    if creator is not None and isinstance(creator.get("x_rrm_partner"), str):
        return str(creator["x_rrm_partner"]).upper()
    return from_partner.upper() if from_partner else None


def _actions(
    data: _Bundle, scope: Mapping[str, Mapping[str, Any]], from_partner: str | None, warnings: list[str]
) -> list[tuple[ActionKind, str, str, ActionStatus, date | None]]:
    found = []
    for obj in scope.values():
        if obj["type"] != "course-of-action" or "x_rrm_action_kind" not in obj:
            continue
        place = data.place(obj)
        owner = obj.get("x_rrm_owner") or from_partner
        if not isinstance(owner, str) or not owner.strip():
            warnings.append(f"{place}: a response action without an owner partner (use --from); left out")
            continue
        due = obj.get("x_rrm_due_on")
        try:
            due_on = date.fromisoformat(due) if isinstance(due, str) else None
        except ValueError:
            raise InputError(f"{str(due)[:20]!r} is not a date", source=place, field="x_rrm_due_on") from None
        found.append((
            _choice(ActionKind, obj.get("x_rrm_action_kind"), ActionKind.OTHER, place, "x_rrm_action_kind"),
            _text(obj.get("description") or obj.get("name"), place, "description", required=True), owner.strip(),
            _choice(ActionStatus, obj.get("x_rrm_action_status"), ActionStatus.PLANNED, place, "x_rrm_action_status"),
            due_on,
        ))
    return found


_STANCE = {"agree": Stance.AGREE, "strongly-agree": Stance.AGREE, "disagree": Stance.DISAGREE,
           "strongly-disagree": Stance.DISAGREE}


def _opinions(
    data: _Bundle, scope: Mapping[str, Mapping[str, Any]], about: set[str], from_partner: str | None
) -> list[tuple[str, Stance, int, str, datetime]]:
    found = []
    for obj in scope.values():
        if obj["type"] != "opinion" or not about & set(obj.get("object_refs", [])):
            continue
        place = data.place(obj)
        stance = _STANCE.get(str(obj.get("opinion")))
        if stance is None:
            raise InputError(f"{str(obj.get('opinion'))[:20]!r} cannot become an assessment (agree or disagree)",
                             source=place, field="opinion")
        partner = _partner_of(data, obj, from_partner)
        if partner is None:
            raise InputError("the opinion's author is no known partner: name it with --from", source=place,
                             field="created_by_ref")
        confidence = obj.get("confidence", 50)
        if not isinstance(confidence, int) or not 0 <= confidence <= 100:
            raise InputError("must be 0 to 100", source=place, field="confidence")
        found.append((partner, stance, confidence, _text(obj.get("explanation"), place, "explanation"),
                      _moment(obj.get("created"), place, "created")))
    return found
