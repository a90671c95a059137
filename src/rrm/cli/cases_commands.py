"""``rrm incident ...``, ``rrm audit``, ``rrm users ...``, ``rrm partners ...``, ``rrm lessons ...``, ``rrm cases migrate``.

Every command acts as the user named by ``--user`` (or ``RRM_USER``); ``rrm audit`` takes that as
``--as``, since its ``--user`` filters the log. ``partners_app`` is open for other command modules
(TAXII sync settings) to add their commands to.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from rrm.cases import (
    ActionKind,
    ActionStatus,
    CasesDB,
    ExportFormat,
    FindingKind,
    Incident,
    IncidentChanges,
    IncidentDraft,
    IncidentStatus,
    LessonKind,
    Likelihood,
    Role,
    Severity,
    Stance,
    add_event,
    add_lesson,
    add_note,
    add_partner,
    add_source,
    add_technique,
    add_user,
    assess,
    audit_log,
    export_lessons,
    get_incident,
    jsonable,
    link_finding,
    list_incidents,
    list_partners,
    list_users,
    migrate,
    open_from_finding,
    open_incident,
    plan_action,
    record_breakout,
    search_lessons,
    sign_statement,
    suggest_countermeasures,
    transition,
    update_action,
    update_incident,
)
from rrm.cases.vocab import parse_choice, parse_tlp
from rrm.cli.options import JsonOption, WorkspaceOption, console, print_json, workspace_of
from rrm.errors import InputError
from rrm.frameworks.tlp import TLP

__all__ = ["cases_app", "incident_app", "lessons_app", "partners_app", "register", "users_app"]

incident_app = typer.Typer(help="Open, assess, share and respond to incidents.", no_args_is_help=True)
users_app = typer.Typer(help="Local users and their roles (viewer, analyst, lead).", no_args_is_help=True)
partners_app = typer.Typer(help="Partner organisations.", no_args_is_help=True)
lessons_app = typer.Typer(help="Lessons learned from closed incidents.", no_args_is_help=True)
cases_app = typer.Typer(help="The cases database.", no_args_is_help=True)

UserOption = Annotated[
    str | None, typer.Option("--user", "-u", envvar="RRM_USER", help="Act as this user [env RRM_USER].",
                             show_default=False),
]
VersionOption = Annotated[
    int | None, typer.Option("--version", help="The version you saw ('rrm incident show'); refused if stale."),
]


def _db(workspace: Path | None) -> CasesDB:
    return CasesDB.for_workspace(workspace_of(workspace))


def _tlp(text: str | None) -> TLP | None:
    return parse_tlp(text) if text is not None else None


def _date(text: str | None, field: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{text!r} is not a date (YYYY-MM-DD)", field=field) from None


def _moment(text: str, field: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{text!r} is not a date and time (ISO 8601, e.g. 2025-02-01T12:00Z)", field=field) from None


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def _show(incident: Incident, as_json: bool) -> None:
    if as_json:
        print_json(jsonable(incident))
        return
    head = [
        f"[bold]#{incident.id} {_e(incident.title)}[/]",
        f"status [bold]{incident.status}[/] · {incident.tlp.label} · severity {incident.severity} · "
        f"version {incident.version} · breakout {incident.breakout_category or '-'}",
    ]
    if incident.target_country or incident.target_process:
        head.append(f"target: {_e(incident.target_country)} {_e(incident.target_process)}".rstrip())
    if incident.suspected_actor:
        head.append(f"suspected actor: {_e(incident.suspected_actor)} "
                    f"({_e(incident.attribution_confidence or 'confidence not stated')})")
    if incident.summary:
        head += ["", _e(incident.summary)]
    console.print(Panel("\n".join(head), expand=False))
    sections: list[tuple[str, list[str], list[list[str]]]] = [
        ("DISARM techniques", ["id", "name", "evidence"],
         [[t.technique_id, _e(t.name), _e(t.evidence)] for t in incident.techniques]),
        ("Breakout Scale", ["category", "assessed", "evidence"],
         [[str(int(b.category)), b.assessed_on.isoformat(), _e(b.evidence)] for b in incident.breakout]),
        ("Linked findings", ["kind", "ref", "run"],
         [[str(k.kind), _e(k.ref), _e(k.run_id)] for k in incident.links]),
        ("Sources", ["rating", "description", "reference"],
         [[s.rating, _e(s.description), _e(s.reference)] for s in incident.sources]),
        ("Timeline", ["when (UTC)", "event"],
         [[f"{e.occurred_at:%Y-%m-%d %H:%M}", _e(e.description)] for e in incident.timeline]),
        ("Response plan", ["#", "action", "owner", "status", "due", "description"],
         [[str(a.id), str(a.kind), a.owner, str(a.status), _e(a.due_on), _e(a.description)]
          for a in incident.actions]),
        ("Partner assessments", ["partner", "stance", "confidence", "by", "rationale"],
         [[p.partner, str(p.stance), str(p.confidence), _e(p.assessed_by), _e(p.rationale)]
          for p in incident.current_assessments]),
        ("Statements", ["#", "signed by", "text"],
         [[str(s.id), ", ".join(x.partner for x in s.signatures), _e(s.text)] for s in incident.statements]),
        ("Notes", ["by", "when (UTC)", "note"],
         [[_e(n.author), f"{n.created_at:%Y-%m-%d %H:%M}", _e(n.text)] for n in incident.notes]),
        ("Lessons learned", ["kind", "TLP", "lesson"],
         [[str(x.kind), x.tlp.label, _e(x.text)] for x in incident.lessons]),
    ]
    for title, columns, rows in sections:
        if rows:
            table = Table(*columns, title=title, title_justify="left")
            shown = rows[:50]
            for row in shown:
                table.add_row(*row)
            console.print(table)
            if len(rows) > len(shown):
                console.print(f"… and {len(rows) - len(shown)} more (see --json)")


# -- incidents ------------------------------------------------------------------------------------------


@incident_app.command("open")
def open_command(
    title: Annotated[str | None, typer.Option(help="What happened, in a line.")] = None,
    summary: Annotated[str, typer.Option(help="A longer summary.")] = "",
    from_finding: Annotated[
        str | None, typer.Option("--from-finding", help="Open from this detected community, with its evidence.")
    ] = None,
    run: Annotated[str | None, typer.Option(help="Detection run of --from-finding [default: the latest].")] = None,
    tlp: Annotated[str, typer.Option(help="TLP 2.0: clear, green, amber, amber+strict, red.")] = "amber",
    severity: Annotated[str, typer.Option(help="low, moderate, high or critical.")] = "moderate",
    country: Annotated[str | None, typer.Option(help="Targeted country (ISO code, e.g. DE).")] = None,
    process: Annotated[str | None, typer.Option(help="Targeted election or process.")] = None,
    actor: Annotated[str | None, typer.Option(help="Suspected actor.")] = None,
    confidence: Annotated[
        str | None, typer.Option(help="Attribution confidence, ICD 203 terms: 'almost no chance' … 'almost certain'.")
    ] = None,
    user: UserOption = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open an incident, by hand or from a detected community (--from-finding)."""
    level = parse_tlp(tlp)
    if from_finding is None and not title:
        raise InputError("give --title, or --from-finding COMMUNITY_ID", field="title")
    draft = IncidentDraft(
        title=title or "", summary=summary, tlp=level, severity=parse_choice(Severity, severity, field="severity"),
        target_country=country, target_process=process, suspected_actor=actor,
        attribution_confidence=Likelihood.parse(confidence) if confidence else None,
    )
    ws = workspace_of(workspace)
    with CasesDB.for_workspace(ws) as db:
        if from_finding is not None:
            incident = open_from_finding(db, user or "", ws, from_finding, run_id=run, tlp=level)
        else:
            incident = open_incident(db, user or "", draft)
    _show(incident, as_json)


