"""STIX 2.1 export of an incident: one bundle that partners' OpenCTI and TAXII clients understand.

    >>> export = export_incident(incident, node, terms=SharingTerms(partner="FR", max_tlp=TLP.AMBER))  # doctest: +SKIP
    >>> export.bundle["objects"][0]["type"]                                                         # doctest: +SKIP
    'marking-definition'

What the bundle holds: a ``report`` (the incident summary, ``object_refs`` to everything), the ``incident``,
a ``campaign`` (the operation behind it) that ``uses`` the DISARM ``attack-pattern``\\ s and is
``attributed-to`` the suspected ``threat-actor`` (with the attribution confidence), ``course-of-action``\\ s for
the response plan (``mitigates`` the techniques of the DISARM countermeasures they name), ``indicator``\\ s
and observables (``url``, ``domain-name``, ``user-account``) for the linked findings, ``note``\\ s, partner
``opinion``\\ s, ``sighting``\\ s, and the TLP 2.0 ``marking-definition``\\ s.

Rules that always hold:
- only accounts linked to the incident as subjects are included (never bystanders), pseudonymised when the
  sharing terms ask for it; evidence posts and detection communities are withheld (and listed as redactions);
- every object carries ``object_marking_refs``: the incident's TLP, except the public DISARM attack-patterns
  (TLP:CLEAR); nothing is exported above the partner's TLP ceiling (:class:`~rrm.errors.SharingDeniedError`);
- ids are deterministic (uuid5 from the incident's STIX id and the thing), so exporting again gives the same
  ids, and a changed incident gives a new version (a later ``modified``), never a duplicate;
- analysts' user names never leave the node: objects are created by the node's ``identity``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import stix2

from rrm.cases.values import Incident, LinkedFinding
from rrm.cases.vocab import FindingKind, Likelihood
from rrm.errors import InputError, SharingDeniedError
from rrm.frameworks.disarm import load_disarm
from rrm.frameworks.tlp import TLP, marking_definition
from rrm.share.pseudonymise import Pseudonymiser
from rrm.share.signing import NodeKey, sign_bundle

__all__ = [
    "RRM_NAMESPACE",
    "DisarmStixIndex",
    "NodeIdentity",
    "Observation",
    "Origin",
    "Redaction",
    "SharingTerms",
    "StixExport",
    "confidence_of",
    "export_incident",
    "likelihood_of",
    "partner_identity_id",
    "stix_pattern_literal",
]

RRM_NAMESPACE = uuid.UUID("5b0b6e0c-6f43-5b8e-9a5e-2f3f6a1c7d10")
"""Namespace of ids every RRM node computes alike (partner identities, fallback attack-pattern ids)."""

DISARM_PAGES = "https://github.com/DISARMFoundation/DISARMframeworks/blob/main/generated_pages"
_URI_SAFE = ":/?#[]@!$&'()*+,;=%-._~"
_COUNTERMEASURE_ID = re.compile(r"\bC\d{5}\b")


def _ts(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def confidence_of(likelihood: Likelihood) -> int:
    """The STIX confidence (0–100) for an estimative term: the middle of its ICD 203 range."""
    low, high = likelihood.probability
    return (low + high) // 2


def likelihood_of(confidence: int) -> Likelihood:
    """The estimative term a STIX confidence reads as (the term whose range holds it, nearest middle)."""
    return min(Likelihood, key=lambda term: (abs(confidence_of(term) - confidence), term.probability[0]))


def partner_identity_id(code: str) -> str:
    """The STIX ``identity`` id of a partner organisation: the same on every RRM node."""
    return f"identity--{uuid.uuid5(RRM_NAMESPACE, 'partner:' + code.strip().upper())}"


def stix_pattern_literal(value: str) -> str:
    """``value`` as a quoted STIX pattern string (backslashes and quotes escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class NodeIdentity:
    """This node as a STIX ``identity``: a name and a uuid kept in the workspace (``node.json``)."""

    name: str
    uuid: uuid.UUID

    @classmethod
    def load_or_create(cls, path: Path, *, name: str | None = None) -> NodeIdentity:
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                return cls(str(data["name"]), uuid.UUID(str(data["uuid"])))
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(f"not a node identity file: {exc}", source=str(path)) from exc
        node = cls(name or os.environ.get("RRM_NODE_NAME") or "RRM node", uuid.uuid4())
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"name": node.name, "uuid": str(node.uuid)}, indent=2) + "\n", encoding="utf-8")
        return node

    @property
    def stix_id(self) -> str:
        return f"identity--{self.uuid}"


