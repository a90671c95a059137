"""Coordinated response: countermeasures from DISARM blue, response plans, partner assessments and
the joint sign-on of statements by several partners."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from rrm.cases.audit import record
from rrm.cases.convert import to_incident, to_statement
from rrm.cases.db import CasesDB
from rrm.cases.incidents import editing, get_incident, text_field
from rrm.cases.models import (
    PartnerAssessmentRow,
    ResponseActionRow,
    SignatureRow,
    StatementRow,
)
from rrm.cases.permissions import partner_by_code
from rrm.cases.values import CountermeasureAdvice, Incident, ResponseAction, Statement
from rrm.cases.vocab import ActionKind, ActionStatus, Role, Stance
from rrm.errors import ConflictError, InputError, NotFoundError
from rrm.frameworks.disarm import DISARM_BLUE_WARNING, load_disarm

__all__ = ["assess", "plan_action", "sign_statement", "suggest_countermeasures", "update_action"]


def suggest_countermeasures(db: CasesDB, actor: str, incident_id: int, *, limit: int = 10) -> CountermeasureAdvice:
    """Countermeasures from DISARM blue for the incident's techniques, best first, with DISARM's warning."""
    incident = get_incident(db, actor, incident_id)
    techniques = tuple(t.technique_id for t in incident.techniques)
    suggestions = load_disarm().countermeasures_for(techniques) if techniques else []
    return CountermeasureAdvice(incident_id=incident_id, techniques=techniques, warning=DISARM_BLUE_WARNING,
                                suggestions=tuple(suggestions[: max(limit, 0)]))


def plan_action(
    db: CasesDB, actor: str, incident_id: int, kind: ActionKind, description: str, *, owner: str,
    due_on: date | None = None, status: ActionStatus = ActionStatus.PLANNED,
) -> Incident:
    """Add an action to the incident's response plan, owned by a partner."""
    text = text_field(description, "description")
    with editing(db, actor, incident_id, Role.ANALYST, "plan responses") as (session, user, row):
        partner = partner_by_code(session, owner)
        session.add(ResponseActionRow(incident_id=row.id, kind=kind.value, description=text, owner=partner,
                                      status=status.value, due_on=due_on, created_by=user.name))
        record(session, user.name, "plan.add", f"incident {row.id}", incident_id=row.id,
               after={"kind": kind.value, "owner": partner.code, "status": status.value,
                      "due_on": due_on.isoformat() if due_on else None, "description": text})
        incident_id = row.id
    return get_incident(db, actor, incident_id)


def update_action(db: CasesDB, actor: str, action_id: int, status: ActionStatus) -> ResponseAction:
    """Move one action of a response plan to a new status."""
    with db.transaction() as session:
        action = session.get(ResponseActionRow, action_id)
        if action is None:
            raise NotFoundError(f"no response action {action_id}")
        incident_id = action.incident_id
    with editing(db, actor, incident_id, Role.ANALYST, "update response plans") as (session, user, row):
        action = next(a for a in row.actions if a.id == action_id)
        record(session, user.name, "plan.update", f"action {action_id}", incident_id=row.id,
               before={"status": action.status}, after={"status": status.value})
        action.status = status.value
        session.flush()
        result = next(a for a in to_incident(row).actions if a.id == action_id)
    return result


def assess(
    db: CasesDB, actor: str, incident_id: int, stance: Stance, confidence: int, *, rationale: str = ""
) -> Incident:
    """The acting user's partner agrees or disagrees with the incident, with a confidence 0–100.

    A partner may assess again; the latest assessment is the partner's current one, earlier ones stay.
    """
    if not 0 <= confidence <= 100:
        raise InputError(f"confidence is 0 to 100, not {confidence}", field="confidence")
    with editing(db, actor, incident_id, Role.ANALYST, "assess incidents") as (session, user, row):
        session.add(PartnerAssessmentRow(incident_id=row.id, partner_id=user.partner_id, stance=stance.value,
                                         confidence=confidence, created_by=user.name,
                                         rationale=text_field(rationale, "rationale", required=False)))
        record(session, user.name, "incident.assess", f"incident {row.id}", incident_id=row.id,
               after={"partner": user.partner.code, "stance": stance.value, "confidence": confidence})
    return get_incident(db, actor, incident_id)


def sign_statement(
    db: CasesDB, actor: str, incident_id: int, *, text: str | None = None, statement_id: int | None = None
) -> Statement:
    """A lead signs a statement on the incident for their organisation.

    With ``text``, a new statement is drafted and signed; with ``statement_id``, the acting lead's partner
    co-signs an existing one (once per partner).
    """
    if (text is None) == (statement_id is None):
        raise InputError("give either the text of a new statement or the id of one to co-sign", field="statement")
    body = text_field(text, "text") if text is not None else None
    with editing(db, actor, incident_id, Role.LEAD, "sign statements for their organisation") as (
        session, user, row,
    ):
        if body is not None:
            statement = StatementRow(incident_id=row.id, text=body, created_by=user.name)
            session.add(statement)
            session.flush()
        else:
            found = session.scalars(
                select(StatementRow).where(StatementRow.id == statement_id, StatementRow.incident_id == row.id)
            ).one_or_none()
            if found is None:
                raise NotFoundError(f"no statement {statement_id} on incident {row.id}")
            statement = found
            if any(s.partner_id == user.partner_id for s in statement.signatures):
                raise ConflictError(f"{user.partner.code} has already signed statement {statement.id}")
        statement.signatures.append(SignatureRow(partner_id=user.partner_id, partner=user.partner,
                                                 signed_by=user.name))
        session.flush()
        record(session, user.name, "statement.sign", f"statement {statement.id}", incident_id=row.id,
               after={"partner": user.partner.code, "statement": statement.id,
                      "signatures": [s.partner.code for s in statement.signatures]})
        result = to_statement(statement)
    return result