@incident_app.command("show")
def show_command(
    incident_id: Annotated[int, typer.Argument(help="Incident number.")],
    user: UserOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False,
) -> None:
    """Everything about one incident."""
    with _db(workspace) as db:
        incident = get_incident(db, user or "", incident_id)
    _show(incident, as_json)


@incident_app.command("list")
def list_command(
    status: Annotated[str | None, typer.Option(help="Only incidents in this status.")] = None,
    user: UserOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False,
) -> None:
    """Incidents, most recently changed first."""
    wanted = parse_choice(IncidentStatus, status, field="status") if status else None
    with _db(workspace) as db:
        incidents = list_incidents(db, user or "", status=wanted)
    if as_json:
        print_json(jsonable(incidents))
        return
    table = Table("#", "title", "status", "TLP", "severity", "breakout", "version", "updated (UTC)")
    for i in incidents:
        table.add_row(str(i.id), _e(i.title), str(i.status), i.tlp.label, str(i.severity),
                      str(int(i.breakout_category)) if i.breakout_category else "-", str(i.version),
                      f"{i.updated_at:%Y-%m-%d %H:%M}")
    console.print(table)


@incident_app.command("update")
def update_command(
    incident_id: Annotated[int, typer.Argument(help="Incident number.")],
    version: Annotated[int, typer.Option("--version", help="The version you saw ('rrm incident show').")],
    title: Annotated[str | None, typer.Option()] = None,
    summary: Annotated[str | None, typer.Option()] = None,
    tlp: Annotated[str | None, typer.Option(help="Lowering the TLP needs the lead role.")] = None,
    severity: Annotated[str | None, typer.Option()] = None,
    country: Annotated[str | None, typer.Option(help="Targeted country; '' clears it.")] = None,
    process: Annotated[str | None, typer.Option(help="Targeted election or process; '' clears it.")] = None,
    actor: Annotated[str | None, typer.Option(help="Suspected actor; '' clears it.")] = None,
    confidence: Annotated[str | None, typer.Option(help="Attribution confidence (ICD 203 terms).")] = None,
    user: UserOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False,
) -> None:
    """Change an incident's fields; refused if someone changed it since the version you saw."""
    changes = IncidentChanges(
        title=title, summary=summary, tlp=_tlp(tlp),
        severity=parse_choice(Severity, severity, field="severity") if severity else None,
        target_country=country, target_process=process, suspected_actor=actor,
        attribution_confidence=Likelihood.parse(confidence) if confidence else None,
    )
    with _db(workspace) as db:
        incident = update_incident(db, user or "", incident_id, version, changes)
    _show(incident, as_json)


