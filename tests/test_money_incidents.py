"""The incident-entity rule against a real cases database (SQLite in tmp_path), read through ``rrm.cases``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rrm.cases import (
    CasesDB,
    FindingKind,
    IncidentDraft,
    IncidentStatus,
    Role,
    add_partner,
    add_user,
    link_finding,
    migrate,
    open_incident,
    transition,
)
from rrm.cli.app import app
from rrm.errors import PermissionDeniedError
from rrm.transparency import MoneyStore, from_cases, run_flags
from rrm.workspace import Workspace

runner = CliRunner()

SNAP = """ADID,CreativeUrl,Currency Code,Spend,Impressions,StartDate,EndDate,OrganizationName,BillingAddress,\
CandidateBallotInformation,PayingAdvertiserName,Gender,AgeBracket,CountryCode
a1,,GBP,50.0,1000.0,2019/06/01 00:00:00Z,,Friends of Harbour,"1 Road,London,SW1A 1AA,GB",,Friends of Harbour,,18+,\
united kingdom
a2,,GBP,500.0,9000.0,2019/10/20 00:00:00Z,,Northwind Trading Ltd,"9 Ulitsa,Moscow,101000,RU",,Friends of Harbour,,18+,\
united kingdom
a3,,GBP,800.0,9000.0,2019/10/21 00:00:00Z,,Baltic Horizon OU,"Narva mnt 5,Tallinn,10117,EE",,Concerned Britons,,18+,\
united kingdom
"""
EC = """ECRef,RegulatedEntityName,Value,AcceptedDate,DonorName,DonorStatus,Postcode,RegulatedEntityType
D1,Harbour Party,"£4,900.00",10/02/2019,Tallinn Holdings Ltd,Company,,Political Party
D2,Harbour Party,"£900.00",10/02/2019,Harbour Friends Club,Unincorporated Association,,Political Party
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[MoneyStore, dict[str, int]]:
    """A workspace with money and a cases database: one open and one closed incident."""
    root = tmp_path_factory.mktemp("incidents")
    workspace = Workspace.resolve(root / "ws").ensure()
    store = MoneyStore(workspace)
    (root / "snap.csv").write_text(SNAP, encoding="utf-8")
    (root / "ec.csv").write_text(EC, encoding="utf-8")
    store.ingest([root / "snap.csv", root / "ec.csv"])
    migrate(workspace.cases_database_url)
    with CasesDB(workspace.cases_database_url) as db:
        add_partner(db, None, "GB", name="United Kingdom", country="GB")
        add_user(db, None, "lea", role=Role.LEAD, partner="GB")
        add_user(db, "lea", "vic", role=Role.VIEWER, partner="GB")
        ads = open_incident(db, "lea", IncidentDraft(title="Covert ads before the vote", suspected_actor="Northwind Trading"))
        link_finding(db, "lea", ads.id, FindingKind.DOMAIN, "news.baltic-horizon.ee")
        link_finding(db, "lea", ads.id, FindingKind.POST, "1234567890")
        gifts = open_incident(db, "lea", IncidentDraft(title="Gifts from Tallinn", suspected_actor="TALLINN HOLDINGS"))
        transition(db, "lea", gifts.id, IncidentStatus.CLOSED)
    return store, {"ads": ads.id, "gifts": gifts.id}


def test_entities_of_open_and_closed_incidents(world: tuple[MoneyStore, dict[str, int]]) -> None:
    store, ids = world
    found = from_cases(store.workspace, "vic")
    assert {(e.name, e.kind, e.incident_id, e.status) for e in found.entities} == {
        ("Northwind Trading", "suspected actor", ids["ads"], "draft"),
        ("baltic horizon", "domain", ids["ads"], "draft"),
        ("TALLINN HOLDINGS", "suspected actor", ids["gifts"], "closed"),
    }
    assert found.note == "3 entities of 2 incidents in the cases database"


def test_money_of_incident_entities_is_flagged_with_incident_and_probability(
    world: tuple[MoneyStore, dict[str, int]],
) -> None:
    store, ids = world
    flags = run_flags(store, ["incident-entity"], cases_user="vic")
    by_subject: dict[str, list[dict[str, str]]] = {}
    for flag in flags:
        by_subject.setdefault(flag.subject, []).append(dict(flag.evidence))
    assert set(by_subject) == {"Northwind Trading Ltd", "Baltic Horizon OU", "Tallinn Holdings Ltd"}
    northwind = by_subject["Northwind Trading Ltd"][0]
    assert northwind["incident"] == f"incident {ids['ads']}: Covert ads before the vote (draft)"
    assert northwind["incident entity"] == "Northwind Trading (suspected actor)"
    assert northwind["matched name"] == "Northwind Trading Ltd"
    assert float(northwind["match probability"].split()[0]) >= 0.5 and "name keys equal" in northwind["match probability"]
    # one ad, as payer (billed in EE) and as advertiser (audience GB): two mentions of one name, one flag per role
    assert sorted(e["role"] for e in by_subject["Baltic Horizon OU"]) == ["advertiser", "payer"]
    baltic = by_subject["Baltic Horizon OU"][0]
    assert baltic["incident entity"] == "baltic horizon (domain)" and "similar" in baltic["match probability"]
    tallinn = by_subject["Tallinn Holdings Ltd"][0]
    assert tallinn["role"] == "donor" and tallinn["incident"].endswith("Gifts from Tallinn (closed)")


def test_no_user_no_cases_and_unknown_user(world: tuple[MoneyStore, dict[str, int]], tmp_path: Path) -> None:
    store, _ = world
    assert from_cases(store.workspace, None).note.startswith("the cases database was not read")
    assert not run_flags(store, ["incident-entity"])
    empty = Workspace.resolve(tmp_path / "empty").ensure()
    assert from_cases(empty, "vic").note == "no cases database in this workspace"
    with pytest.raises(PermissionDeniedError, match="'mallory' is not a user"):
        run_flags(store, ["incident-entity"], cases_user="mallory")


def test_cli_reads_incidents_as_the_user(world: tuple[MoneyStore, dict[str, int]]) -> None:
    store, _ = world
    ws = str(store.workspace.root)
    result = runner.invoke(app, ["money", "flags", "-w", ws, "--rule", "incident-entity", "--json"],
                           env={"RRM_USER": "vic"})
    assert result.exit_code == 0, result.output
    assert {row["subject"] for row in json.loads(result.output)} == {
        "Northwind Trading Ltd", "Baltic Horizon OU", "Tallinn Holdings Ltd"}
    result = runner.invoke(app, ["money", "flags", "-w", ws, "--rule", "incident-entity"], env={"RRM_USER": ""})
    assert result.exit_code == 0
    assert "the cases database was not read: say who you are" in " ".join(result.output.split())
