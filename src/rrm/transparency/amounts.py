"""Money and counts as ranges: ``(lower, upper)`` with a currency; an open upper bound stays open.

Platforms publish spend and impressions as buckets ("≤100", "1K-5K", "$1,000-$4,999", "> 1M") or as
exact figures. A bucket stays a bucket: nothing here invents a point inside a range, and a total of
ranges is the sum of the lowers and the sum of the uppers (open if any upper is open).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

__all__ = ["AmountError", "Range", "parse_amount", "parse_range", "total"]

_SYMBOLS = {"£": "GBP", "$": "USD", "€": "EUR", "₴": "UAH", "฿": "THB", "₹": "INR", "¥": "JPY", "C$": "CAD"}
_SUFFIX = {"": Decimal(1), "K": Decimal(1_000), "M": Decimal(1_000_000), "B": Decimal(1_000_000_000)}
_NUMBER = r"([0-9][0-9,\s]*(?:\.[0-9]+)?|\.[0-9]+)\s*([KMB]?)"
_CODE = r"(?:[A-Z]{3}\s*)?"
_SIGN = r"(?:C\$|[£$€₴฿₹¥])?"
_PLAIN = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,6})?")


class AmountError(ValueError):
    """A text is not an amount or range this module understands; ``reason`` says why."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"{reason}: {text!r}")
        self.text = text
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Range:
    """A quantity known to lie in ``[lower, upper]``; ``upper`` is ``None`` when the range is open above."""

    lower: Decimal
    upper: Decimal | None
    currency: str | None = None

    @classmethod
    def exact(cls, value: Decimal, currency: str | None = None) -> Range:
        return cls(value, value, currency)

    @property
    def is_exact(self) -> bool:
        return self.upper == self.lower

    def __str__(self) -> str:
        unit = f" {self.currency}" if self.currency else ""
        if self.is_exact:
            return f"{self.lower:,}{unit}"
        upper = f"{self.upper:,}" if self.upper is not None else "open"
        return f"{self.lower:,}–{upper}{unit}"


def _number(digits: str, suffix: str, text: str) -> Decimal:
    cleaned = re.sub(r"[,\s]", "", digits)
    try:
        value = Decimal(cleaned) * _SUFFIX[suffix.upper()]
    except InvalidOperation as exc:  # pragma: no cover - the pattern only lets numbers through
        raise AmountError(text, "not a number") from exc
    if not value.is_finite():
        raise AmountError(text, "not a finite number")
    return value


def _currency(text: str, default: str | None) -> tuple[str, str | None]:
    """Strip currency symbols and ISO codes from ``text``; return the rest and the currency found."""
    found: str | None = None
    rest = text
    for symbol, code in sorted(_SYMBOLS.items(), key=lambda item: -len(item[0])):
        if symbol in rest:
            found = found or code
            rest = rest.replace(symbol, "")
    match = re.search(r"\b([A-Z]{3})\b", rest)
    if match:
        found = found or match.group(1)
        rest = rest.replace(match.group(1), "")
    return rest.strip(), found or default


def parse_range(text: object, currency: str | None = None) -> Range:
    """Parse an exact amount or a bucket into a ``Range``. Raises ``AmountError`` for anything else.

    Understood: ``"9556.85"``, ``"£9,556.85"``, ``"721.0"``, ``"≤100"`` / ``"<100"`` / ``"<= 100"`` (0 to 100),
    ``"≥1M"`` / ``"> 1M"`` / ``"1M+"`` (open above), ``"1K-5K"``, ``"$1,000-$4,999"``, ``"10k–100k"``.
    Negative exact amounts (refunds) are kept; an empty text is an error, never a zero.
    """
    if isinstance(text, int | float | Decimal) and not isinstance(text, bool):
        value = Decimal(str(text))
        if not value.is_finite():
            raise AmountError(str(text), "not a finite number")
        return Range.exact(value, currency)
    if not isinstance(text, str):
        raise AmountError(repr(text), "not a text or number")
    raw = text.strip().replace("\u00a0", " ").replace("\u2009", " ")
    if _PLAIN.fullmatch(raw):  # fast path: most published figures are plain numbers
        return Range.exact(Decimal(raw), currency)
    if not raw:
        raise AmountError(text, "empty amount")
    body, found = _currency(raw.upper().replace("C$", "C$"), currency)
    body = body.replace("–", "-").replace("—", "-").replace(" TO ", "-").strip()
    negative = body.startswith("-") or (body.startswith("(") and body.endswith(")"))
    body = body.strip("()").lstrip("-").strip()
    match = re.fullmatch(rf"(≤|<=|<|≥|>=|>)\s*{_CODE}{_SIGN}\s*{_NUMBER}", body)
    if match:
        operator, value = match.group(1), _number(match.group(2), match.group(3), text)
        if operator in {"≤", "<=", "<"}:
            return Range(Decimal(0), value, found)
        return Range(value, None, found)
    match = re.fullmatch(rf"{_SIGN}\s*{_NUMBER}\s*\+", body)
    if match:
        return Range(_number(match.group(1), match.group(2), text), None, found)
    match = re.fullmatch(rf"{_SIGN}\s*{_NUMBER}\s*-\s*{_SIGN}\s*{_NUMBER}", body)
    if match and not negative:
        low = _number(match.group(1), match.group(2), text)
        high = _number(match.group(3), match.group(4), text)
        if high < low:
            raise AmountError(text, "range upper bound below its lower bound")
        return Range(low, high, found)
    match = re.fullmatch(rf"{_SIGN}\s*{_NUMBER}", body)
    if match:
        value = _number(match.group(1), match.group(2), text)
        return Range.exact(-value if negative else value, found)
    raise AmountError(text, "not an amount or range")


def parse_amount(text: object, currency: str | None = None) -> tuple[Decimal, str | None]:
    """An exact amount (donations are exact); a bucket is an error here."""
    value = parse_range(text, currency)
    if not value.is_exact:
        raise AmountError(str(text), "a range where an exact amount is required")
    return value.lower, value.currency


def total(ranges: Iterable[Range]) -> Range:
    """Sum of ranges in one currency: sum of lowers, sum of uppers; open if any upper is open."""
    lower, upper, currency, first = Decimal(0), Decimal(0), None, True
    open_above = False
    for item in ranges:
        if first:
            currency, first = item.currency, False
        elif item.currency != currency:
            raise ValueError(f"cannot add {item.currency} to {currency}: totals are kept per currency")
        lower += item.lower
        if item.upper is None:
            open_above = True
        else:
            upper += item.upper
    return Range(lower, None if open_above else upper, currency)