@incident_app.command("transition")
def transition_command(
    incident_id: Annotated[int, typer.Argument(help="Incident number.")],
    status: Annotated[str, typer.Argument(help="draft, assessed, shared, responding or closed.")],
    version: VersionOption = None,
    user: UserOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False,
) -> None:
    """Move an incident along draft → assessed → shared → responding → closed (closing needs a lead)."""
    wanted = parse_choice(IncidentStatus, status, field="status")
    with _db(workspace) as db:
        incident = transition(db, user or "", incident_id, wanted, expected_version=version)
    _show(incident, as_json)


@incident_app.command("add-technique")
def add_technique_command(
    incident_id: Annotated[int, typer.Argument(help="Incident number.")],
    technique: Annotated[str, typer.Argument(help="DISARM technique id, e.g. T0049.003.")],
    evidence: Annotated[str, typer.Option(help="What shows the technique was used.")],
    version: VersionOption = None,
    user: UserOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False,
) -> None:
    """Attach a DISARM technique with its evidence."""
    with _db(workspace) as db:
        incident = add_technique(db, user or "", incident_id, technique, evidence, expected_version=version)
    _show(incident, as_json)


@incident_app.command("breakout")
def breakout_command(
    incident_id: Annotated[int, typer.Argument(help="Incident number.")],
    category: Annotated[str, typer.Argument(help="Breakout Scale category 1-6.")],
    evidence: Annotated[str, typer.Option(help="What shows the category was reached.")],
    on: Annotated[str | None, typer.Option(help="Date assessed (YYYY-MM-DD) [default: today].")] = None,
    user: UserOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False,
) -> None:
    """Record the Breakout Scale category reached (the history is kept)."""
    day = _date(on, "on")
    with _db(workspace) as db:
        incident = record_breakout(db, user or "", incident_id, category, evidence, assessed_on=day)
    _show(incident, as_json)


@incident_app.command("link")
def link_command(
    incident_id: Annotated[int, typer.Argument(help="Incident number.")],
    kind: Annotated[str, typer.Argument(help="community, account, post, url or domain.")],
    ref: Annotated[str, typer.Argument(help="The community id, platform:account, post id, URL or domain.")],
    run: Annotated[str | None, typer.Option(help="Detection run the finding comes from.")] = None,
    note: Annotated[str, typer.Option()] = "",
    user: UserOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False,
) -> None:
    """Link a finding from the corpus or from detection."""
    what = parse_choice(FindingKind, kind, field="kind")
    with _db(workspace) as db:
        incident = link_finding(db, user or "", incident_id, what, ref, run_id=run, note=note)
    _show(incident, as_json)


