"""Thresholds and limits by register, recipient type and date; names; agency and incident-name helpers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rrm.transparency.agencies import agency_reason
from rrm.transparency.incidents import readable_name
from rrm.transparency.limits import limit_for, thresholds_for, uk_recipient_kind
from rrm.transparency.mentions import postcode_parts
from rrm.transparency.names import core_key, name_key, natural_core, person_name


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("Political Party / Central Party", "central party"),
        ("Political Party", "central party"),
        ("Political Party / Eastleigh", "accounting unit"),
        ("Political Party / Scotland (as central party)", "central party"),
        ("Regulated Donee / MP - Member of Parliament", "regulated donee"),
        ("Regulated Donee / Members Association", "regulated donee"),
        ("Third Party", "third party"),
        (None, "unknown"),
    ],
)
def test_uk_recipient_kinds(status: str | None, kind: str) -> None:
    assert uk_recipient_kind(status) == kind


@pytest.mark.parametrize(
    ("status", "day", "reporting"),
    [
        ("Political Party / Central Party", date(2023, 12, 31), 7500),
        ("Political Party / Central Party", date(2024, 1, 1), 11180),
        ("Political Party / Eastleigh", date(2023, 6, 1), 1500),
        ("Political Party / Eastleigh", date(2025, 6, 1), 2230),
        ("Regulated Donee / MP - Member of Parliament", date(2025, 6, 1), 2230),
        ("Third Party", date(2019, 6, 1), 7500),
    ],
)
def test_uk_thresholds_by_type_and_date(status: str, day: date, reporting: int) -> None:
    found = thresholds_for("UK-EC", status, day)
    assert [t.amount for t in found] == [Decimal(500), Decimal(reporting)]
    assert all(t.currency == "GBP" for t in found)
    limit = limit_for("UK-EC", status, None, day)
    assert limit is not None and limit.amount == reporting and limit.repeated_only


def test_fec_and_canada_limits() -> None:
    candidate = limit_for("FEC", None, "H", date(2017, 5, 1))
    assert candidate is not None and (candidate.amount, candidate.period) == (2700, "election")
    later = limit_for("FEC", None, "S", date(2023, 5, 1))
    assert later is not None and later.amount == 3300
    pac = limit_for("FEC", None, "Q", date(2018, 5, 1))
    assert pac is not None and (pac.amount, pac.period) == (5000, "calendar year")
    assert limit_for("FEC", None, "O", date(2018, 5, 1)) is None  # super PAC: no limit
    party = limit_for("EC-CA", "Registered parties", None, date(2024, 3, 1))
    assert party is not None and party.amount == 1725 and "each registered party" in party.meaning
    local = limit_for("EC-CA", "Registered associations", None, date(2019, 3, 1))
    assert local is not None and local.amount == 1600 and "associations" in local.meaning
    assert [t.amount for t in thresholds_for("FEC", None, None)] == [200]


def test_name_keys_and_people() -> None:
    assert name_key("SMITH, JOHN") == name_key("Mr John Smith") == "john smith"
    assert core_key("Riley for Congress Committee") == "congress riley"
    assert natural_core("Uniunea Salvați România - USR") == "uniunea salvati romania usr"
    fec, uk = person_name("SMITH, JOHN A"), person_name("Mr John A Smith MP")
    assert (fec.surname, fec.forename) == (uk.surname, uk.forename) == ("smith", "john")
    assert postcode_parts("10025-1234", "US") == ("10025", "100")
    assert postcode_parts("SW1A 1AA", "GB") == ("SW1A1AA", "SW1A")


def test_agency_reasons_and_incident_names() -> None:
    assert agency_reason("Reprise Media", 1) == "payer looks like an agency: its name has the agency word 'media'"
    reason = agency_reason("Chong and Koster", 4)
    assert reason is not None and "pays for 4 different sponsors" in reason
    assert agency_reason("Friends of Harbour", 1) is None
    assert readable_name("domain", "news.baltic-horizon.co.uk") == "baltic horizon"
    assert readable_name("url", "https://www.rt.com/news/1") == "rt"
    assert readable_name("account", "@BalticHorizon_News") == "Baltic Horizon News"
