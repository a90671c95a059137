"""Demo stage 40: open incidents from the planted campaigns that detection found.

For each community of the latest detection run whose accounts are mostly planted campaign accounts,
an incident is opened (as the demo lead, created on first use) with its evidence, suggested DISARM
techniques and the best DISARM blue countermeasures. Communities already opened as incidents for the
same run are not opened again, so running the demo twice adds nothing.
"""

from __future__ import annotations

from collections import Counter

from rrm.cases import (
    CasesDB,
    FindingKind,
    Role,
    add_partner,
    add_user,
    get_incident,
    list_incidents,
    list_users,
    migrate,
    open_from_community,
    suggest_countermeasures,
)
from rrm.demo.pipeline import DemoContext, StageResult, register_stage
from rrm.detect.findings import FindingsStore

__all__ = ["DEMO_LEAD", "run"]

DEMO_LEAD = "demo-lead"
_PLANTED_SHARE = 0.5


def _demo_user(db: CasesDB) -> str | None:
    """The demo lead, created in an empty cases database; None where others' users exist but not it."""
    names = {u.name for u in list_users(db)}
    if DEMO_LEAD in names:
        return DEMO_LEAD
    if names:
        return None
    add_partner(db, None, "DEMO", name="Demo RRM partner", country="EU")
    add_user(db, None, DEMO_LEAD, role=Role.LEAD, partner="DEMO")
    return DEMO_LEAD


def run(context: DemoContext) -> StageResult:
    findings = FindingsStore(context.workspace)
    runs = findings.runs()
    if not runs:
        return StageResult("Incidents", ("No detection run in the workspace: no incidents opened.",))
    latest = runs[-1]
    url = context.workspace.cases_database_url
    migrate(url)
    labels = context.scenario.labels
    lines: list[str] = []
    with CasesDB(url) as db:
        actor = _demo_user(db)
        if actor is None:
            return StageResult("Incidents", (f"The cases database has users but no {DEMO_LEAD!r}: "
                                             "no incidents opened.",))
        opened = {
            (link.run_id, link.ref)
            for summary in list_incidents(db, actor)
            for link in get_incident(db, actor, summary.id).links
            if link.kind is FindingKind.COMMUNITY
        }
        for community in latest.communities:
            planted = Counter(labels[a].split(":")[0] for a in community.accounts if a in labels)
            if not planted or sum(planted.values()) < _PLANTED_SHARE * len(community.accounts):
                continue
            campaign, _ = planted.most_common(1)[0]
            if (latest.run_id, community.community_id) in opened:
                lines.append(f"Community {community.community_id} ({campaign}) is already an incident.")
                continue
            incident = open_from_community(db, actor, community, run_id=latest.run_id)
            advice = suggest_countermeasures(db, actor, incident.id, limit=3)
            techniques = ", ".join(f"{t.technique_id} {t.name}" for t in incident.techniques) or "none suggested"
            counters = ", ".join(f"{s.countermeasure.id} {s.countermeasure.name}" for s in advice.suggestions)
            lines.append(f"Incident {incident.id} from community {community.community_id} (planted {campaign}, "
                         f"{len(community.accounts)} accounts): {techniques}.")
            if counters:
                lines.append(f"  countermeasures to consider: {counters}.")
        if any(line.startswith("  countermeasures") for line in lines):
            lines.append("DISARM blue caution: the countermeasures come from a 2019 workshop framework; "
                         "consider what is ethical, proportionate and lawful (see 'rrm incident countermeasures').")
    if not lines:
        lines.append(f"No community of detection run {latest.run_id} is mostly planted accounts.")
    return StageResult("Incidents", tuple(lines))


register_stage("incidents", 40, run)
