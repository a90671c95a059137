"""Dates as the registers and ad libraries write them: ISO, dd/mm/yyyy, FEC's MMDDYYYY, Snap's slashes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

__all__ = ["DateError", "parse_date", "parse_datetime"]


class DateError(ValueError):
    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"{reason}: {text!r}")
        self.text = text
        self.reason = reason


_PATTERNS = (
    (re.compile(r"\d{4}-\d{2}-\d{2}"), "%Y-%m-%d"),
    (re.compile(r"\d{4}/\d{2}/\d{2}"), "%Y/%m/%d"),
    (re.compile(r"\d{1,2}/\d{1,2}/\d{4}"), "%d/%m/%Y"),
    (re.compile(r"\d{1,2}\.\d{1,2}\.\d{4}"), "%d.%m.%Y"),
    (re.compile(r"\d{8}"), "%m%d%Y"),
)


def parse_datetime(text: str, *, day_first: bool = True) -> datetime:
    """A timestamp in UTC. Accepts ISO 8601 (with ``+0000`` or ``Z``), ``2019/08/28 02:41:41Z`` and dates.

    ``day_first`` decides ``01/02/2024`` (1 February when true, the UK and Canadian convention).
    """
    raw = text.strip()
    if not raw:
        raise DateError(text, "empty date")
    iso = raw.replace("/", "-", 2) if re.match(r"\d{4}/\d{2}/\d{2}", raw) else raw
    iso = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", iso.replace(" ", "T", 1)).replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        parsed = datetime.combine(parse_date(raw, day_first=day_first), datetime.min.time())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_date(text: str, *, day_first: bool = True) -> date:
    """A calendar date from ISO, ``dd/mm/yyyy`` (``mm/dd/yyyy`` with ``day_first=False``) or ``MMDDYYYY``."""
    raw = text.strip()
    if not raw:
        raise DateError(text, "empty date")
    if "T" in raw or re.match(r"\d{4}[-/]\d{2}[-/]\d{2} \d", raw):
        return parse_datetime(raw).date()
    for pattern, layout in _PATTERNS:
        if pattern.fullmatch(raw):
            if layout == "%d/%m/%Y" and not day_first:
                layout = "%m/%d/%Y"
            try:
                return datetime.strptime(raw, layout).date()
            except ValueError as exc:
                raise DateError(text, "not a valid date") from exc
    raise DateError(text, "not a date in a known layout")