@incident_app.command("note")
def note_command(
    incident_id: Annotated[int, typer.Argument(help="Incident number.")],
    text: Annotated[str, typer.Argument(help="The note.")],
    user: UserOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False,
) -> None:
    """Add an analyst's note."""
    with _db(workspace) as db:
        incident = add_note(db, user or "", incident_id, text)
    _show(incident, as_json)


@incident_app.command("event")
def event_command(
    incident_id: Annotated[int, typer.Argument(help="Incident number.")],
    when: Annotated[str, typer.Argument(help="When it happened (ISO 8601; UTC when no offset).")],
    description: Annotated[str, typer.Argument(help="What happened.")],
    reference: Annotated[str, typer.Option(help="A link or post id.")] = "",
    user: UserOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False,
) -> None:
    """Add an event to the incident's timeline."""
    moment = _moment(when, "when")
    with _db(workspace) as db:
        incident = add_event(db, user or "", incident_id, moment, description, reference=reference)
    _show(incident, as_json)


@incident_app.command("source")
def source_command(
    incident_id: Annotated[int, typer.Argument(help="Incident number.")],
    description: Annotated[str, typer.Argument(help="The source.")],
    rating: Annotated[str, typer.Option(help="Admiralty rating: reliability A-F and credibility 1-6, e.g. B2.")],
    reference: Annotated[str, typer.Option(help="A link or citation.")] = "",
    user: UserOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False,
) -> None:
    """Cite a source with its Admiralty rating."""
    with _db(workspace) as db:
        incident = add_source(db, user or "", incident_id, description, rating, reference=reference)
    _show(incident, as_json)


@incident_app.command("countermeasures")
def countermeasures_command(
    incident_id: Annotated[int, typer.Argument(help="Incident number.")],
    limit: Annotated[int, typer.Option(help="How many suggestions.")] = 10,
    user: UserOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False,
) -> None:
    """Countermeasures from DISARM blue for the incident's techniques, best first."""
    with _db(workspace) as db:
        advice = suggest_countermeasures(db, user or "", incident_id, limit=limit)
    if as_json:
        print_json({"incident": advice.incident_id, "techniques": advice.techniques, "warning": advice.warning,
                    "suggestions": [{"id": s.countermeasure.id, "name": s.countermeasure.name,
                                     "counters": s.technique_ids, "via_parent": s.via_parent,
                                     "via_v0_1": s.via_v0_1, "url": s.countermeasure.url}
                                    for s in advice.suggestions]})
        return
    table = Table("id", "countermeasure", "counters", "check", title=f"Suggested for incident {incident_id}")
    for s in advice.suggestions:
        check = ", ".join(x for x, on in (("via parent technique", s.via_parent), ("v0.1 link", s.via_v0_1)) if on)
        table.add_row(s.countermeasure.id, _e(s.countermeasure.name), ", ".join(s.technique_ids), check)
    console.print(table)
    console.print(Panel(_e(advice.warning), title="DISARM blue: caution", expand=False))


@incident_app.command("plan")
def plan_command(
    incident_id: Annotated[int, typer.Argument(help="Incident number.")],
    kind: Annotated[str, typer.Argument(help="public-attribution, platform-referral, debunk, prebunk, "
                                             "diplomatic-demarche, sanctions or other.")],
    description: Annotated[str, typer.Argument(help="What is to be done.")],
    owner: Annotated[str, typer.Option(help="Partner code that owns the action.")],
    due: Annotated[str | None, typer.Option(help="Due date (YYYY-MM-DD).")] = None,
    user: UserOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False,
) -> None:
    """Add an action to the incident's response plan."""
    what = parse_choice(ActionKind, kind, field="kind")
    due_on = _date(due, "due")
    with _db(workspace) as db:
        incident = plan_action(db, user or "", incident_id, what, description, owner=owner, due_on=due_on)
    _show(incident, as_json)


