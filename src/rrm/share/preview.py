"""Know what leaves, and take it back: preview an export for a partner, log exports, revoke objects.

- :func:`share_incident` builds what a partner would receive (STIX or MISP) under its agreement: the TLP
  ceiling (the TAXII partner's ``max_tlp`` if the node has that partner, else the one given), redactions
  and pseudonymised accounts. With ``log=True`` the export is written to the cases audit log
  (``share.export``: who, when, which partner, which objects, which TLP, which file); a preview logs nothing.
- :func:`revoke` makes a new version of a shared object with ``revoked: true`` and adds it to every TAXII
  collection of this node that holds the object, so partners receive it at their next sync.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select

from rrm.cases.audit import record
from rrm.cases.db import CasesDB
from rrm.cases.incidents import get_incident
from rrm.cases.permissions import acting_user
from rrm.cases.vocab import Role
from rrm.errors import InputError, NotFoundError
from rrm.frameworks.tlp import TLP
from rrm.share.misp import MispExport, export_misp
from rrm.share.pseudonymise import Pseudonymiser
from rrm.share.signing import NodeKey
from rrm.share.stix_export import (
    DisarmStixIndex,
    NodeIdentity,
    Redaction,
    SharingTerms,
    StixExport,
    export_incident,
)
from rrm.share.stix_import import origin_of, received_key_of
from rrm.share.taxii import tables as taxii_tables
from rrm.share.taxii.store import TaxiiStore

__all__ = ["EXPORT_ACTION", "Revocation", "SharePlan", "ceiling_for", "revoke", "share_incident"]

EXPORT_ACTION = "share.export"
ShareFormat = Literal["stix", "misp"]


@dataclass(frozen=True)
class SharePlan:
    """What a partner receives (or would receive) of one incident."""

    format: ShareFormat
    incident_id: int
    partner: str | None
    tlp: TLP
    ceiling: TLP
    ceiling_from: str  # "taxii partner" or "option"
    objects: dict[str, int]  # type -> count
    object_ids: tuple[str, ...]
    redactions: tuple[Redaction, ...]
    pseudonymised: int
    warnings: tuple[str, ...]
    document: dict[str, Any]  # the bundle or the MISP event

    def to_json(self) -> str:
        return json.dumps(self.document, indent=2, ensure_ascii=False, sort_keys=True)


def ceiling_for(taxii: TaxiiStore | None, partner: str | None, max_tlp: TLP | None) -> tuple[TLP, str]:
    """The TLP ceiling of an export: the TAXII partner's ``max_tlp`` when the node has that partner."""
    if taxii is not None and partner:
        known = taxii.partner(partner)
        if known is not None:
            return known.max_tlp, "taxii partner"
    if max_tlp is None:
        if partner:
            raise InputError(f"the TAXII node has no partner {partner!r}: give its ceiling with --max-tlp",
                             field="max_tlp")
        return TLP.RED, "option"
    return max_tlp, "option"


def share_incident(
    db: CasesDB, actor: str, incident_id: int, node: NodeIdentity, *, fmt: ShareFormat = "stix",
    partner: str | None = None, ceiling: TLP = TLP.RED, ceiling_from: str = "option",
    pseudonymiser: Pseudonymiser | None = None, disarm_ids: DisarmStixIndex | None = None,
    sign_with: NodeKey | None = None, log: bool = False, destination: str | None = None,
) -> SharePlan:
    """Build the export of one incident for ``partner``; with ``log``, record it in the audit log."""
    incident = get_incident(db, actor, incident_id)
    terms = SharingTerms(partner=partner.upper() if partner else None, max_tlp=ceiling, pseudonymiser=pseudonymiser)
    if fmt == "stix":
        stix: StixExport = export_incident(incident, node, terms=terms, origin=origin_of(db, incident_id),
                                           disarm_ids=disarm_ids, sign_with=sign_with)
        plan = SharePlan("stix", incident_id, terms.partner, incident.tlp, ceiling, ceiling_from,
                         stix.count_by_type(), tuple(o["id"] for o in stix.objects), stix.redactions,
                         stix.pseudonymised, stix.warnings, stix.bundle)
    else:
        misp: MispExport = export_misp(incident, node.uuid, terms=terms, received_key=received_key_of(db, incident_id))
        event = misp.event["Event"]
        counts = {"event": 1, "attribute": len(event.get("Attribute", [])), "object": len(event.get("Object", [])),
                  "tag": len(event.get("Tag", [])), "note": len(event.get("Note", [])),
                  "opinion": len(event.get("Opinion", [])), "event-report": len(event.get("EventReport", []))}
        accounts = sum(1 for link in incident.links if link.kind.value == "account")
        plan = SharePlan("misp", incident_id, terms.partner, incident.tlp, ceiling, ceiling_from,
                         {k: v for k, v in counts.items() if v}, (f"misp-event--{misp.event_uuid}",),
                         misp.redactions, accounts if pseudonymiser else 0, (), misp.event)
    if log:
        with db.transaction() as session:
            user = acting_user(session, actor, Role.ANALYST, "share incidents with partners")
            record(session, user.name, EXPORT_ACTION, f"incident {incident_id} {fmt} to {terms.partner or '(file)'}",
                   incident_id=incident_id, after={
                       "format": fmt, "partner": terms.partner, "tlp": incident.tlp.label, "ceiling": ceiling.label,
                       "destination": destination, "objects": list(plan.object_ids),
                       "pseudonymised": plan.pseudonymised, "signed": sign_with is not None,
                   })
    return plan


@dataclass(frozen=True)
class Revocation:
    object_id: str
    version: str  # the new modified
    obj: dict[str, Any]
    collections: tuple[str, ...]  # TAXII collections the revoked version was added to


def _stix_now(after: str | None) -> str:
    moment = datetime.now(UTC)
    if after:
        previous = datetime.fromisoformat(after.replace("Z", "+00:00"))
        moment = max(moment, previous + timedelta(milliseconds=1))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def revoke(taxii: TaxiiStore, object_id: str, *, known: Sequence[dict[str, Any]] = ()) -> Revocation:
    """A new version of ``object_id`` with ``revoked: true``, added to every collection holding it.

    The latest version is taken from this node's TAXII collections, else from ``known`` objects (an
    exported bundle). SCOs and marking definitions cannot be revoked (STIX has no versions for them).
    """
    o = taxii_tables.objects.c
    with taxii.engine.connect() as connection:
        rows = connection.execute(
            select(o.collection_id, o.body).where(o.object_id == object_id, o.is_latest.is_(True))
        ).all()
    latest: dict[str, Any] | None = None
    for row in rows:
        body = json.loads(row.body)
        if latest is None or str(body.get("modified", "")) > str(latest.get("modified", "")):
            latest = body
    for obj in known:
        if obj.get("id") == object_id and (latest is None or str(obj.get("modified", "")) > str(latest.get("modified", ""))):
            latest = dict(obj)
    if latest is None:
        raise NotFoundError(f"no object {object_id[:100]!r} in this node's TAXII collections or the given bundle")
    if "modified" not in latest or latest.get("type") == "marking-definition":
        raise InputError("has no versions in STIX (an observable or a marking definition): it cannot be revoked",
                         source=object_id[:100])
    revoked = {**latest, "revoked": True, "modified": _stix_now(str(latest["modified"]))}
    collections = tuple(sorted({row.collection_id for row in rows}))
    for collection in collections:
        taxii.add(collection, [revoked])
    return Revocation(object_id, revoked["modified"], revoked, collections)


def write_document(plan: SharePlan, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(plan.to_json() + "\n", encoding="utf-8")