@dataclass(frozen=True)
class DisarmStixIndex:
    """DISARM technique id → the ``attack-pattern`` id (and timestamps) of DISARM's own STIX bundle.

    Partners' OpenCTI merges attack-patterns by id, so the export reuses DISARM's. The index is read
    from ``DISARM_STIX_bundle.json`` (``rrm share import`` keeps it in the workspace).
    """

    patterns: Mapping[str, Mapping[str, str]]  # T0049 -> {"id", "created", "modified"}

    @classmethod
    def from_objects(cls, objects: Iterable[Mapping[str, Any]]) -> DisarmStixIndex:
        patterns: dict[str, dict[str, str]] = {}
        for obj in objects:
            if obj.get("type") != "attack-pattern":
                continue
            technique = disarm_external_id(obj)
            if technique is not None:
                patterns[technique] = {"id": str(obj["id"]), "created": str(obj.get("created", "")),
                                       "modified": str(obj.get("modified", ""))}
        return cls(patterns)

    @classmethod
    def load(cls, path: Path) -> DisarmStixIndex | None:
        if not path.exists():
            return None
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dict(self.patterns), indent=1, sort_keys=True) + "\n", encoding="utf-8")


def disarm_external_id(obj: Mapping[str, Any]) -> str | None:
    """The DISARM id (``T0049.003``, ``C00008``) in an object's external references, if any.

    DISARM's own bundle names the source ``mitre-attack`` with a DISARM url; RRM names it ``DISARM``.
    """
    references = obj.get("external_references")
    if not isinstance(references, list):
        return None
    for ref in references:
        if not isinstance(ref, Mapping):
            continue
        external_id, source, url = ref.get("external_id"), ref.get("source_name"), str(ref.get("url") or "")
        if not isinstance(external_id, str):
            continue
        if source == "DISARM" or (source == "mitre-attack" and "DISARMframeworks" in url):
            return external_id.strip().upper()
    return None


@dataclass(frozen=True)
class SharingTerms:
    """What a sharing agreement allows: the TLP ceiling, and whether account ids are pseudonymised."""

    partner: str | None = None
    max_tlp: TLP = TLP.RED
    pseudonymiser: Pseudonymiser | None = None


@dataclass(frozen=True)
class Origin:
    """Where an imported incident came from: its STIX id and creator, kept so that re-exports agree."""

    incident_stix_id: str
    created_by: Mapping[str, Any] | None = None  # the creator's identity object
    sightings: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class Observation:
    """How often a linked finding was seen in the corpus: becomes a STIX ``sighting``."""

    kind: FindingKind
    ref: str
    count: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class Redaction:
    """Something of the incident that does not leave the node, and why."""

    what: str
    count: int
    reason: str


@dataclass(frozen=True)
class StixExport:
    incident_id: int
    incident_stix_id: str
    tlp: TLP
    partner: str | None
    bundle: dict[str, Any]
    redactions: tuple[Redaction, ...] = ()
    pseudonymised: int = 0
    warnings: tuple[str, ...] = ()

    @property
    def objects(self) -> list[dict[str, Any]]:
        return list(self.bundle["objects"])

    def count_by_type(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for obj in self.objects:
            counts[obj["type"]] = counts.get(obj["type"], 0) + 1
        return dict(sorted(counts.items()))


def local_incident_stix_id(node: NodeIdentity, incident_id: int) -> str:
    return f"incident--{uuid.uuid5(node.uuid, f'incident:{incident_id}')}"


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:24]


@dataclass
class _Builder:
    """Collects the objects of one bundle, with ids derived from the incident's STIX id."""

    namespace: uuid.UUID
    creator: str
    markings: list[str]
    objects: dict[str, Any] = field(default_factory=dict)

    def sid(self, kind: str, *key: object) -> str:
        return f"{kind}--{uuid.uuid5(self.namespace, kind + ':' + _digest(*key))}"

    def add(self, obj: Any) -> str:
        self.objects[obj["id"]] = obj
        return str(obj["id"])

    def common(self, created: datetime, modified: datetime | None = None) -> dict[str, Any]:
        return {"created": _ts(created), "modified": _ts(modified or created), "created_by_ref": self.creator,
                "object_marking_refs": self.markings, "allow_custom": True}

    def relate(self, kind: str, source: str, target: str, created: datetime, **extra: Any) -> str:
        return self.add(stix2.v21.Relationship(
            id=self.sid("relationship", kind, source, target), relationship_type=kind, source_ref=source,
            target_ref=target, **self.common(created), **extra,
        ))