@incident_app.command("action")
def action_command(
    action_id: Annotated[int, typer.Argument(help="Action number (see the response plan).")],
    status: Annotated[str, typer.Argument(help="planned, in-progress, done or cancelled.")],
    user: UserOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False,
) -> None:
    """Change the status of an action of a response plan."""
    wanted = parse_choice(ActionStatus, status, field="status")
    with _db(workspace) as db:
        action = update_action(db, user or "", action_id, wanted)
    if as_json:
        print_json(jsonable(action))
    else:
        console.print(f"action {action.id} ({action.kind}, owner {action.owner}) is now [bold]{action.status}[/]")


@incident_app.command("assess")
def assess_command(
    incident_id: Annotated[int, typer.Argument(help="Incident number.")],
    stance: Annotated[str, typer.Argument(help="agree or disagree.")],
    confidence: Annotated[int, typer.Option(help="Confidence 0-100.")],
    rationale: Annotated[str, typer.Option()] = "",
    user: UserOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False,
) -> None:
    """Record your partner's assessment of the incident."""
    position = parse_choice(Stance, stance, field="stance")
    with _db(workspace) as db:
        incident = assess(db, user or "", incident_id, position, confidence, rationale=rationale)
    _show(incident, as_json)


@incident_app.command("sign")
def sign_command(
    incident_id: Annotated[int, typer.Argument(help="Incident number.")],
    text: Annotated[str | None, typer.Option(help="Draft and sign a new statement with this text.")] = None,
    statement: Annotated[int | None, typer.Option(help="Co-sign this existing statement.")] = None,
    user: UserOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False,
) -> None:
    """Sign a joint statement for your organisation (lead role)."""
    with _db(workspace) as db:
        signed = sign_statement(db, user or "", incident_id, text=text, statement_id=statement)
    if as_json:
        print_json(jsonable(signed))
    else:
        console.print(f"statement {signed.id} on incident {signed.incident_id} is signed by "
                      f"{', '.join(s.partner for s in signed.signatures)}")


# -- audit, users, partners ----------------------------------------------------------------------------


def audit_command(
    incident: Annotated[int | None, typer.Option(help="Only this incident.")] = None,
    by: Annotated[str | None, typer.Option("--user", help="Only what this user did.")] = None,
    limit: Annotated[int, typer.Option(help="The latest N entries.")] = 200,
    acting: Annotated[str | None, typer.Option("--as", envvar="RRM_USER", help="Act as this user [env RRM_USER].")]
    = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """The audit log: who did what and when, with what changed."""
    with _db(workspace) as db:
        entries = audit_log(db, acting or "", incident_id=incident, user=by, limit=limit)
    if as_json:
        print_json(jsonable(entries))
        return
    table = Table("#", "when (UTC)", "who", "action", "target", "before", "after")
    for e in entries:
        table.add_row(str(e.id), f"{e.at:%Y-%m-%d %H:%M:%S}", _e(e.actor), e.action, _e(e.target),
                      _e(_brief(e.before)), _e(_brief(e.after)))
    console.print(table)


def _brief(summary: dict[str, Any] | None) -> str:
    if not summary:
        return ""
    text = "; ".join(f"{k}={v}" for k, v in summary.items())
    return text if len(text) <= 120 else text[:119] + "…"


@users_app.command("add")
def users_add_command(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option(help="viewer, analyst or lead.")],
    partner: Annotated[str, typer.Option(help="Partner code of the user's organisation.")],
    user: UserOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False,
) -> None:
    """Add a user (a lead does it; the very first user, a lead, needs no --user)."""
    wanted = parse_choice(Role, role, field="role")
    with _db(workspace) as db:
        added = add_user(db, user, name, role=wanted, partner=partner)
    if as_json:
        print_json(jsonable(added))
    else:
        console.print(f"added {_e(added.name)} ({added.role}) of {added.partner}")


