"""MISP: an incident as a MISP event (with ``pymisp``), and MISP events (JSON) imported as incidents.

    >>> event = export_misp(incident, node).event          # doctest: +SKIP  (a dict: MISPEvent.to_dict())
    >>> import_misp(db, "ana", read_event(raw, source="event.json"), source="event.json")  # doctest: +SKIP

The event: ``info`` is the title; the summary an event report named "Summary"; TLP 2.0 as a ``tlp:…`` tag and
as the distribution (CLEAR: all communities, GREEN: connected communities, AMBER: this community,
AMBER+STRICT and RED: your organisation only); DISARM techniques as galaxy tags
``misp-galaxy:disarm-techniques="<name>"`` (the names of MISP's DISARM galaxy) with the evidence as a ``text``
attribute; linked URLs and domains as ``url`` and ``domain`` attributes; subject accounts as ``user-account``
objects (``twitter-account`` for Twitter/X), pseudonymised when the terms ask; the suspected actor as a
``threat-actor`` attribute; analyst notes as MISP notes and partner assessments as MISP opinions (0–100,
50 neutral: agree with confidence c is 50 + c/2). Evidence posts and detection communities stay here,
as in the STIX export. Status and severity travel as ``rrm:`` tags.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pymisp import MISPEvent, MISPObject
from pymisp.exceptions import PyMISPError

from rrm.cases.permissions import country_code
from rrm.cases.values import Incident
from rrm.cases.vocab import FindingKind, IncidentStatus, Likelihood, Severity, Stance, parse_choice
from rrm.errors import InputError, RRMError
from rrm.frameworks.disarm import load_disarm
from rrm.frameworks.tlp import TLP
from rrm.share.stix_export import Redaction, SharingTerms, _account_parts, _check_ceiling, _digest
from rrm.share.stix_import import ImportResult, IncomingIncident, apply_incoming

__all__ = ["DisarmGalaxy", "MispExport", "export_misp", "import_misp", "read_event"]

_DISTRIBUTION = {TLP.CLEAR: 3, TLP.GREEN: 2, TLP.AMBER: 1, TLP.AMBER_STRICT: 0, TLP.RED: 0}
_THREAT_LEVEL = {Severity.CRITICAL: 1, Severity.HIGH: 1, Severity.MODERATE: 2, Severity.LOW: 3}
_ANALYSIS = {IncidentStatus.DRAFT: 0, IncidentStatus.ASSESSED: 1, IncidentStatus.SHARED: 1,
             IncidentStatus.RESPONDING: 1, IncidentStatus.CLOSED: 2}
_GALAXY = "misp-galaxy:disarm-techniques="
EVENT_KEY = "misp-event--"


@dataclass(frozen=True)
class DisarmGalaxy:
    """DISARM technique id ↔ the cluster value of MISP's ``disarm-techniques`` galaxy."""

    values: Mapping[str, str]  # T0049 -> "Flooding the Information Space"

    @classmethod
    def load(cls, path: Path | None = None) -> DisarmGalaxy:
        """From MISP's ``clusters/disarm-techniques.json``; without it, from the names in RRM's DISARM."""
        if path is None:
            return cls({t.id: t.name for t in load_disarm().techniques()})
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls({v["meta"]["external_id"]: v["value"] for v in data["values"] if v.get("meta", {}).get("external_id")})

    def tag(self, technique_id: str) -> str:
        name = self.values.get(technique_id) or load_disarm().technique(technique_id).name
        return f'{_GALAXY}"{name}"'

    def technique_of(self, tag: str) -> str | None:
        if not tag.startswith(_GALAXY):
            return None
        name = tag[len(_GALAXY):].strip().strip('"')
        found = [tid for tid, value in self.values.items() if value == name]
        if not found:
            found = [t.id for t in load_disarm().techniques() if t.name == name]
        return found[0] if found else None


@dataclass(frozen=True)
class MispExport:
    incident_id: int
    event_uuid: str
    tlp: TLP
    partner: str | None
    event: dict[str, Any]  # {"Event": {...}} as MISP exchanges it in files and feeds
    redactions: tuple[Redaction, ...] = ()

    def to_json(self) -> str:
        return json.dumps(self.event, indent=2, ensure_ascii=False, sort_keys=True)