def _account_parts(ref: str) -> tuple[str, str]:
    """``platform:id`` (as the corpus writes account refs) split; a bare id has no platform."""
    platform, sep, account = ref.partition(":")
    if sep and platform and account and platform.isalnum():
        return platform.lower(), account
    return "", ref


def _check_ceiling(incident: Incident, terms: SharingTerms) -> None:
    if incident.tlp > terms.max_tlp:
        who = f"partner {terms.partner}" if terms.partner else "this export"
        raise SharingDeniedError(
            f"incident {incident.id} is {incident.tlp.label}, above what {who} may receive ({terms.max_tlp.label}): "
            "nothing was exported", tlp=incident.tlp.label, ceiling=terms.max_tlp.label, partner=terms.partner,
        )


def export_incident(
    incident: Incident,
    node: NodeIdentity,
    *,
    terms: SharingTerms | None = None,
    origin: Origin | None = None,
    disarm_ids: DisarmStixIndex | None = None,
    observations: Sequence[Observation] = (),
    sign_with: NodeKey | None = None,
) -> StixExport:
    """The incident as a STIX 2.1 bundle under ``terms``; refused above the partner's TLP ceiling."""
    terms = terms or SharingTerms()
    _check_ceiling(incident, terms)
    incident_sid = origin.incident_stix_id if origin else local_incident_stix_id(node, incident.id)
    creator_obj: dict[str, Any] = dict(origin.created_by) if origin and origin.created_by else {}
    creator = str(creator_obj.get("id") or node.stix_id)
    tlp_marking = marking_definition(incident.tlp)
    build = _Builder(uuid.UUID(incident_sid.split("--", 1)[1]), creator, [tlp_marking["id"]])
    warnings: list[str] = []
    build.add(tlp_marking)
    if not creator_obj:
        creator_obj = json.loads(stix2.v21.Identity(
            id=node.stix_id, name=node.name, identity_class="organization", created=_ts(incident.created_at),
            modified=_ts(incident.created_at), object_marking_refs=build.markings,
        ).serialize())
    build.add(creator_obj)
    created, modified = incident.created_at, incident.updated_at
    recipients = {"x_rrm_recipients": [terms.partner]} if terms.partner and incident.tlp in (
        TLP.AMBER_STRICT, TLP.RED) else {}

    build.add(stix2.v21.Incident(
        id=incident_sid, name=incident.title, description=incident.summary or None, **build.common(created, modified),
        x_rrm_status=incident.status.value, x_rrm_severity=incident.severity.value,
        x_rrm_target_country=incident.target_country, x_rrm_target_process=incident.target_process,
        x_rrm_breakout=[{"category": int(b.category), "assessed_on": b.assessed_on.isoformat(),
                         "evidence": b.evidence, "recorded_at": _ts(b.recorded_at).isoformat()}
                        for b in incident.breakout] or None,
        x_rrm_sources=[{"description": s.description, "reference": s.reference, "rating": s.rating}
                       for s in incident.sources] or None,
        x_rrm_timeline=[{"occurred_at": _ts(e.occurred_at).isoformat(), "description": e.description,
                         "reference": e.reference} for e in incident.timeline] or None,
        **recipients,
    ))
    campaign = build.add(stix2.v21.Campaign(
        id=build.sid("campaign", "operation"), name=incident.title, description="The operation behind the incident.",
        **build.common(created, modified),
    ))
    build.relate("related-to", incident_sid, campaign, created)
    if incident.suspected_actor:
        actor = build.add(stix2.v21.ThreatActor(
            id=f"threat-actor--{uuid.uuid5(RRM_NAMESPACE, 'actor:' + incident.suspected_actor.lower())}",
            name=incident.suspected_actor, **build.common(created),
        ))
        extra = ({"confidence": confidence_of(incident.attribution_confidence),
                  "x_rrm_attribution_confidence": incident.attribution_confidence.value}
                 if incident.attribution_confidence else {})
        build.relate("attributed-to", campaign, actor, created, **extra)

    patterns = _techniques(build, incident, campaign, disarm_ids, warnings)
    _actions(build, incident, patterns, incident_sid)
    redactions = _findings(build, incident, campaign, terms, observations, origin)
    _notes_and_opinions(build, incident, incident_sid)

    refs = [oid for oid in build.objects if not oid.startswith("marking-definition--")]
    report = json.loads(stix2.v21.Report(
        id=build.sid("report", "summary"), name=incident.title, description=incident.summary or None,
        published=_ts(modified), report_types=["threat-report"], object_refs=refs,
        **build.common(created, modified), **recipients,
    ).serialize())
    objects = [_plain(o) for o in build.objects.values()] + [report]
    objects = [{**o, **recipients} if recipients and o["type"] != "marking-definition" else o for o in objects]
    bundle: dict[str, Any] = {
        "type": "bundle", "id": f"bundle--{uuid.uuid5(build.namespace, f'bundle:{_ts(modified).isoformat()}')}",
        "objects": objects,
    }
    if sign_with is not None:
        bundle = sign_bundle(bundle, sign_with)
    pseudonymised = sum(1 for link in incident.links if link.kind is FindingKind.ACCOUNT) if terms.pseudonymiser else 0
    return StixExport(incident.id, incident_sid, incident.tlp, terms.partner, bundle, redactions, pseudonymised,
                      tuple(warnings))


