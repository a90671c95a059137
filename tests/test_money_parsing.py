"""Amounts, ranges and dates as the sources write them; bad values are errors, never zeros."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rrm.transparency.amounts import AmountError, Range, parse_range, total
from rrm.transparency.dates import DateError, parse_date


@pytest.mark.parametrize(
    ("text", "lower", "upper", "currency"),
    [
        ("£9,556.85", "9556.85", "9556.85", "GBP"),
        ("≤100", "0", "100", None),
        ("<100", "0", "100", None),
        ("1K-5K", "1000", "5000", None),
        ("$1,000-$4,999", "1000", "4999", "USD"),
        ("> 1M", "1000000", None, None),
        ("721.0", "721.0", "721.0", None),
        ("-15", "-15", "-15", None),
    ],
)
def test_amounts_and_ranges(text: str, lower: str, upper: str | None, currency: str | None) -> None:
    value = parse_range(text)
    assert value.lower == Decimal(lower)
    assert value.upper == (Decimal(upper) if upper is not None else None)
    assert value.currency == currency


@pytest.mark.parametrize("text", ["", "   ", "abc", "5K-1K", "nan", "1e500"])
def test_bad_amounts_are_errors_not_zero(text: str) -> None:
    with pytest.raises(AmountError):
        parse_range(text)


def test_totals_of_ranges_stay_ranges_and_open_stays_open() -> None:
    assert total([Range(Decimal(0), Decimal(99), "EUR"), Range(Decimal(100), Decimal(499), "EUR")]) == Range(
        Decimal(100), Decimal(598), "EUR")
    assert total([Range(Decimal(0), Decimal(99)), Range(Decimal(1_000_000), None)]).upper is None
    with pytest.raises(ValueError, match="per currency"):
        total([Range(Decimal(1), Decimal(1), "EUR"), Range(Decimal(1), Decimal(1), "USD")])


def test_mixed_date_layouts() -> None:
    assert str(parse_date("29/10/2025")) == "2025-10-29"
    assert str(parse_date("2019-05-13T15:30:04+0000")) == "2019-05-13"
    assert str(parse_date("08242017")) == "2017-08-24"
    assert str(parse_date("2019/08/28 02:41:41Z")) == "2019-08-28"
    with pytest.raises(DateError):
        parse_date("31/02/2020")