def _u(namespace: uuid.UUID, *key: object) -> str:
    return str(uuid.uuid5(namespace, _digest(*key)))


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def export_misp(
    incident: Incident, node_uuid: uuid.UUID, *, terms: SharingTerms | None = None, received_key: str | None = None,
    galaxy: DisarmGalaxy | None = None,
) -> MispExport:
    """The incident as a MISP event under ``terms``; refused above the partner's TLP ceiling."""
    terms = terms or SharingTerms()
    _check_ceiling(incident, terms)
    galaxy = galaxy or DisarmGalaxy.load()
    event_uuid = (received_key.removeprefix(EVENT_KEY) if received_key and received_key.startswith(EVENT_KEY)
                  else str(uuid.uuid5(node_uuid, f"misp-event:{incident.id}")))
    ns = uuid.UUID(event_uuid)
    event = MISPEvent(force_timestamps=True)  # keep the version: MISP compares timestamps
    event.uuid = event_uuid
    event.info = incident.title
    event.date = _utc(incident.created_at).date()
    event.timestamp = _utc(incident.updated_at).replace(microsecond=0)
    event.threat_level_id = _THREAT_LEVEL[incident.severity]
    event.analysis = _ANALYSIS[incident.status]
    event.distribution = _DISTRIBUTION[incident.tlp]
    event.published = False
    event.add_tag(incident.tlp.label.lower())
    event.add_tag(f'rrm:status="{incident.status.value}"')
    event.add_tag(f'rrm:severity="{incident.severity.value}"')
    if incident.target_country:
        event.add_tag(f'rrm:target-country="{incident.target_country}"')
    if incident.summary:
        report = event.add_event_report(name="Summary", content=incident.summary, distribution=5)
        report.uuid = _u(ns, "summary")
    for use in incident.techniques:
        tag = galaxy.tag(use.technique_id)
        event.add_tag(tag)
        attribute = event.add_attribute("text", use.evidence, category="Other", comment=f"DISARM {use.technique_id}",
                                        to_ids=False, uuid=_u(ns, "technique", use.technique_id), Tag=[{"name": tag}])
        if not isinstance(attribute, list):
            attribute.first_seen = _utc(use.added_at)
    if incident.suspected_actor:
        confidence = incident.attribution_confidence.value if incident.attribution_confidence else ""
        event.add_attribute("threat-actor", incident.suspected_actor, category="Attribution", comment=confidence,
                            to_ids=False, uuid=_u(ns, "actor", incident.suspected_actor))
    for link in incident.links:
        if link.kind is FindingKind.URL:
            event.add_attribute("url", link.ref, category="Network activity", comment=link.note, to_ids=True,
                                uuid=_u(ns, "url", link.ref))
        elif link.kind is FindingKind.DOMAIN:
            event.add_attribute("domain", link.ref, category="Network activity", comment=link.note, to_ids=True,
                                uuid=_u(ns, "domain", link.ref))
        elif link.kind is FindingKind.ACCOUNT:
            event.add_object(_account_object(ns, link.ref, link.note, terms))
    for note in incident.notes:
        added = event.add_note(note=note.text, language="en")
        added.uuid = _u(ns, "note", note.created_at.isoformat(), note.text)
        added.created = _utc(note.created_at).replace(tzinfo=None)  # pymisp reads it back as UTC
    for assessment in incident.assessments:
        half = round(assessment.confidence / 2)
        opinion = event.add_opinion(opinion=50 + half if assessment.stance is Stance.AGREE else 50 - half,
                                    comment=assessment.rationale)
        opinion.uuid = _u(ns, "opinion", assessment.partner, assessment.assessed_at.isoformat())
        opinion.authors = assessment.partner
        opinion.created = _utc(assessment.assessed_at).replace(tzinfo=None)
    redactions = tuple(
        Redaction(f"{kind.value} links", count, reason)
        for kind, reason in ((FindingKind.POST, "platform post ids can identify people beyond the subjects"),
                             (FindingKind.COMMUNITY, "detection communities are this node's internal references"))
        if (count := sum(1 for link in incident.links if link.kind is kind))
    )
    data = json.loads(event.to_json())
    return MispExport(incident.id, event_uuid, incident.tlp, terms.partner, {"Event": data}, redactions)


