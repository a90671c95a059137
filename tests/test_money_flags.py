"""Flags on the real samples (each ingested once per module) and on planted cases; every flag has its evidence."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from conftest import shared_data
from rrm.transparency import Flag, MoneyStore, ReadOptions, all_rules, run_flags
from rrm.workspace import Workspace

T = "transparency/"


def _store(factory: pytest.TempPathFactory, name: str, *paths: str, options: ReadOptions | None = None) -> MoneyStore:
    files = [shared_data(T + p) for p in paths]
    store = MoneyStore(Workspace.resolve(factory.mktemp(name) / "ws").ensure())
    store.ingest(files, options=options)
    return store


@pytest.fixture(scope="module")
def uk(tmp_path_factory: pytest.TempPathFactory) -> MoneyStore:
    return _store(tmp_path_factory, "uk", "uk-electoral-commission-sample/donations_sample_300.csv")


@pytest.fixture(scope="module")
def fec(tmp_path_factory: pytest.TempPathFactory) -> MoneyStore:
    return _store(tmp_path_factory, "fec", "fec-itcont-sample/itcont_random10k_2015-2018.txt",
                  "fec-committee-master/cm.txt")


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> MoneyStore:
    return _store(tmp_path_factory, "snap", "snapchat-political-ads-2019/PoliticalAds_US2019_from_xls.csv")


@pytest.fixture
def money(workspace: Workspace) -> MoneyStore:
    return MoneyStore(workspace)


def _count(flags: list[Flag], rule: str) -> int:
    return sum(1 for f in flags if f.rule == rule)


def test_rules_are_registered() -> None:
    assert set(all_rules()) == {
        "foreign-money", "foreign-state-donor", "payer-not-sponsor", "missing-disclaimer", "election-surge",
        "incident-entity", "just-under-threshold", "repeated-past-limit", "eu-notice-missing",
    }


def test_uk_sample_flags_use_the_thresholds_of_the_recipient_type(uk: MoneyStore) -> None:
    flags = run_flags(uk)
    states = {f.subject for f in flags if f.rule == "foreign-state-donor"}
    assert "The Kingdom of Saudi Arabia" in states and "Embassy of Israel London" in states
    assert _count(flags, "foreign-state-donor") == 13
    [under] = [f for f in flags if f.rule == "just-under-threshold"]
    evidence = dict(under.evidence)
    assert evidence["amount"] == "10973.75 GBP" and evidence["threshold"].startswith("11180 GBP: UK central party")
    [repeated] = [f for f in flags if f.rule == "repeated-past-limit"]
    evidence = dict(repeated.evidence)
    assert evidence["total"] == "2500.00 GBP"
    assert evidence["limit"].startswith("2230 GBP per calendar year: UK regulated donee reporting threshold from 1 Jan 2024")
    assert all(dict(f.evidence)["rule"] for f in flags)


def test_fec_sample_flags(fec: MoneyStore) -> None:
    flags = run_flags(fec, ["foreign-money", "just-under-threshold", "repeated-past-limit"])
    foreign = [f for f in flags if f.rule == "foreign-money"]
    assert len(foreign) == 16
    paris = [f for f in foreign if "PARIS" in dict(f.evidence)["address"]]
    assert paris and dict(paris[0].evidence)["donor country"] in {"FR", "foreign, country not given (ZZ)"}
    assert _count(flags, "just-under-threshold") == 72
    assert _count(flags, "repeated-past-limit") == 0  # a random 10k sample: no donor gives one committee twice


def test_snap_sample_flags(snap: MoneyStore) -> None:
    flags = run_flags(snap, ["foreign-money", "eu-notice-missing", "payer-not-sponsor", "election-surge"])
    foreign = [f for f in flags if f.rule == "foreign-money"]
    assert len(foreign) == 106
    evidence = dict(foreign[0].evidence)
    assert evidence["payer country"] != evidence["audience country"]
    assert _count(flags, "eu-notice-missing") == 383
    payer = [f for f in flags if f.rule == "payer-not-sponsor"]
    assert len(payer) == 2215
    agencies = [f for f in payer if f.priority == 0]
    assert len(agencies) == 1200 and all("payer looks like an agency" in dict(f.evidence)["agency"] for f in agencies)
    assert payer[-1].priority == 0 and payer[0].priority == 1  # agency billing ranks last
    blueprint = [f for f in payer if dict(f.evidence)["payer"] == "Blueprint Interactive"]
    assert "'interactive'" in dict(blueprint[0].evidence)["agency"]
    surges = [f for f in flags if f.rule == "election-surge"]
    assert len(surges) == 6
    assert all(dict(f.evidence)["trigger"].startswith(("surge:", "first appearance:")) for f in surges)


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


SNAP_HEADER = ("ADID,CreativeUrl,Currency Code,Spend,Impressions,StartDate,EndDate,OrganizationName,BillingAddress,"
               "CandidateBallotInformation,PayingAdvertiserName,Gender,AgeBracket,CountryCode\n")


def _snap_row(ad: str, spend: int, day: str, payer: str, address: str, sponsor: str) -> str:
    return f'{ad},,GBP,{spend}.0,1000.0,{day} 00:00:00Z,,{payer},"{address}",,{sponsor},,18+,united kingdom\n'


def test_surge_needs_a_real_surge_or_a_large_first_appearance(money: MoneyStore, tmp_path: Path) -> None:
    london = "1 Road,London,SW1A 1AA,GB"
    rows = [
        # steady: 600 a week before, 700 a week in the window: not a surge
        *(_snap_row(f"s{i}", 600, f"2019/{6 + i // 4:02d}/{1 + 7 * (i % 4):02d}", "Steady Org", london, "Steady Org")
          for i in range(20)),
        *(_snap_row(f"t{i}", 700, f"2019/11/{15 + 7 * i:02d}", "Steady Org", london, "Steady Org") for i in range(3)),
        # surging: 50 a week before, 5,000 in the window
        _snap_row("u1", 50, "2019/06/01", "Surging Org", london, "Surging Org"),
        _snap_row("u2", 50, "2019/07/01", "Surging Org", london, "Surging Org"),
        _snap_row("u3", 5000, "2019/11/20", "Surging Org", london, "Surging Org"),
        # new, small: begins in the final month with 3,000; new, large: 12,000
        _snap_row("n1", 3000, "2019/11/20", "Small Newcomer", london, "Small Newcomer"),
        _snap_row("b1", 12000, "2019/11/20", "Big Newcomer", london, "Big Newcomer"),
    ]
    path = tmp_path / "snap.csv"
    path.write_text(SNAP_HEADER + "".join(rows), encoding="utf-8")
    money.ingest([path])
    surges = {f.subject: dict(f.evidence)["trigger"] for f in run_flags(money, ["election-surge"])}
    assert set(surges) == {"Surging Org", "Big Newcomer"}
    assert surges["Surging Org"].startswith("surge: weekly spend in the window 1167 GBP is 23.3× its median")
    assert surges["Big Newcomer"].startswith("first appearance: no spend in the 182 days before the window")


def test_planted_foreign_payer(money: MoneyStore, tmp_path: Path) -> None:
    path = tmp_path / "snap.csv"
    path.write_text(SNAP_HEADER + _snap_row("a1", 50, "2019/06/01", "Friends of Harbour", "1 Road,London,SW1A 1AA,GB",
                                            "Friends of Harbour")
                    + _snap_row("a2", 12000, "2019/11/20", "Northwind Trading Ltd", "9 Ulitsa,Moscow,101000,RU",
                                "Friends of Harbour"), encoding="utf-8")
    money.ingest([path])
    flags = run_flags(money, incident_entities=["NORTHWIND TRADING"])
    rules = Counter(f.rule for f in flags)
    assert {"foreign-money", "payer-not-sponsor", "election-surge", "incident-entity"} <= set(rules)
    [foreign] = [f for f in flags if f.rule == "foreign-money"]
    assert dict(foreign.evidence)["payer country"] == "RU"
    [paid] = [f for f in flags if f.rule == "payer-not-sponsor"]
    assert paid.priority == 1 and "agency" not in dict(paid.evidence)


def test_canada_and_fec_limits_add_up_per_period(money: MoneyStore, tmp_path: Path) -> None:
    fec = tmp_path / "itcont.txt"
    base = "C00000001|N|Q1|{pgi}|1|15|IND|DOE, JANE|BOSTON|MA|02110|X|Y|{day}|{amount}||T{n}|1||x|{n}"
    fec.write_text("\n".join(base.format(pgi=pgi, day=day, amount=amount, n=n) for n, (pgi, day, amount) in enumerate([
        ("P", "03012018", 1500), ("P", "04012018", 1500),  # 3,000 for the primary: past 2,700
        ("G", "09012018", 1000), ("G", "10012018", 1000),  # 2,000 for the general: under
    ], start=1)) + "\n", encoding="utf-8")
    cm = tmp_path / "cm.txt"
    cm.write_text("C00000001|DOE FOR CONGRESS|T|1 MAIN|ST|BOSTON|MA|02110|P|H|DEM|Q|||H8MA00001\n"
                  "C00000002|OTHER PAC|T|1 MAIN|ST|BOSTON|MA|02110|U|Q|||||\n", encoding="utf-8")
    money.ingest([fec, cm])
    [flag] = run_flags(money, ["repeated-past-limit"])
    evidence = dict(flag.evidence)
    assert evidence["period"] == "P election 2018" and evidence["total"] == "3000.00 USD"
    assert evidence["limit"].startswith("2700 USD per election: FEC limit per candidate per election, 2017-2018")


def test_demo_money_files_raise_the_planted_flags(money: MoneyStore, tmp_path: Path) -> None:
    from rrm.demo.stage_money import PLANTED_PAYER, write_money_files

    money.ingest(list(write_money_files(tmp_path / "demo", 7)))
    flags = run_flags(money, incident_entities=["Baltic Horizon"])
    subjects = {(f.rule, f.subject) for f in flags}
    assert ("foreign-state-donor", "Embassy of Ruritania") in subjects
    assert ("repeated-past-limit", "Tallinn Holdings Ltd") in subjects
    assert sum(1 for f in flags if f.rule == "just-under-threshold" and f.subject.startswith("Cash Giver")) == 3
    assert sum(1 for f in flags if f.rule == "foreign-money") == 6
    assert ("election-surge", PLANTED_PAYER) in subjects
    assert ("incident-entity", PLANTED_PAYER) in subjects