@users_app.command("list")
def users_list_command(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """The local users."""
    with _db(workspace) as db:
        users = list_users(db)
    if as_json:
        print_json(jsonable(users))
        return
    table = Table("user", "role", "partner")
    for u in users:
        table.add_row(_e(u.name), str(u.role), u.partner)
    console.print(table)


@partners_app.command("add")
def partners_add_command(
    code: Annotated[str, typer.Argument(help="Short code, e.g. CA.")],
    name: Annotated[str, typer.Option(help="Organisation name.")],
    country: Annotated[str, typer.Option(help="Country (ISO code).")],
    user: UserOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False,
) -> None:
    """Add a partner organisation (a lead does it; before any user exists, anyone)."""
    with _db(workspace) as db:
        added = add_partner(db, user, code, name=name, country=country)
    if as_json:
        print_json(jsonable(added))
    else:
        console.print(f"added partner {added.code}: {_e(added.name)} ({added.country})")


@partners_app.command("list")
def partners_list_command(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """The partner organisations."""
    with _db(workspace) as db:
        partners = list_partners(db)
    if as_json:
        print_json(jsonable(partners))
        return
    table = Table("code", "name", "country")
    for p in partners:
        table.add_row(p.code, _e(p.name), p.country)
    console.print(table)


# -- lessons learned -----------------------------------------------------------------------------------


@lessons_app.command("add")
def lessons_add_command(
    incident_id: Annotated[int, typer.Argument(help="A closed incident.")],
    kind: Annotated[str, typer.Argument(help="worked, did-not-work or recommendation.")],
    text: Annotated[str, typer.Argument(help="The lesson.")],
    tlp: Annotated[str | None, typer.Option(help="Its TLP [default: the incident's].")] = None,
    user: UserOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False,
) -> None:
    """Record a lesson learned on a closed incident."""
    what = parse_choice(LessonKind, kind, field="kind")
    level = _tlp(tlp)
    with _db(workspace) as db:
        incident = add_lesson(db, user or "", incident_id, what, text, tlp=level)
    _show(incident, as_json)


@lessons_app.command("search")
def lessons_search_command(
    text: Annotated[str, typer.Argument(help="Words to find (all of them).")],
    tlp: Annotated[str | None, typer.Option(help="Only lessons marked at or below this TLP.")] = None,
    user: UserOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False,
) -> None:
    """Search lessons learned."""
    level = _tlp(tlp)
    with _db(workspace) as db:
        hits = search_lessons(db, user or "", text, tlp=level)
    if as_json:
        print_json(jsonable(hits))
        return
    table = Table("incident", "kind", "TLP", "lesson")
    for h in hits:
        table.add_row(f"{h.incident_id} {_e(h.incident_title or '')}".strip(), str(h.lesson.kind),
                      h.lesson.tlp.label, _e(h.lesson.text))
    console.print(table)


@lessons_app.command("export")
def lessons_export_command(
    tlp: Annotated[str, typer.Option(help="Only content marked at or below this TLP.")],
    format_name: Annotated[str, typer.Option("--format", help="markdown or json.")] = "markdown",
    output: Annotated[Path | None, typer.Option(help="Write to this file instead of standard output.")] = None,
    incident: Annotated[list[int] | None, typer.Option(help="Only these incidents (repeat).")] = None,
    user: UserOption = None, workspace: WorkspaceOption = None,
) -> None:
    """Export lessons learned for partners at a chosen TLP, as Markdown or JSON."""
    level = parse_tlp(tlp)
    fmt = parse_choice(ExportFormat, format_name, field="format")
    with _db(workspace) as db:
        export = export_lessons(db, user or "", level, format=fmt, incident_ids=incident)
    if output is None:
        typer.echo(export.text, nl=False)
    else:
        output.write_text(export.text, encoding="utf-8")
        console.print(f"wrote {export.lessons} lessons at {export.tlp.label} to {_e(output)} "
                      f"({export.withheld} marked above it left out)")


# -- the database --------------------------------------------------------------------------------------


@cases_app.command("migrate")
def migrate_command(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Create or upgrade the cases database schema (SQLite in the workspace, or RRM_DATABASE_URL)."""
    result = migrate(workspace_of(workspace).cases_database_url)
    if as_json:
        print_json({"database": result.database, "before": result.before, "after": result.after,
                    "applied": result.applied, "changed": result.changed, "message": result.message})
    else:
        console.print(_e(result.message))


def register(app: typer.Typer) -> None:
    app.add_typer(incident_app, name="incident")
    app.command("audit")(audit_command)
    app.add_typer(users_app, name="users")
    app.add_typer(partners_app, name="partners")
    app.add_typer(lessons_app, name="lessons")
    app.add_typer(cases_app, name="cases")