def _account_object(ns: uuid.UUID, ref: str, note: str, terms: SharingTerms) -> MISPObject:
    platform, account = _account_parts(ref)
    pseudonymised = account.startswith("pseudo:")
    shown = account if pseudonymised or terms.pseudonymiser is None else terms.pseudonymiser.pseudonym(platform, account)
    if platform in ("twitter", "x"):
        obj = MISPObject("twitter-account", standalone=False)
        obj.add_attribute("id", shown, uuid=_u(ns, "account-id", ref))
    else:
        obj = MISPObject("user-account", standalone=False)
        obj.add_attribute("user-id", shown, uuid=_u(ns, "account-id", ref))
        if platform:
            obj.add_attribute("account-type", platform, uuid=_u(ns, "account-type", ref))
    obj.uuid = _u(ns, "account", ref)
    obj.comment = note
    if platform in ("twitter", "x"):
        obj.add_attribute("description", f"platform {platform}", uuid=_u(ns, "account-platform", ref))
    return obj


# --- import -------------------------------------------------------------------------------------------


def read_event(raw: bytes | str, *, source: str) -> dict[str, Any]:
    """The MISP event in ``raw`` (``{"Event": {...}}`` or the bare event), as a checked dict."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"is not JSON: {exc}", source=source) from exc
    if isinstance(data, dict) and "Event" in data:
        data = data["Event"]
    if not isinstance(data, dict) or not isinstance(data.get("info"), str) or not isinstance(data.get("uuid"), str):
        raise InputError("is not a MISP event (an object with 'info' and 'uuid')", source=source)
    try:
        event = MISPEvent()
        event.from_dict(**copy.deepcopy(data))  # pymisp consumes what it reads
        uuid.UUID(str(event.uuid))
    except (PyMISPError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InputError(f"is not a usable MISP event: {exc}", source=source) from exc
    return data


def import_misp(
    db: Any, actor: str, event: Mapping[str, Any], *, source: str, from_partner: str | None = None,
    galaxy: DisarmGalaxy | None = None,
) -> ImportResult:
    """A MISP event becomes an incident (or updates the one it became before: a newer ``timestamp`` wins)."""
    item = _incoming(event, source, from_partner, galaxy or DisarmGalaxy.load())
    outcomes = apply_incoming(db, actor, [item], source=source, from_partner=from_partner, fmt="misp")
    return ImportResult(source, tuple(outcomes))


def _tags(entry: Mapping[str, Any]) -> list[str]:
    return [str(t.get("name", "")) for t in entry.get("Tag", []) or [] if isinstance(t, Mapping)]


def _value(tags: list[str], prefix: str) -> str | None:
    for tag in tags:
        if tag.startswith(prefix + "="):
            return tag[len(prefix) + 1:].strip().strip('"')
    return None


def _when(value: object, place: str, name: str) -> datetime:
    try:
        if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
            return datetime.fromtimestamp(int(value), UTC)
        if isinstance(value, str):
            return _utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except (ValueError, OverflowError, OSError):
        pass
    raise InputError(f"{str(value)[:40]!r} is not a time", source=place, field=name)


def _incoming(event: Mapping[str, Any], source: str, from_partner: str | None, galaxy: DisarmGalaxy) -> IncomingIncident:
    place = f"{source}, event {str(event.get('uuid'))[:40]}"
    tags = _tags(event)
    tlps = [TLP.parse(t, source=place) for t in tags if t.lower().startswith("tlp:")]
    modified = _when(event.get("timestamp"), place, "timestamp")
    try:
        created = datetime.combine(date.fromisoformat(str(event.get("date"))), datetime.min.time(), UTC)
    except ValueError:
        raise InputError(f"{str(event.get('date'))[:20]!r} is not a date", source=place, field="date") from None
    status = _value(tags, "rrm:status")
    severity = _value(tags, "rrm:severity")
    disarm = load_disarm()
    techniques: list[tuple[str, str, str, datetime]] = []
    links: list[tuple[FindingKind, str, str]] = []
    actor: str | None = None
    confidence: Likelihood | None = None
    for i, attribute in enumerate(event.get("Attribute", []) or []):
        at = f"{place}, attribute {i}"
        kind, text = attribute.get("type"), str(attribute.get("value", ""))
        if kind == "text" and str(attribute.get("comment", "")).startswith("DISARM "):
            tid = str(attribute["comment"]).removeprefix("DISARM ").strip().upper()
            try:
                technique = disarm.technique(tid)
            except RRMError:
                raise InputError(f"{tid[:20]!r} is not a DISARM technique", source=at, field="comment") from None
            added = _when(attribute["first_seen"], at, "first_seen") if attribute.get("first_seen") else modified
            techniques.append((technique.id, technique.name, text.strip() or "reported in MISP", added))
        elif kind == "url":
            if not text.lower().startswith(("http://", "https://")):
                raise InputError(f"{text[:80]!r} is not an http(s) URL", source=at, field="value")
            links.append((FindingKind.URL, text, str(attribute.get("comment") or "")))
        elif kind in ("domain", "hostname"):
            links.append((FindingKind.DOMAIN, text.lower(), str(attribute.get("comment") or "")))
        elif kind == "threat-actor":
            actor = text.strip()[:300] or None
            term = str(attribute.get("comment") or "").strip()
            confidence = Likelihood.parse(term, field="comment") if term else None
    known = {t[0] for t in techniques}
    for tag in tags:
        tagged = galaxy.technique_of(tag)
        if tagged and tagged not in known:
            techniques.append((tagged, disarm.technique(tagged).name, "tagged in MISP", modified))
            known.add(tagged)
    for i, obj in enumerate(event.get("Object", []) or []):
        account = _account_ref(obj, f"{place}, object {i}")
        if account:
            links.append((FindingKind.ACCOUNT, account, str(obj.get("comment") or "")))
    summary = next((str(r.get("content", "")) for r in event.get("EventReport", []) or []
                    if r.get("name") == "Summary"), "")
    notes = [(_when(n.get("created"), place, "Note.created") if n.get("created") else modified, str(n.get("note", "")))
             for n in event.get("Note", []) or [] if str(n.get("note", "")).strip()]
    assessments = []
    for i, opinion in enumerate(event.get("Opinion", []) or []):
        at = f"{place}, opinion {i}"
        try:
            score = int(opinion.get("opinion"))
        except (TypeError, ValueError):
            raise InputError("is not a number 0–100", source=at, field="opinion") from None
        if not 0 <= score <= 100:
            raise InputError("is not a number 0–100", source=at, field="opinion")
        partner = str(opinion.get("authors") or from_partner or "").strip().upper()
        if not partner:
            raise InputError("names no partner: name it with --from", source=at, field="authors")
        stance = Stance.AGREE if score >= 50 else Stance.DISAGREE
        created_at = _when(opinion.get("created"), at, "created") if opinion.get("created") else modified
        assessments.append((partner, stance, min(abs(score - 50) * 2, 100), str(opinion.get("comment") or ""),
                            created_at))
    return IncomingIncident(
        key=EVENT_KEY + str(event["uuid"]), created=created, modified=modified,
        title=str(event["info"]).strip()[:300] or "MISP event", summary=summary,
        tlp=max(tlps) if tlps else TLP.AMBER,
        status=parse_choice(IncidentStatus, status, field="rrm:status") if status else IncidentStatus.DRAFT,
        severity=parse_choice(Severity, severity, field="rrm:severity") if severity else Severity.MODERATE,
        target_country=country_code(country, field="rrm:target-country") if (country := _value(tags, "rrm:target-country")) else None,
         suspected_actor=actor, attribution_confidence=confidence,
        techniques=tuple(techniques), links=tuple(dict.fromkeys(links)), notes=tuple(notes),
        assessments=tuple(assessments),
    )


def _account_ref(obj: Mapping[str, Any], place: str) -> str | None:
    values = {str(a.get("object_relation")): str(a.get("value", "")) for a in obj.get("Attribute", []) or []}
    name = obj.get("name")
    if name == "twitter-account":
        account = values.get("id") or values.get("name")
        platform = values.get("description", "platform twitter").removeprefix("platform ").strip() or "twitter"
    elif name == "user-account":
        account = values.get("user-id") or values.get("username")
        platform = values.get("account-type", "")
    else:
        return None
    if not account:
        raise InputError("an account object without an id", source=place, field="Attribute")
    return f"{platform}:{account}" if platform else account