def _plain(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return obj
    plain: dict[str, Any] = json.loads(obj.serialize())
    return plain


def _techniques(
    build: _Builder, incident: Incident, campaign: str, index: DisarmStixIndex | None, warnings: list[str]
) -> dict[str, str]:
    """Attack-patterns (DISARM's own ids when known) and ``campaign uses attack-pattern``."""
    disarm = load_disarm()
    clear = [marking_definition(TLP.CLEAR)["id"]]
    if incident.techniques and build.markings != clear:
        build.add(marking_definition(TLP.CLEAR))
    patterns: dict[str, str] = {}
    for use in incident.techniques:
        known = index.patterns.get(use.technique_id) if index else None
        technique = disarm.technique(use.technique_id)
        reference = {"source_name": "DISARM", "external_id": technique.id, "url": f"{DISARM_PAGES}/techniques/"
                     f"{technique.id}.md"}
        if known:
            pattern_id, stamp = known["id"], known["modified"] or known["created"]
            moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            created = datetime.fromisoformat((known["created"] or stamp).replace("Z", "+00:00"))
        else:
            pattern_id = f"attack-pattern--{uuid.uuid5(RRM_NAMESPACE, 'disarm:' + technique.id)}"
            moment = created = datetime(2025, 2, 10, tzinfo=UTC)  # the DISARM release RRM ships
            warnings.append(f"{technique.id}: DISARM's own attack-pattern id is not known (import "
                            "DISARM_STIX_bundle.json with 'rrm share import'); RRM's id was used")
        build.add(stix2.v21.AttackPattern(
            id=pattern_id, name=technique.name, description=technique.description or None, created=created,
            modified=moment, external_references=[reference], object_marking_refs=clear,
        ))
        patterns[technique.id] = pattern_id
        build.relate("uses", campaign, pattern_id, use.added_at, description=use.evidence)
    return patterns


def _actions(build: _Builder, incident: Incident, patterns: Mapping[str, str], incident_sid: str) -> None:
    """Course-of-action per planned response; ``mitigates`` the techniques its DISARM countermeasures counter."""
    disarm = load_disarm()
    for action in incident.actions:
        counters = [c for c in dict.fromkeys(_COUNTERMEASURE_ID.findall(action.description))
                    if c in {x.id for x in disarm.countermeasures()}]
        references = [{"source_name": "DISARM", "external_id": c, "url": f"{DISARM_PAGES}/counters/{c}.md"}
                      for c in counters]
        name = action.description.splitlines()[0][:250] if action.description.strip() else action.kind.value
        course = build.add(stix2.v21.CourseOfAction(
            id=build.sid("course-of-action", action.kind.value, action.description), name=name,
            description=action.description, external_references=references or None,
            **build.common(incident.created_at), x_rrm_action_kind=action.kind.value,
            x_rrm_action_status=action.status.value, x_rrm_owner=action.owner,
            x_rrm_due_on=action.due_on.isoformat() if action.due_on else None,
        ))
        countered = {t for c in counters for t in disarm.countermeasure(c).technique_ids}
        targets = [pid for tid, pid in patterns.items() if tid in countered]
        for target in targets:
            build.relate("mitigates", course, target, incident.created_at)
        if not targets:
            build.relate("related-to", course, incident_sid, incident.created_at)


def _findings(
    build: _Builder, incident: Incident, campaign: str, terms: SharingTerms, observations: Sequence[Observation],
    origin: Origin | None,
) -> tuple[Redaction, ...]:
    """Indicators and observables for linked URLs, domains and subject accounts; posts and communities withheld."""
    seen = {(o.kind, o.ref): o for o in observations}
    indicators: dict[tuple[FindingKind, str], str] = {}
    for link in incident.links:
        made = _finding(build, incident, link, terms)
        if made is None:
            continue
        indicator = made
        indicators[(link.kind, link.ref)] = indicator
        build.relate("indicates", indicator, campaign, incident.created_at)
    for key, indicator in indicators.items():
        observation = seen.get(key)
        if observation is None or observation.count < 1:
            continue
        build.add(stix2.v21.Sighting(
            id=build.sid("sighting", indicator), sighting_of_ref=indicator, count=min(observation.count, 999_999_999),
            first_seen=_ts(observation.first_seen), last_seen=_ts(observation.last_seen),
            where_sighted_refs=[build.creator], **build.common(incident.created_at, incident.updated_at),
        ))
    if origin is not None:
        for sighting in origin.sightings:
            build.add(dict(sighting))
    redactions = []
    for kind, reason in ((FindingKind.POST, "platform post ids can identify people beyond the subjects; "
                                            "STIX has no post object"),
                         (FindingKind.COMMUNITY, "detection communities are this node's internal references")):
        count = sum(1 for link in incident.links if link.kind is kind)
        if count:
            redactions.append(Redaction(f"{kind.value} links", count, reason))
    return tuple(redactions)


def _finding(build: _Builder, incident: Incident, link: LinkedFinding, terms: SharingTerms) -> str | None:
    common = build.common(incident.created_at)
    if link.kind is FindingKind.URL:
        value = quote(link.ref, safe=_URI_SAFE)  # adversaries' URLs may hold characters a URI may not
        observable = stix2.v21.URL(value=value, object_marking_refs=build.markings)
        pattern = f"[url:value = {stix_pattern_literal(value)}]"
    elif link.kind is FindingKind.DOMAIN:
        observable = stix2.v21.DomainName(value=link.ref, object_marking_refs=build.markings)
        pattern = f"[domain-name:value = {stix_pattern_literal(link.ref)}]"
    elif link.kind is FindingKind.ACCOUNT:
        platform, account = _account_parts(link.ref)
        shown = terms.pseudonymiser.pseudonym(platform, account) if terms.pseudonymiser else account
        extra = {"account_type": platform} if platform else {}
        observable = stix2.v21.UserAccount(user_id=shown, object_marking_refs=build.markings,
                                           x_rrm_pseudonymised=bool(terms.pseudonymiser), allow_custom=True, **extra)
        pattern = f"[user-account:user_id = {stix_pattern_literal(shown)}]"
    else:
        return None
    observed = build.add(observable)
    indicator = build.add(stix2.v21.Indicator(
        id=build.sid("indicator", observed), name=f"{link.kind.value} linked to the incident",
        description=link.note or None, pattern=pattern, pattern_type="stix", valid_from=_ts(incident.created_at),
        indicator_types=["attribution"], **common,
    ))
    build.relate("based-on", indicator, observed, incident.created_at)
    return indicator


def _notes_and_opinions(build: _Builder, incident: Incident, incident_sid: str) -> None:
    for note in incident.notes:
        build.add(stix2.v21.Note(
            id=build.sid("note", note.created_at.isoformat(), note.text), content=note.text,
            object_refs=[incident_sid], **build.common(note.created_at),
        ))
    partners = sorted({a.partner for a in incident.assessments})
    for code in partners:
        build.add(stix2.v21.Identity(
            id=partner_identity_id(code), name=code, identity_class="organization",
            created=_ts(incident.created_at), modified=_ts(incident.created_at), object_marking_refs=build.markings,
            x_rrm_partner=code, allow_custom=True,
        ))
    for assessment in incident.assessments:
        common = build.common(assessment.assessed_at) | {"created_by_ref": partner_identity_id(assessment.partner)}
        build.add(stix2.v21.Opinion(
            id=build.sid("opinion", assessment.partner, assessment.assessed_at.isoformat()),
            opinion=assessment.stance.value, explanation=assessment.rationale or None,
            confidence=assessment.confidence, object_refs=[incident_sid], **common,
        ))
