"""Entity resolution: blocking and scores, the review queue and its order, people's decisions kept across runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rrm.cli.app import app
from rrm.errors import InputError, NotFoundError
from rrm.transparency import Link, MoneyStore, decide, links, resolve, review_queue
from rrm.transparency.names import name_key
from rrm.workspace import Workspace

runner = CliRunner()

EC = """ECRef,RegulatedEntityName,Value,AcceptedDate,DonorName,DonorStatus,Postcode,RegulatedEntityType
A1,Party One,"£1,000.00",01/02/2024,Acme Holdings Ltd,Company,SW1A 1AA,Political Party
A2,Party One,"£2,000.00",01/03/2024,ACME HOLDINGS LIMITED,Company,SW1A 1AA,Political Party
A3,Party One,"£3,000.00",01/04/2024,Acme Holding,Company,,Political Party
A4,Party One,"£3,000.00",01/04/2024,Zeta Group,Company,,Political Party
A5,Party One,"£100.00",01/04/2024,Embassy of Ruritania,Other,,Political Party
A6,Party One,"£100.00",01/04/2024,Embassy of Ruritannia,Other,,Political Party
"""

# FEC individuals: the same person twice (same name, same ZIP), a spouse (same surname and ZIP, other forename),
# a namesake across the country, and a middle initial in one place
FEC = "\n".join(
    f"C00000001|N|Q1|P|1|15|IND|{name}|{city}|{state}|{zip_code}|X|Y|0301201{n % 8}|250||T{n}|1||x|{n}"
    for n, (name, city, state, zip_code) in enumerate([
        ("SMITH, JOHN", "BOSTON", "MA", "02110"), ("SMITH, JOHN A", "BOSTON", "MA", "02110"),
        ("SMITH, JOAN", "BOSTON", "MA", "02110"), ("SMITH, JOHN", "SEATTLE", "WA", "98101"),
        ("SMITH, JOHN", "BOSTON", "MA", "02115"),
    ], start=1)) + "\n"


@pytest.fixture
def money(workspace: Workspace, tmp_path: Path) -> MoneyStore:
    store = MoneyStore(workspace)
    (tmp_path / "ec.csv").write_text(EC, encoding="utf-8")
    (tmp_path / "itcont.txt").write_text(FEC, encoding="utf-8")
    store.ingest([tmp_path / "ec.csv", tmp_path / "itcont.txt"])
    return store


def _pair(found: list[Link], a: str, b: str) -> list[Link]:
    return [link for link in found if {name_key(link.name_l), name_key(link.name_r)} == {name_key(a), name_key(b)}]


def test_links_people_within_an_area_and_organisations_by_core_name(money: MoneyStore) -> None:
    summary = resolve(money)
    found = links(money)
    # "Acme Holdings Ltd" and "ACME HOLDINGS LIMITED" share one name key: one mention
    [acme] = _pair(found, "Acme Holding", "Acme Holdings Ltd")
    assert acme.status == "review" and "names very similar" in acme.evidence
    assert "organisation, GB" in acme.detail_l + acme.detail_r and "donor" in acme.detail_l
    assert not [link for link in found if "Zeta Group" in (link.name_l, link.name_r)]
    smiths = [link for link in found if "SMITH" in link.name_l]
    names = {frozenset((link.name_l, link.name_r)) for link in smiths}
    assert frozenset(("SMITH, JOHN", "SMITH, JOHN A")) in names  # same ZIP, a middle initial more
    assert not any("JOAN" in name for pair in names for name in pair)  # the spouse is another person
    assert all("98101" not in link.detail_l + link.detail_r for link in smiths)  # never compared across the country
    same_zip = [link for link in smiths if "02110" in link.detail_l and "02110" in link.detail_r]
    assert same_zip and all(link.status == "accepted" and link.probability > 0.99 for link in same_zip)
    assert summary.review == len(review_queue(money))


def test_decisions_are_kept_with_who_and_when_and_survive_new_runs(money: MoneyStore) -> None:
    resolve(money)
    [acme] = _pair(review_queue(money), "Acme Holding", "Acme Holdings Ltd")
    decided = decide(money, acme.link_id, True, user="ana", note="same company number")
    assert (decided.status, decided.decided_by) == ("accepted", "ana") and decided.decided_at is not None
    [embassy] = _pair(review_queue(money), "Embassy of Ruritania", "Embassy of Ruritannia")
    decide(money, embassy.link_id, False, user="ben")
    summary = resolve(money)
    assert summary.decided == 2
    assert _pair(links(money, "accepted"), "Acme Holding", "Acme Holdings Ltd")[0].decided_by == "ana"
    assert _pair(links(money, "rejected"), "Embassy of Ruritania", "Embassy of Ruritannia")
    assert not _pair(review_queue(money), "Embassy of Ruritania", "Embassy of Ruritannia")
    with money.connect() as db:
        history = db.execute("SELECT decision, decided_by, note FROM link_decisions ORDER BY decided_at").fetchall()
    assert history == [("accepted", "ana", "same company number"), ("rejected", "ben", None)]
    with pytest.raises(NotFoundError, match="no link 'nope'"):
        decide(money, "nope", True, user="ana")
    with pytest.raises(InputError, match="say who decides"):
        decide(money, acme.link_id, True, user=" ")


def test_queue_shows_links_touching_flagged_money_first(money: MoneyStore) -> None:
    resolve(money)
    queue = review_queue(money)
    assert len(queue) >= 2
    assert queue[0].flag_rules == "foreign-state-donor"  # the embassy pair: a state donor was flagged
    assert {queue[0].name_l, queue[0].name_r} == {"Embassy of Ruritania", "Embassy of Ruritannia"}
    assert all(not link.flag_rules for link in queue[1:])


def test_cli_review_accept_reject(money: MoneyStore) -> None:
    ws = str(money.workspace.root)
    result = runner.invoke(app, ["money", "resolve", "-w", ws, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["review"] == 2
    result = runner.invoke(app, ["money", "links", "--review", "-w", ws, "--json"])
    queue = json.loads(result.output)
    assert [row["status"] for row in queue] == ["review", "review"]
    first = queue[0]["link_id"]
    result = runner.invoke(app, ["money", "links", "--review", "-w", ws])
    assert result.exit_code == 0 and first in result.output and "foreign-stat" in result.output
    result = runner.invoke(app, ["money", "links", "reject", first, "-w", ws], env={"RRM_USER": ""})
    assert result.exit_code == 2 and "say who decides: --user NAME or RRM_USER" in " ".join(result.output.split())
    result = runner.invoke(app, ["money", "links", "reject", first, "-w", ws, "--user", "ana", "--note", "branch"])
    assert result.exit_code == 0 and f"rejected {first}" in result.output
    result = runner.invoke(app, ["money", "links", "accept", queue[1]["link_id"], "-w", ws], env={"RRM_USER": "ben"})
    assert result.exit_code == 0 and "(by ben)" in result.output
    result = runner.invoke(app, ["money", "links", "--status", "rejected", "-w", ws, "--json"])
    assert [(row["link_id"], row["decided_by"]) for row in json.loads(result.output)] == [(first, "ana")]
    result = runner.invoke(app, ["money", "links", "accept", "0000000000", "-w", ws, "--user", "ana"])
    assert result.exit_code != 0 and "no link '0000000000'" in result.output
