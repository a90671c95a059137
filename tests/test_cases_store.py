"""The cases store itself: migrations on SQLite and PostgreSQL, the append-only audit log, users and roles."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from cases_pg import *  # noqa: F403  (the fixtures)
from cases_pg import Cast
from rrm.cases import (
    CasesDB,
    IncidentDraft,
    Role,
    add_partner,
    add_user,
    audit_log,
    head_revision,
    list_users,
    migrate,
    open_incident,
)
from rrm.cases.models import Base
from rrm.errors import ConflictError, InputError, PermissionDeniedError, StateError


def test_migrations_run_once_and_a_second_run_is_a_clear_no_op(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'cases.sqlite'}"
    first = migrate(url)
    assert first.before is None and first.applied == (head_revision(),)
    assert "from an empty database" in first.message
    second = migrate(url)
    assert not second.changed
    assert second.message == (f"the cases database {url} is already at the latest revision {head_revision()}: "
                              "nothing to do")


def test_migration_twice_on_postgresql_keeps_the_data(cases_url: str) -> None:
    with CasesDB(cases_url) as db:
        add_partner(db, None, "CA", name="Canada", country="CA")
        add_user(db, None, "lea", role=Role.LEAD, partner="CA")
    again = migrate(cases_url)
    assert not again.changed and "nothing to do" in again.message
    with CasesDB(cases_url) as db:
        assert [u.name for u in list_users(db)] == ["lea"]


def test_the_migrated_schema_is_the_orm_schema(cases_url: str) -> None:
    engine = create_engine(cases_url)
    try:
        found = inspect(engine)
        for table in Base.metadata.sorted_tables:
            columns = {c["name"] for c in found.get_columns(table.name)}
            assert columns == {c.name for c in table.columns}, table.name
    finally:
        engine.dispose()


def test_an_unmigrated_database_is_refused_with_the_command_to_run(tmp_path: Path) -> None:
    with pytest.raises(StateError) as caught:
        CasesDB(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    assert "run 'rrm cases migrate'" in caught.value.message


def test_a_bad_database_url_is_an_input_error() -> None:
    with pytest.raises(InputError) as caught:
        migrate("nosuchdialect://x")
    assert caught.value.field == "RRM_DATABASE_URL"


def test_audit_log_refuses_update_and_delete_in_the_database(cases: CasesDB) -> None:
    open_incident(cases, Cast.ANALYST, IncidentDraft(title="t"))
    for sql in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), cases.engine.begin() as connection:
            connection.execute(text(sql))
    entries = audit_log(cases, Cast.VIEWER)
    assert all(e.actor != "mallory" for e in entries)
    assert [e.action for e in entries][-1] == "incident.open"


def test_audit_log_filters_by_incident_and_user(cases: CasesDB) -> None:
    first = open_incident(cases, Cast.ANALYST, IncidentDraft(title="one"))
    open_incident(cases, Cast.ANALYST2, IncidentDraft(title="two"))
    by_incident = audit_log(cases, Cast.VIEWER, incident_id=first.id)
    assert [(e.actor, e.action, e.after and e.after["title"]) for e in by_incident] == [
        (Cast.ANALYST, "incident.open", "one")
    ]
    assert {e.incident_id for e in audit_log(cases, Cast.VIEWER, user=Cast.ANALYST2)} == {first.id + 1}


def test_the_first_user_must_be_a_lead_and_then_only_leads_add_users(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    migrate(url)
    with CasesDB(url) as db:
        add_partner(db, None, "CA", name="Canada", country="CA")
        with pytest.raises(PermissionDeniedError, match="first user must be a lead"):
            add_user(db, None, "ana", role=Role.ANALYST, partner="CA")
        add_user(db, None, "lea", role=Role.LEAD, partner="CA")
        add_user(db, "lea", "ana", role=Role.ANALYST, partner="CA")
        with pytest.raises(PermissionDeniedError) as caught:
            add_user(db, "ana", "eve", role=Role.LEAD, partner="CA")
        assert (caught.value.user, caught.value.role) == ("ana", "analyst")
        with pytest.raises(PermissionDeniedError, match="not a user"):
            add_partner(db, "nobody", "FR", name="France", country="FR")
        with pytest.raises(ConflictError, match="already exists"):
            add_user(db, "lea", "ana", role=Role.VIEWER, partner="CA")
        with pytest.raises(InputError) as bad:
            add_partner(db, "lea", "FR", name="France", country="France")
        assert bad.value.field == "country"


def test_viewers_cannot_edit(cases: CasesDB) -> None:
    with pytest.raises(PermissionDeniedError) as caught:
        open_incident(cases, Cast.VIEWER, IncidentDraft(title="t"))
    assert caught.value.message == "vic (viewer) may not open incidents: the analyst role is needed"
