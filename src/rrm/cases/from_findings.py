"""Open an incident from a detected community, with its evidence attached.

The community's accounts, evidence posts and shared links become linked findings; its behaviours
suggest DISARM techniques (``BEHAVIOUR_TECHNIQUES``), each attached with the evidence that suggests
it; the first and last coordinated posts go on the timeline. All of it in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from rrm.cases.audit import record
from rrm.cases.convert import incident_fields
from rrm.cases.db import CasesDB
from rrm.cases.incidents import get_incident
from rrm.cases.models import IncidentRow, LinkRow, TechniqueRow, TimelineRow
from rrm.cases.permissions import acting_user
from rrm.cases.values import Incident
from rrm.cases.vocab import FindingKind, IncidentStatus, Role, Severity
from rrm.detect.model import Community
from rrm.frameworks.disarm import load_disarm
from rrm.frameworks.tlp import TLP
from rrm.workspace import Workspace

__all__ = ["BEHAVIOUR_TECHNIQUES", "MAX_LINKED_POSTS", "open_from_community", "open_from_finding",
           "suggested_techniques"]

BEHAVIOUR_TECHNIQUES: Mapping[str, tuple[str, ...]] = {
    "co-reshare": ("T0049.003",),  # Bots Amplify via Automated Forwarding and Reposting (Flood Information Space)
    "co-reply": ("T0049.005",),  # Conduct Swarming
    "co-mention": ("T0049.005",),  # Conduct Swarming
    "sync-activity": ("T0049.005",),  # Conduct Swarming
    "co-hashtag": ("T0049.002",),  # Flood Existing Hashtag
    "co-link": ("T0119",),  # Cross-Posting
    "co-text": ("T0084.001",),  # Use Copypasta
    "co-image": ("T0084",),  # Reuse Existing Content
}
"""Detection behaviour → DISARM red techniques it is evidence of (suggestions for the analyst to confirm)."""

MAX_LINKED_POSTS = 200


def suggested_techniques(community: Community) -> dict[str, list[str]]:
    """DISARM technique id → the behaviours of ``community`` that suggest it."""
    suggested: dict[str, list[str]] = {}
    for behaviour, edges in sorted(community.behaviours.items(), key=lambda item: -item[1]):
        if edges <= 0:
            continue
        for technique_id in BEHAVIOUR_TECHNIQUES.get(behaviour, ()):
            suggested.setdefault(technique_id, []).append(behaviour)
    return suggested


def _link_targets(community: Community) -> list[tuple[FindingKind, str]]:
    targets = [(FindingKind.ACCOUNT, account) for account in community.accounts]
    posts: dict[str, None] = {}
    shared: dict[tuple[FindingKind, str], None] = {}
    for post in community.evidence:
        if len(posts) < MAX_LINKED_POSTS:
            posts[post.post_id] = None
        if post.behaviour == "co-link":
            if urlsplit(post.object).scheme in ("http", "https"):
                shared[(FindingKind.URL, post.object)] = None
            elif post.object and " " not in post.object:
                shared[(FindingKind.DOMAIN, post.object.lower())] = None
    return targets + [(FindingKind.POST, p) for p in posts] + list(shared)


def open_from_community(
    db: CasesDB, actor: str, community: Community, *, run_id: str | None = None, tlp: TLP = TLP.AMBER,
    severity: Severity = Severity.MODERATE,
) -> Incident:
    """A new draft incident for a detected community, with its accounts, posts, behaviours and techniques."""
    disarm = load_disarm()
    suggested = suggested_techniques(community)
    behaviours = sorted(community.behaviours, key=lambda b: -community.behaviours[b])
    where = f" in run {run_id}" if run_id else ""
    with db.transaction() as session:
        user = acting_user(session, actor, Role.ANALYST, "open incidents")
        row = IncidentRow(
            title=f"Coordinated {', '.join(behaviours[:3]) or 'activity'} by {len(community.accounts)} accounts "
                  f"(community {community.community_id}{where})"[:300],
            summary=community.explanation[:100_000],
            status=IncidentStatus.DRAFT.value, tlp=tlp.name, severity=severity.value, created_by=user.name,
        )
        session.add(row)
        session.flush()
        record(session, user.name, "incident.open", f"incident {row.id}", incident_id=row.id,
               after=incident_fields(row) | {"from_community": community.community_id, "run_id": run_id})
        session.add(LinkRow(incident_id=row.id, kind=FindingKind.COMMUNITY.value, ref=community.community_id,
                            run_id=run_id, created_by=user.name,
                            note=f"score {community.score:.3f}; " + ", ".join(
                                f"{name} {value:.3f}" for name, value in sorted(community.parts.items()))))
        for kind, ref in _link_targets(community):
            session.add(LinkRow(incident_id=row.id, kind=kind.value, ref=ref[:2000], run_id=run_id, note="",
                                created_by=user.name))
        for technique_id, sources in suggested.items():
            technique = disarm.technique(technique_id)
            evidence = "; ".join(
                f"{community.behaviours[b]} significant {b} edges among the {len(community.accounts)} accounts "
                f"of community {community.community_id}{where}" for b in sources
            ) + " (suggested by detection: confirm or remove)"
            session.add(TechniqueRow(incident_id=row.id, technique_id=technique.id, name=technique.name,
                                     evidence=evidence, created_by=user.name))
        if community.evidence:
            first = min(community.evidence, key=lambda p: p.time)
            last = max(community.evidence, key=lambda p: p.time)
            for moment, what in ((first, "first"), (last, "last")):
                session.add(TimelineRow(
                    incident_id=row.id, occurred_at=moment.time, created_by=user.name, reference=moment.post_id,
                    description=f"{what} coordinated post in the evidence ({moment.behaviour} by {moment.account})",
                ))
        record(session, user.name, "incident.evidence", f"incident {row.id}", incident_id=row.id,
               after={"community": community.community_id, "run_id": run_id, "accounts": len(community.accounts),
                      "evidence_posts": len(community.evidence), "techniques": sorted(suggested)})
        incident_id = row.id
    return get_incident(db, actor, incident_id)


def open_from_finding(
    db: CasesDB, actor: str, workspace: Workspace, community_id: str, *, run_id: str | None = None,
    tlp: TLP = TLP.AMBER,
) -> Incident:
    """Open an incident from community ``community_id`` of detection run ``run_id`` (default: the latest)."""
    from rrm.detect.findings import FindingsStore  # detection is heavy: loaded only when used

    store = FindingsStore(workspace)
    chosen = run_id if run_id is not None else store.latest_id()
    return open_from_community(db, actor, store.community(chosen, community_id), run_id=chosen, tlp=tlp)
