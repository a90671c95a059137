"""Incidents on SQLite and PostgreSQL: workflow, TLP, optimistic locking, evidence, findings."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from cases_pg import *  # noqa: F403  (the fixtures)
from cases_pg import Cast
from rrm.cases import (
    CasesDB,
    FindingKind,
    IncidentChanges,
    IncidentDraft,
    IncidentStatus,
    Likelihood,
    add_event,
    add_note,
    add_source,
    add_technique,
    audit_log,
    get_incident,
    link_finding,
    list_incidents,
    open_from_community,
    open_incident,
    record_breakout,
    transition,
    update_incident,
)
from rrm.detect.model import Community, EvidencePost
from rrm.errors import ConflictError, InputError, InvalidTransitionError, NotFoundError, PermissionDeniedError
from rrm.frameworks.tlp import TLP


def _open(db: CasesDB, **fields: object) -> int:
    return open_incident(db, Cast.ANALYST, IncidentDraft(title="Flooding #vote2025", **fields)).id  # type: ignore[arg-type]


def test_the_workflow_moves_forward_and_refuses_skips(cases: CasesDB) -> None:
    incident_id = _open(cases)
    for status in (IncidentStatus.ASSESSED, IncidentStatus.SHARED, IncidentStatus.RESPONDING):
        assert transition(cases, Cast.ANALYST, incident_id, status).status is status
    with pytest.raises(PermissionDeniedError, match="lead role is needed"):
        transition(cases, Cast.ANALYST, incident_id, IncidentStatus.CLOSED)
    closed = transition(cases, Cast.LEAD, incident_id, IncidentStatus.CLOSED)
    assert closed.status is IncidentStatus.CLOSED
    with pytest.raises(InvalidTransitionError) as caught:
        transition(cases, Cast.LEAD, incident_id, IncidentStatus.SHARED)
    assert (caught.value.current, caught.value.requested) == ("closed", "shared")
    assert caught.value.message == f"incident {incident_id} is closed: it cannot become shared (from closed: responding)"


def test_an_invalid_transition_changes_nothing(cases: CasesDB) -> None:
    incident_id = _open(cases)
    with pytest.raises(InvalidTransitionError, match="draft: it cannot become responding"):
        transition(cases, Cast.ANALYST, incident_id, IncidentStatus.RESPONDING)
    incident = get_incident(cases, Cast.VIEWER, incident_id)
    assert (incident.status, incident.version) == (IncidentStatus.DRAFT, 1)


def test_two_analysts_editing_the_same_version_second_gets_a_conflict_and_nothing_is_lost(cases: CasesDB) -> None:
    incident_id = _open(cases)
    seen_by_ana = get_incident(cases, Cast.ANALYST, incident_id)
    seen_by_bob = get_incident(cases, Cast.ANALYST2, incident_id)
    update_incident(cases, Cast.ANALYST, incident_id, seen_by_ana.version, IncidentChanges(summary="Ana's summary"))
    with pytest.raises(ConflictError) as caught:
        update_incident(cases, Cast.ANALYST2, incident_id, seen_by_bob.version, IncidentChanges(summary="Bob's"))
    assert "changed by ana" in caught.value.message and "version 1" in caught.value.message
    now = get_incident(cases, Cast.VIEWER, incident_id)
    assert (now.summary, now.version) == ("Ana's summary", 2)
    retried = update_incident(cases, Cast.ANALYST2, incident_id, now.version, IncidentChanges(title="Bob's title"))
    assert (retried.summary, retried.title, retried.version) == ("Ana's summary", "Bob's title", 3)


def test_lowering_the_tlp_needs_a_lead_raising_it_does_not(cases: CasesDB) -> None:
    incident_id = _open(cases, tlp=TLP.AMBER)
    raised = update_incident(cases, Cast.ANALYST, incident_id, 1, IncidentChanges(tlp=TLP.RED))
    with pytest.raises(PermissionDeniedError) as caught:
        update_incident(cases, Cast.ANALYST, incident_id, raised.version, IncidentChanges(tlp=TLP.GREEN))
    assert caught.value.message == (
        f"ana (analyst) may not lower the TLP of incident {incident_id} from TLP:RED to TLP:GREEN: "
        "the lead role is needed"
    )
    assert get_incident(cases, Cast.VIEWER, incident_id).tlp is TLP.RED
    lowered = update_incident(cases, Cast.LEAD, incident_id, raised.version, IncidentChanges(tlp=TLP.GREEN))
    assert lowered.tlp is TLP.GREEN
    entry = audit_log(cases, Cast.VIEWER, incident_id=incident_id)[-1]
    assert (entry.actor, entry.before, entry.after) == (Cast.LEAD, {"tlp": "RED", "version": 2},
                                                        {"tlp": "GREEN", "version": 3})


def test_unknown_disarm_techniques_are_rejected(cases: CasesDB) -> None:
    incident_id = _open(cases)
    with pytest.raises(NotFoundError, match="T9999"):
        add_technique(cases, Cast.ANALYST, incident_id, "T9999", "none")
    with pytest.raises(InputError):
        add_technique(cases, Cast.ANALYST, incident_id, "T0049.003", "   ")
    incident = add_technique(cases, Cast.ANALYST, incident_id, "t0049.003", "400 reposts within 60 s")
    assert [(t.technique_id, t.name) for t in incident.techniques] == [
        ("T0049.003", "Bots Amplify via Automated Forwarding and Reposting")
    ]
    assert get_incident(cases, Cast.VIEWER, incident_id).version == 2


def test_evidence_breakout_history_sources_timeline_notes(cases: CasesDB) -> None:
    incident_id = _open(cases, target_country="de", target_process="Bundestag election 2025",
                        suspected_actor="Doppelganger", attribution_confidence=Likelihood.parse("highly likely"))
    record_breakout(cases, Cast.ANALYST, incident_id, 2, "two platforms", assessed_on=date(2025, 1, 2))
    record_breakout(cases, Cast.ANALYST, incident_id, "category 4", "picked up by TV", assessed_on=date(2025, 1, 9))
    with pytest.raises(InputError):
        record_breakout(cases, Cast.ANALYST, incident_id, 7, "off the scale")
    add_source(cases, Cast.ANALYST, incident_id, "Platform takedown report", "b-2", reference="https://example.org")
    with pytest.raises(InputError):
        add_source(cases, Cast.ANALYST, incident_id, "rumour", "Z9")
    add_event(cases, Cast.ANALYST, incident_id, datetime(2025, 1, 5, tzinfo=UTC), "second wave")
    add_event(cases, Cast.ANALYST, incident_id, datetime(2025, 1, 1, tzinfo=UTC), "first posts")
    link_finding(cases, Cast.ANALYST, incident_id, FindingKind.DOMAIN, "fake-news.example")
    link_finding(cases, Cast.ANALYST, incident_id, FindingKind.DOMAIN, "fake-news.example")
    with pytest.raises(InputError):
        link_finding(cases, Cast.ANALYST, incident_id, FindingKind.URL, "javascript:alert(1)")
    incident = add_note(cases, Cast.ANALYST2, incident_id, "<script>alert(1)</script> kept as text")
    assert incident.target_country == "DE" and incident.attribution_confidence is Likelihood.VERY_LIKELY
    assert [b.category for b in incident.breakout] == [2, 4] and incident.breakout_category == 4
    assert [s.rating for s in incident.sources] == ["B2"]
    assert [e.description for e in incident.timeline] == ["first posts", "second wave"]
    assert [(k.kind, k.ref) for k in incident.links] == [(FindingKind.DOMAIN, "fake-news.example")]
    assert incident.notes[0].text.startswith("<script>")
    assert [i.id for i in list_incidents(cases, Cast.VIEWER, status=IncidentStatus.DRAFT)] == [incident_id]


def _community() -> Community:
    t0 = datetime(2025, 2, 1, 12, 0, tzinfo=UTC)
    evidence = tuple(
        EvidencePost(f"x:acct{i}", f"x:post{i}", t0.replace(minute=i), behaviour, obj)
        for i, (behaviour, obj) in enumerate([
            ("co-reshare", "x:origin1"), ("co-reshare", "x:origin1"),
            ("co-link", "https://fake-news.example/a"), ("co-link", "https://fake-news.example/a"),
        ])
    )
    return Community(
        community_id="c7", accounts=("x:acct0", "x:acct1", "x:acct2", "x:acct3"), score=0.91,
        parts={"behaviours": 0.5, "time": 0.41}, behaviours={"co-reshare": 12, "co-link": 3, "co-unknown": 2},
        explanation="Four accounts reshared the same posts within seconds.", evidence=evidence,
    )


def test_an_incident_opened_from_a_community_carries_its_evidence(cases: CasesDB) -> None:
    incident = open_from_community(cases, Cast.ANALYST, _community(), run_id="run-1")
    assert incident.title == "Coordinated co-reshare, co-link, co-unknown by 4 accounts (community c7 in run run-1)"
    assert incident.status is IncidentStatus.DRAFT and incident.tlp is TLP.AMBER
    kinds = [k.kind for k in incident.links]
    assert kinds.count(FindingKind.ACCOUNT) == 4 and kinds.count(FindingKind.POST) == 4
    assert (FindingKind.URL, "https://fake-news.example/a") in [(k.kind, k.ref) for k in incident.links]
    assert incident.links[0].kind is FindingKind.COMMUNITY and incident.links[0].run_id == "run-1"
    assert [t.technique_id for t in incident.techniques] == ["T0049.003", "T0119"]
    assert "12 significant co-reshare edges" in incident.techniques[0].evidence
    assert [e.occurred_at.minute for e in incident.timeline] == [0, 3]
    assert [e.action for e in audit_log(cases, Cast.VIEWER, incident_id=incident.id)] == [
        "incident.open", "incident.evidence"
    ]
