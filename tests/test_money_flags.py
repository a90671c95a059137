"""Flags on the real samples and on planted cases; every flag carries its rule and evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import shared_data
from rrm.transparency import MoneyStore, ReadOptions, all_rules, run_flags
from rrm.transparency.resolve import links, resolve
from rrm.workspace import Workspace

T = "transparency/"


@pytest.fixture
def money(workspace: Workspace) -> MoneyStore:
    return MoneyStore(workspace)


def _count(flags: list, rule: str) -> int:  # type: ignore[type-arg]
    return sum(1 for f in flags if f.rule == rule)


def test_rules_are_registered() -> None:
    assert set(all_rules()) == {
        "foreign-money", "foreign-state-donor", "payer-not-sponsor", "missing-disclaimer", "election-surge",
        "incident-entity", "just-under-threshold", "repeated-past-limit", "eu-notice-missing",
    }


def test_uk_sample_flags(money: MoneyStore) -> None:
    money.ingest([shared_data(T + "uk-electoral-commission-sample/donations_sample_300.csv")])
    flags = run_flags(money)
    states = {f.subject for f in flags if f.rule == "foreign-state-donor"}
    assert "The Kingdom of Saudi Arabia" in states and "Embassy of Israel London" in states
    assert _count(flags, "foreign-state-donor") == 13
    assert _count(flags, "just-under-threshold") == 2
    assert _count(flags, "repeated-past-limit") == 3
    assert all(dict(f.evidence)["rule"] for f in flags)


def test_fec_sample_flags(money: MoneyStore) -> None:
    money.ingest([shared_data(T + "fec-itcont-sample/itcont_random10k_2015-2018.txt"),
                  shared_data(T + "fec-committee-master/cm.txt")])
    flags = run_flags(money, ["foreign-money", "just-under-threshold"])
    foreign = [f for f in flags if f.rule == "foreign-money"]
    assert len(foreign) == 16
    paris = [f for f in foreign if "PARIS" in dict(f.evidence)["address"]]
    assert paris and dict(paris[0].evidence)["donor country"] in {"FR", "foreign, country not given (ZZ)"}
    assert _count(flags, "just-under-threshold") == 72


def test_snap_sample_foreign_payers(money: MoneyStore) -> None:
    money.ingest([shared_data(T + "snapchat-political-ads-2019/PoliticalAds_US2019_from_xls.csv")])
    flags = run_flags(money, ["foreign-money", "eu-notice-missing"])
    foreign = [f for f in flags if f.rule == "foreign-money"]
    assert len(foreign) == 106
    evidence = dict(foreign[0].evidence)
    assert evidence["payer country"] != evidence["audience country"]
    assert _count(flags, "eu-notice-missing") == 383


def test_meta_api_eu_notice(money: MoneyStore) -> None:
    money.ingest([shared_data(T + "meta-ad-library-api-2019-EU/ads_archive_sample_EP2019.json")],
                 options=ReadOptions(country="EU"))
    flags = run_flags(money, ["eu-notice-missing", "missing-disclaimer"])
    assert _count(flags, "eu-notice-missing") == 25
    assert "12(1)(e)" in dict(flags[0].evidence)["missing"]
    assert _count(flags, "missing-disclaimer") == 0


def test_meta_report_without_disclaimer(money: MoneyStore) -> None:
    money.ingest([shared_data(T + "meta-ad-library-report/extracted/FacebookAdLibraryReport_2025-07-13_AD_last_30_days_"
                                  "advertisers.csv")])
    flags = run_flags(money, ["missing-disclaimer"])
    assert flags and all(dict(f.evidence)["finding"] == "These ads ran without a disclaimer" for f in flags)


PLANTED = """ADID,CreativeUrl,Currency Code,Spend,Impressions,StartDate,EndDate,OrganizationName,BillingAddress,\
CandidateBallotInformation,PayingAdvertiserName,Gender,AgeBracket,CountryCode
a1,,GBP,50.0,1000.0,2019/06/01 00:00:00Z,,Friends of Harbour,"1 Road,London,SW1A 1AA,GB",,Friends of Harbour,,18+,\
united kingdom
a2,,GBP,5000.0,90000.0,2019/11/20 00:00:00Z,,Northwind Trading Ltd,"9 Ulitsa,Moscow,101000,RU",,Friends of Harbour,,18+,\
united kingdom
"""


def test_planted_foreign_payer_surge_and_incident(money: MoneyStore, tmp_path: Path) -> None:
    path = tmp_path / "snap.csv"
    path.write_text(PLANTED, encoding="utf-8")
    money.ingest([path])
    flags = run_flags(money, incident_entities=["NORTHWIND TRADING"])
    rules = {f.rule for f in flags}
    assert {"foreign-money", "payer-not-sponsor", "election-surge", "incident-entity"} <= rules
    [foreign] = [f for f in flags if f.rule == "foreign-money"]
    assert dict(foreign.evidence)["payer country"] == "RU"


def test_resolution_links_with_evidence_and_review_queue(money: MoneyStore, tmp_path: Path) -> None:
    path = tmp_path / "ec.csv"
    path.write_text(
        "ECRef,RegulatedEntityName,Value,AcceptedDate,DonorName,DonorStatus,Postcode,RegulatedEntityType\n"
        "A1,Party One,\"£1,000.00\",01/02/2024,Acme Holdings Ltd,Company,SW1A 1AA,Political Party\n"
        "A2,Party One,\"£2,000.00\",01/03/2024,ACME HOLDINGS LIMITED,Company,SW1A 1AA,Political Party\n"
        "A3,Party One,\"£3,000.00\",01/04/2024,Acme Holding,Company,,Political Party\n"
        "A4,Party One,\"£3,000.00\",01/04/2024,Zeta Group,Company,,Political Party\n", encoding="utf-8")
    money.ingest([path])
    summary = resolve(money)
    found = links(money, None)
    assert summary.mentions == 4  # "Acme Holdings Ltd" and "ACME HOLDINGS LIMITED" share one name key
    pair = [link for link in found if {"Acme Holding", "Acme Holdings Ltd"} & {link.name_l, link.name_r}]
    assert pair and "names" in pair[0].evidence and 0 < pair[0].probability <= 1
    assert not [link for link in found if "Zeta Group" in (link.name_l, link.name_r)]


def test_demo_money_files_raise_the_planted_flags(money: MoneyStore, tmp_path: Path) -> None:
    from rrm.demo.stage_money import write_money_files

    money.ingest(list(write_money_files(tmp_path / "demo", 7)))
    flags = run_flags(money, incident_entities=["Baltic Horizon Media"])
    subjects = {(f.rule, f.subject) for f in flags}
    assert ("foreign-state-donor", "Embassy of Ruritania") in subjects
    assert ("repeated-past-limit", "Tallinn Holdings Ltd") in subjects
    assert sum(1 for f in flags if f.rule == "just-under-threshold" and f.subject.startswith("Cash Giver")) == 3
    assert sum(1 for f in flags if f.rule == "foreign-money") == 6
    assert ("election-surge", "Baltic Horizon Media OU") in subjects
