"""Reporting thresholds and contribution limits, by register, recipient type and date.

Values, as of the years of the data, and where they come from (checked against the regulators'
guidance as known in 2025; a change of law is a new row here, never an edit of an old one):

UK (Political Parties, Elections and Referendums Act 2000, as uprated from 1 January 2024 by the
Elections Act 2022 and the 2023 order varying its limits; Electoral Commission guidance):

- permissibility threshold £500 for every recipient: smaller gifts are not donations;
- political party, central party (and an accounting unit acting as the central party): £7,500 before
  1 January 2024, £11,180 from then;
- political party, accounting unit: £1,500, then £2,230;
- regulated donees (MPs, MSPs, MSs, MLAs, members' associations, party leadership candidates...):
  £1,500, then £2,230;
- third parties (non-party campaigners) and referendum permitted participants: £7,500, then £11,180.

US FEC (52 U.S.C. 30116, limits indexed each two-year cycle; FEC "contribution limits" tables):

- itemisation: contributions aggregating over $200 in a cycle name the donor;
- to a candidate committee (types H, S, P), per election (primary and general separately):
  $2,700 (2015-16 and 2017-18), $2,800 (2019-20), $2,900 (2021-22), $3,300 (2023-24), $3,500 (2025-26);
- to a party committee (types X, Y), per calendar year: the national party limit, $33,400 (2015-16),
  $33,900 (2017-18), $35,500 (2019-20), $36,500 (2021-22), $41,300 (2023-24), $44,300 (2025-26). A state
  or local party's limit ($10,000 a year, combined) is lower: using the national one raises fewer flags;
- to a PAC (types N, Q), per calendar year: $5,000;
- super PACs and hybrid accounts (O, U, V, W) and other types: no limit checked.

Canada (Canada Elections Act s. 367, indexed each 1 January; Elections Canada):

- disclosure: contributors giving more than $200 in total are named;
- annual limit to each registered party: $1,500 (2015), $1,525 (2016), $1,550 (2017), $1,575 (2018),
  $1,600 (2019), $1,625 (2020), $1,650 (2021), $1,675 (2022), $1,700 (2023), $1,725 (2024), $1,750 (2025);
  the same amount again, per year, to the registered associations, nomination contestants and candidates
  of each party combined, and to the leadership contestants of a contest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

__all__ = [
    "CA_ANNUAL",
    "FEC_CANDIDATE",
    "FEC_PAC",
    "FEC_PARTY",
    "Limit",
    "Threshold",
    "ca_recipient_kind",
    "limit_for",
    "thresholds_for",
    "uk_recipient_kind",
]

UK_UPRATED = date(2024, 1, 1)
_UK_SOURCE = "PPERA 2000; Electoral Commission guidance"


@dataclass(frozen=True, slots=True)
class Threshold:
    """A reporting or permissibility threshold: a donation just under it may be structured to avoid it."""

    amount: Decimal
    currency: str
    meaning: str


@dataclass(frozen=True, slots=True)
class Limit:
    """A limit on what one donor gives one recipient in one period (``year`` or ``election``)."""

    amount: Decimal
    currency: str
    meaning: str
    period: str
    repeated_only: bool
    """True for a reporting threshold (only donations each under it that add up past it are a sign of
    structuring); False for a legal limit (any total past it is excessive)."""


def uk_recipient_kind(status: str | None) -> str:
    """``central party``, ``accounting unit``, ``regulated donee``, ``third party`` or ``unknown``."""
    text = (status or "").casefold()
    kind, _, detail = text.partition(" / ")
    if kind.startswith("political party"):
        return "central party" if not detail or "central party" in detail else "accounting unit"
    if "donee" in kind:
        return "regulated donee"
    if "third party" in kind or "permitted participant" in kind:
        return "third party"
    return "unknown"


def _uk_reporting(kind: str, day: date | None) -> Threshold | None:
    new = day is None or day >= UK_UPRATED
    when = "from 1 Jan 2024" if new else "before 1 Jan 2024"
    if kind in {"central party", "third party"}:
        return Threshold(Decimal(11180 if new else 7500), "GBP", f"UK {kind} reporting threshold {when} ({_UK_SOURCE})")
    if kind in {"accounting unit", "regulated donee"}:
        return Threshold(Decimal(2230 if new else 1500), "GBP", f"UK {kind} reporting threshold {when} ({_UK_SOURCE})")
    return None


def thresholds_for(register: str, status: str | None, day: date | None) -> tuple[Threshold, ...]:
    """The thresholds a donation of this register, recipient type and date may be kept just under."""
    if register == "UK-EC":
        found = [Threshold(Decimal(500), "GBP", "UK permissibility threshold: smaller gifts are not donations (PPERA)")]
        reporting = _uk_reporting(uk_recipient_kind(status), day)
        return tuple(found + ([reporting] if reporting else []))
    if register == "FEC":
        return (Threshold(Decimal(200), "USD", "FEC itemisation threshold (over $200 a cycle names the donor)"),)
    if register == "EC-CA":
        return (Threshold(Decimal(200), "CAD", "Elections Canada disclosure threshold (over $200 names the contributor)"),)
    return ()


def ca_recipient_kind(status: str | None) -> str:
    """``party``, ``leadership`` or ``local`` (associations, candidates, nomination contestants)."""
    text = (status or "").casefold()
    if "leadership" in text:
        return "leadership"
    return "party" if "part" in text and "associat" not in text else "local"


def _cycle(year: int) -> int:
    return year + (year % 2)


FEC_CANDIDATE = {2016: 2700, 2018: 2700, 2020: 2800, 2022: 2900, 2024: 3300, 2026: 3500}
FEC_PARTY = {2016: 33400, 2018: 33900, 2020: 35500, 2022: 36500, 2024: 41300, 2026: 44300}
FEC_PAC = 5000
CA_ANNUAL = {2015: 1500, 2016: 1525, 2017: 1550, 2018: 1575, 2019: 1600, 2020: 1625, 2021: 1650, 2022: 1675,
             2023: 1700, 2024: 1725, 2025: 1750}


def limit_for(register: str, status: str | None, committee_type: str | None, day: date) -> Limit | None:
    """The limit that applies to donations of this register to this recipient type at this date."""
    if register == "UK-EC":
        threshold = _uk_reporting(uk_recipient_kind(status), day)
        if threshold is None:
            return None
        return Limit(threshold.amount, "GBP", threshold.meaning, "calendar year", True)
    if register == "FEC":
        cycle = _cycle(day.year)
        kind = (committee_type or "").upper()
        if kind in {"H", "S", "P"} and cycle in FEC_CANDIDATE:
            return Limit(Decimal(FEC_CANDIDATE[cycle]), "USD",
                         f"FEC limit per candidate per election, {cycle - 1}-{cycle} cycle", "election", False)
        if kind in {"X", "Y"} and cycle in FEC_PARTY:
            return Limit(Decimal(FEC_PARTY[cycle]), "USD",
                         f"FEC national party limit per calendar year, {cycle - 1}-{cycle} cycle (state parties: lower)",
                         "calendar year", False)
        if kind in {"N", "Q"}:
            return Limit(Decimal(FEC_PAC), "USD", "FEC limit to a PAC per calendar year", "calendar year", False)
        return None
    if register == "EC-CA" and day.year in CA_ANNUAL:
        whom = {"party": "each registered party", "leadership": "the contestants of a leadership contest"}.get(
            ca_recipient_kind(status), "the associations, candidates and nomination contestants of each party")
        return Limit(Decimal(CA_ANNUAL[day.year]), "CAD", f"Canadian annual contribution limit {day.year} to {whom}",
                     "calendar year", False)
    return None
