"""Coordinated response and lessons learned, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date

import pytest

from cases_pg import *  # noqa: F403  (the fixtures)
from cases_pg import Cast
from rrm.cases import (
    ActionKind,
    ActionStatus,
    CasesDB,
    ExportFormat,
    IncidentDraft,
    IncidentStatus,
    LessonKind,
    Stance,
    add_lesson,
    add_technique,
    assess,
    export_lessons,
    open_incident,
    plan_action,
    search_lessons,
    sign_statement,
    suggest_countermeasures,
    transition,
    update_action,
)
from rrm.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError, StateError
from rrm.frameworks.disarm import DISARM_BLUE_WARNING, load_disarm
from rrm.frameworks.tlp import TLP


def _incident(db: CasesDB, title: str = "Flooding #vote2025", tlp: TLP = TLP.AMBER) -> int:
    return open_incident(db, Cast.ANALYST, IncidentDraft(title=title, tlp=tlp)).id


def test_countermeasures_come_ranked_from_disarm_blue_with_the_warning(cases: CasesDB) -> None:
    incident_id = _incident(cases)
    assert suggest_countermeasures(cases, Cast.VIEWER, incident_id).suggestions == ()
    add_technique(cases, Cast.ANALYST, incident_id, "T0049.003", "reposting ring")
    advice = suggest_countermeasures(cases, Cast.VIEWER, incident_id, limit=5)
    expected = [s.countermeasure.id for s in load_disarm().countermeasures_for(["T0049.003"])][:5]
    assert [s.countermeasure.id for s in advice.suggestions] == expected and expected
    assert advice.warning == DISARM_BLUE_WARNING


def test_a_response_plan_with_owners_and_statuses(cases: CasesDB) -> None:
    incident_id = _incident(cases)
    incident = plan_action(cases, Cast.ANALYST, incident_id, ActionKind.PLATFORM_REFERRAL, "refer the ring",
                           owner="fr", due_on=date(2025, 3, 1))
    with pytest.raises(NotFoundError, match="no partner 'XX'"):
        plan_action(cases, Cast.ANALYST, incident_id, ActionKind.DEBUNK, "debunk", owner="XX")
    action = incident.actions[0]
    assert (action.kind, action.owner, action.status, action.due_on) == (
        ActionKind.PLATFORM_REFERRAL, "FR", ActionStatus.PLANNED, date(2025, 3, 1))
    assert update_action(cases, Cast.ANALYST2, action.id, ActionStatus.DONE).status is ActionStatus.DONE


def test_partner_assessments_keep_history_and_check_confidence(cases: CasesDB) -> None:
    incident_id = _incident(cases)
    with pytest.raises(InputError) as caught:
        assess(cases, Cast.ANALYST, incident_id, Stance.AGREE, 101)
    assert caught.value.field == "confidence"
    assess(cases, Cast.ANALYST, incident_id, Stance.AGREE, 60)
    assess(cases, Cast.LEAD_FR, incident_id, Stance.DISAGREE, 30, rationale="organic")
    incident = assess(cases, Cast.ANALYST2, incident_id, Stance.AGREE, 85)
    assert len(incident.assessments) == 3
    assert {(a.partner, a.stance, a.confidence) for a in incident.current_assessments} == {
        ("CA", Stance.AGREE, 85), ("FR", Stance.DISAGREE, 30)}


def test_joint_sign_on_needs_leads_once_per_partner(cases: CasesDB) -> None:
    incident_id = _incident(cases)
    with pytest.raises(PermissionDeniedError):
        sign_statement(cases, Cast.ANALYST, incident_id, text="We attribute…")
    statement = sign_statement(cases, Cast.LEAD, incident_id, text="Canada and France attribute this operation.")
    cosigned = sign_statement(cases, Cast.LEAD_FR, incident_id, statement_id=statement.id)
    assert [s.partner for s in cosigned.signatures] == ["CA", "FR"]
    with pytest.raises(ConflictError, match="FR has already signed"):
        sign_statement(cases, Cast.LEAD_FR, incident_id, statement_id=statement.id)


def _closed_with_lessons(db: CasesDB) -> int:
    incident_id = _incident(db, title="Doppelganger clones", tlp=TLP.AMBER)
    with pytest.raises(StateError, match="once it is closed"):
        add_lesson(db, Cast.ANALYST, incident_id, LessonKind.WORKED, "too early")
    transition(db, Cast.LEAD, incident_id, IncidentStatus.CLOSED)
    add_lesson(db, Cast.ANALYST, incident_id, LessonKind.WORKED, "Prebunking <b>before</b> the vote", tlp=TLP.CLEAR)
    add_lesson(db, Cast.ANALYST, incident_id, LessonKind.DID_NOT_WORK, "Referral took 9 days", tlp=TLP.GREEN)
    add_lesson(db, Cast.ANALYST, incident_id, LessonKind.RECOMMENDATION, "Share the source at AMBER only")
    return incident_id


def test_lessons_are_searchable_and_filtered_by_tlp(cases: CasesDB) -> None:
    incident_id = _closed_with_lessons(cases)
    assert [h.lesson.text for h in search_lessons(cases, Cast.VIEWER, "REFERRAL days")] == ["Referral took 9 days"]
    assert len(search_lessons(cases, Cast.VIEWER, "doppelganger")) == 3
    hits = search_lessons(cases, Cast.VIEWER, "doppelganger", tlp=TLP.GREEN)
    assert {h.lesson.text for h in hits} == {"Prebunking <b>before</b> the vote", "Referral took 9 days"}
    assert {h.incident_title for h in hits} == {None} and {h.incident_id for h in hits} == {incident_id}
    assert search_lessons(cases, Cast.VIEWER, "100%_") == []


def test_lessons_export_holds_only_content_at_or_below_the_tlp(cases: CasesDB) -> None:
    incident_id = _closed_with_lessons(cases)
    markdown = export_lessons(cases, Cast.VIEWER, TLP.GREEN)
    assert (markdown.lessons, markdown.withheld) == (2, 1)
    assert "AMBER only" not in markdown.text and "Doppelganger" not in markdown.text
    assert f"## Incident {incident_id}\n" in markdown.text
    assert "- Prebunking &lt;b&gt;before&lt;/b&gt; the vote (TLP:CLEAR)" in markdown.text
    as_json = json.loads(export_lessons(cases, Cast.VIEWER, TLP.AMBER, format=ExportFormat.JSON).text)
    assert as_json["tlp"] == "TLP:AMBER"
    assert as_json["incidents"][0]["title"] == "Doppelganger clones"
    assert [x["tlp"] for x in as_json["incidents"][0]["lessons"]] == ["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER"]
