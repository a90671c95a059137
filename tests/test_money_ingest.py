"""Ingest: every format, bad rows quarantined with file and line, idempotence, earmark rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import shared_data
from rrm.errors import FormatMismatchError, InputError
from rrm.transparency import MoneyStore, ReadOptions, search_donations
from rrm.transparency.formats import detect
from rrm.workspace import Workspace

CANADA = """Political Entity,Recipient ID,Recipient,Recipient last name,Recipient first name,Recipient middle initial,\
Political Party of Recipient,Electoral District,Electoral event,Fiscal/Election date,Form ID,Financial Report,\
Part Number of Return,Financial Report part,Contributor type,Contributor name,Contributor last name,\
Contributor first name,Contributor middle initial,Contributor City,Contributor Province,Contributor Postal code,\
Contribution Received date,Monetary amount,Non-Monetary amount
Registered associations,1001,Riding Assoc A,,,,Party One,Ottawa Centre,,2023-12-31,F1,Annual,2a,Contributions,\
Individuals,Person Alpha,Alpha,Person,,Ottawa,ON,K1A 0B1,2023-03-04,"1,500.00",0.00
Registered associations,1001,Riding Assoc A,,,,Party One,Ottawa Centre,,2023-12-31,F1,Annual,2a,Contributions,\
Individuals,Person Beta,Beta,Person,,Seattle,WA,98101,15/06/2023,190.00,
Registered associations,1001,Riding Assoc A,,,,Party One,Ottawa Centre,,2023-12-31,F1,Annual,2a,Contributions,\
Individuals,Person Gamma,Gamma,Person,,Toronto,ON,M5V 2T6,2023-07-01,abc,0
Registered associations,1001,Riding Assoc A,,,,Party One,Ottawa Centre,,2023-12-31,F1,Annual,2a,Contributions,\
Individuals,Person Delta,Delta,Person,,Toronto,ON,M5V 2T6,31/02/2023,20.00,0
"""


@pytest.fixture
def money(workspace: Workspace) -> MoneyStore:
    return MoneyStore(workspace)


def test_canada_rows_parsed_or_quarantined_with_line(money: MoneyStore, tmp_path: Path) -> None:
    path = tmp_path / "contributions.csv"
    path.write_text(CANADA, encoding="utf-8")
    [result] = money.ingest([path])
    assert (result.format, result.stored, result.rejected) == ("elections-canada", 2, 2)
    bad = {(row.line, row.field): row.reason for row in money.quarantine()}
    assert bad[(4, "Monetary amount")] == "not an amount or range: 'abc'"
    assert bad[(5, "Contribution Received date")] == "not a valid date: '31/02/2023'"
    funders = {f.donor: f for f in search_donations(money, recipient="Party One")}
    assert funders["Person Alpha"].total == 1500 and funders["Person Beta"].donor_country == "US"


def test_ingest_is_idempotent(money: MoneyStore, tmp_path: Path) -> None:
    path = tmp_path / "contributions.csv"
    path.write_text(CANADA, encoding="utf-8")
    money.ingest([path])
    [again] = money.ingest([path])
    assert again.skipped == "already ingested"
    copy = tmp_path / "copy.csv"
    copy.write_text(CANADA + "\n", encoding="utf-8")
    [second] = money.ingest([copy])
    assert (second.stored, second.duplicates) == (0, 2)


def test_declared_format_that_does_not_match_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ads.csv"
    path.write_text(CANADA, encoding="utf-8")
    with pytest.raises(FormatMismatchError, match="not in the declared format 'snap-political-ads'"):
        detect(path, "snap-political-ads")


def test_missing_required_column_names_the_file(money: MoneyStore, tmp_path: Path) -> None:
    path = tmp_path / "ec.csv"
    path.write_text("ECRef,RegulatedEntityName,DonorName\nX1,Party,Donor\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"ec\.csv, line 1: missing column\(s\) 'Value'"):
        money.ingest([path])


def test_meta_api_both_vintages_and_bad_record(money: MoneyStore, tmp_path: Path) -> None:
    ads = [
        {"id": "1", "page_name": "Page A", "funding_entity": "Sponsor A", "spend": {"lower_bound": "100", "upper_bound": "199"},
         "currency": "EUR", "ad_delivery_start_time": "2019-05-01T10:00:00+0000", "ad_creative_body": "Vote",
         "region_distribution": [{"region": "Bayern", "percentage": "1"}]},
        {"id": "2", "page_name": "Page B", "bylines": "Sponsor B", "payer": "Payer B", "spend": {"lower_bound": "1000000"},
         "currency": "EUR", "ad_delivery_start_time": "2024-05-01", "ad_creative_bodies": ["Hello", "Hello"],
         "delivery_by_region": [{"region": "Wallonia", "percentage": "1"}], "ad_reached_countries": ["BE"]},
        {"id": "3", "page_name": "Page C", "spend": {"lower_bound": "lots"}, "ad_delivery_start_time": "2024-05-01"},
    ]
    path = tmp_path / "ads.json"
    path.write_text(json.dumps(ads), encoding="utf-8")
    [result] = money.ingest([path], options=ReadOptions(country="EU"))
    assert (result.stored, result.rejected) == (2, 1)
    [row] = money.quarantine()
    assert (row.line, row.field) == (3, "spend")
    with money.connect() as db:
        rows = db.execute("SELECT ad_id, sponsor, payer, spend_upper, country, text FROM ads ORDER BY ad_id").fetchall()
    assert rows[0][1:3] == ("Sponsor A", None) and rows[1][1:3] == ("Sponsor B", "Payer B")
    assert rows[1][3] is None and rows[1][4] == "BE" and rows[1][5] == "Hello"


def test_meta_report_2019_and_2022_schemas(money: MoneyStore) -> None:
    old = shared_data("transparency/meta-ad-library-report-2019-GB-UA/fetch/report-gb/"
                      "FacebookAdLibraryReportGB2019-05-11ThisWeekSpending.csv")
    new = shared_data("transparency/meta-ad-library-report-TH-2022/FacebookAdLibraryReport_2022-11-18_TH_yesterday/"
                      "FacebookAdLibraryReport_2022-11-18_TH_yesterday_advertisers.csv")
    results = money.ingest([old, new])
    assert [r.rejected for r in results] == [0, 0]
    assert sum(r.stored + r.duplicates for r in results) == 510 + 97  # data rows of the two files (neither ends with a newline)
    with money.connect() as db:
        bucket = db.execute("SELECT count(*) FROM ads WHERE spend_lower = 0 AND spend_upper = 100").fetchone()
        currencies = dict(db.execute("SELECT country, any_value(currency) FROM ads GROUP BY 1").fetchall())
    assert bucket is not None and bucket[0] > 0
    assert currencies == {"GB": None, "TH": "THB"}


def test_fec_earmarks_are_not_double_counted(money: MoneyStore, tmp_path: Path) -> None:
    fec = tmp_path / "itcont.txt"
    rows = [
        "C00401224|A|M9|P|1|24T|IND|DOE, JANE|BOSTON|MA|02110|X|Y|08242017|50|C00573261|T1|1||EARMARKED|1001",
        "C00573261|N|M9|P|2|15E|IND|DOE, JANE|BOSTON|MA|02110|X|Y|08242017|50|C00401224|T2|2||VIA ACTBLUE|1002",
        "C00401224|A|M9|P|3|24T|IND|ROE, RICH|LONDON|ZZ|00000|X|Y|08252017|75|C00573261|T3|3||EARMARKED|1003",
        "C00573261|N|M9|P|4|15|IND|ROE, RICH|LONDON|ZZ|00000|X|Y|08252017|10||T4|4|X|MEMO|1004",
        "C00573261|N|M9|P|5|15|IND|BAD, ROW|BOSTON|MA|02110|X|Y|13452017|10||T5|5||x|1005",
    ]
    fec.write_text("\n".join(rows) + "\n", encoding="utf-8")
    [result] = money.ingest([fec])
    assert (result.stored, result.rejected) == (4, 1)
    assert money.quarantine()[0].line == 5
    with money.connect() as db:
        counted = dict(db.execute("SELECT donation_id, counted FROM donations").fetchall())
    assert counted == {"fec:1001": False, "fec:1002": True, "fec:1003": True, "fec:1004": False}
    [jane] = [f for f in search_donations(money, recipient="C00573261") if f.donor == "DOE, JANE"]
    assert (jane.total, jane.donations, jane.not_counted) == (50, 2, 1)


def test_unknown_file_in_folder_is_reported_not_fatal(money: MoneyStore, tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "d" / "c.csv").write_text(CANADA, encoding="utf-8")
    results = {Path(r.source).name: r for r in money.ingest([tmp_path / "d"])}
    assert results["c.csv"].stored == 2
    assert results["notes.csv"].skipped is not None and "no money format" in results["notes.csv"].skipped


def test_google_vintages_no_currency_double_count(money: MoneyStore, tmp_path: Path) -> None:
    weekly = tmp_path / "google-political-ads-advertiser-weekly-spend.csv"
    weekly.write_text(
        "Advertiser_ID,Advertiser_Name,Election_Cycle,Week_Start_Date,Spend_USD,Spend_EUR,Spend_INR\n"
        "AR1,DELGADO FOR CONGRESS,US-Federal-2018,2018-08-19,200,200,14250\n"
        "AR2,INDIA PARTY,IN-2019,2019-04-07,0,0,25000\n"
        "AR3,BROKEN,US-Federal-2018,2018-13-45,100,0,0\n", encoding="utf-8")
    stats = tmp_path / "google-political-ads-advertiser-stats.csv"
    stats.write_text(
        "Advertiser_ID,Advertiser_Name,Public_IDs_List,Total_Creatives,Total_Spend_USD\n"
        "AR1,DELGADO FOR CONGRESS,FEC ID C00669507,3,700\n", encoding="utf-8")
    results = money.ingest([weekly, stats])
    assert [(r.stored, r.rejected) for r in results] == [(2, 1), (1, 0)]
    with money.connect() as db:
        rows = db.execute("SELECT advertiser, currency, spend_lower, country, public_ids FROM ads ORDER BY 1, 2").fetchall()
    assert [(r[0], r[1], int(r[2])) for r in rows] == [
        ("DELGADO FOR CONGRESS", "USD", 200), ("DELGADO FOR CONGRESS", "USD", 700), ("INDIA PARTY", "INR", 25000)]
    assert rows[1][4] == ["FEC ID C00669507"] and rows[2][3] == "IN"
    assert money.quarantine()[0].field == "Week_Start_Date"
