"""Meta Ad Library Report CSVs: advertisers, locations and per-region files, 2019 and 2022+ schemas.

2019: ``Page Name, Disclaimer, Amount Spent, Number of Ads in Library`` (no page id, no currency).
2022+: ``Page ID, Page name, Disclaimer, Amount spent (THB), Number of ads in Library``; locations files
``Location name, Amount spent (EUR)``. Amounts are exact integers or the bucket ``≤100``. The country,
date and window come from the file name (``FacebookAdLibraryReport_2025-07-12_BE_last_30_days_...``).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from rrm.transparency.amounts import AmountError, parse_range
from rrm.transparency.formats.base import (
    MoneyFormat,
    ParseResult,
    ReadOptions,
    Rejection,
    csv_rows,
    excerpt,
    header_of,
)
from rrm.transparency.formats.registry import register
from rrm.transparency.schema import Ad

__all__ = ["MetaAdLibraryReport"]

NO_DISCLAIMER = "these ads ran without a disclaimer"
_NAME = re.compile(
    r"FacebookAdLibraryReport_?(?P<date>\d{4}-\d{2}-\d{2})?_?(?P<cc>[A-Z]{2})_?(?P<date2>\d{4}-\d{2}-\d{2})?_?"
    r"(?P<rest>.*)\.csv$"
)
_WINDOWS = {"yesterday": 1, "last_7_days": 7, "last_30_days": 30, "last_90_days": 90, "ThisWeekSpending": 7}
_CURRENCY = re.compile(r"Amount spent \(([A-Z]{3})\)", re.IGNORECASE)


def _columns(header: list[str]) -> dict[str, str]:
    """Map the header of any vintage to logical names."""
    found: dict[str, str] = {}
    for column in header:
        key = column.strip().lower()
        if key == "page id":
            found["page_id"] = column
        elif key == "page name":
            found["page_name"] = column
        elif key == "disclaimer":
            found["disclaimer"] = column
        elif key.startswith("amount spent"):
            found["amount"] = column
        elif key.startswith("number of ads"):
            found["ads"] = column
        elif key == "location name":
            found["location"] = column
    return found


def _file_facts(path: Path) -> tuple[str | None, date | None, str, str | None]:
    """Country, report date, window and region named by the file name."""
    match = _NAME.search(path.name)
    if not match:
        return None, None, "unknown", None
    when = match.group("date") or match.group("date2")
    rest = match.group("rest") or ""
    window, region = "unknown", None
    for name in _WINDOWS | {"lifelong": 0, "SpendingToDate": 0}:
        if rest.startswith(name):
            window = name
            remainder = rest[len(name):].lstrip("_")
            if remainder not in {"", "advertisers", "locations"}:
                region = remainder
            break
    return match.group("cc"), date.fromisoformat(when) if when else None, window, region


class MetaAdLibraryReport(MoneyFormat):
    name = "meta-ad-library-report"
    description = "Meta Ad Library Report CSV (advertisers, locations, regions; 2019 and 2022+ schemas)"
    kind = "ads"

    def sniff(self, head: str, path: Path) -> float:
        columns = _columns(header_of(head))
        if "amount" in columns and ("disclaimer" in columns or "location" in columns):
            return 0.9
        return 0.0

    def read(self, path: Path, options: ReadOptions) -> ParseResult:
        result = ParseResult()
        head = path.read_text(encoding="utf-8-sig", errors="replace")[:4096]
        header = header_of(head)
        columns = _columns(header)
        cc, reported, window, region = _file_facts(path)
        country = cc or options.country
        match = _CURRENCY.search(",".join(header))
        currency = match.group(1).upper() if match else options.currency
        days = _WINDOWS.get(window)
        start = reported - timedelta(days=days - 1) if reported and days else None
        locations = "location" in columns
        required = (columns["amount"], columns["location"]) if locations else (columns["amount"], columns["page_name"])
        for row in csv_rows(path, required):
            if "__width__" in row.values:
                result.rejections.append(Rejection(str(path), row.line, None, row.values["__width__"], excerpt(row.raw)))
                continue
            try:
                spend = parse_range(row.values[columns["amount"]], currency)
            except AmountError as exc:
                result.rejections.append(Rejection(str(path), row.line, columns["amount"], exc.reason, excerpt(row.raw)))
                continue
            spend = spend if spend.currency else spend.__class__(spend.lower, spend.upper, currency)
            extra = {"report_window": window}
            if locations:
                place = row.values[columns["location"]].strip()
                result.ads.append(Ad(
                    ad_id=f"{country}:{reported}:{window}:location:{place}", platform="meta", record_type="location_total",
                    advertiser=None, spend=spend, start=start, end=reported, country=country, regions=(place,),
                    extra=tuple(sorted(extra.items())), source=str(path), source_line=row.line, source_format=self.name,
                ))
                continue
            page = row.values[columns["page_name"]].strip()
            page_id = row.values.get(columns.get("page_id", ""), "").strip() or None
            disclaimer = row.values.get(columns.get("disclaimer", ""), "").strip()
            if disclaimer.lower() == NO_DISCLAIMER:
                extra["disclaimer_note"] = disclaimer
                disclaimer = ""
            if "ads" in columns:
                extra["ads_in_library"] = row.values[columns["ads"]].strip()
            key = f"{page_id or page}:{disclaimer}"  # one page may run ads under several disclaimers
            result.ads.append(Ad(
                ad_id=f"{country}:{reported}:{window}:{region or 'all'}:{key}", platform="meta",
                record_type="region_total" if region else "advertiser_total", advertiser=page or None,
                advertiser_id=page_id, sponsor=disclaimer or None, spend=spend, start=start, end=reported,
                country=country, regions=(region,) if region else (), extra=tuple(sorted(extra.items())),
                source=str(path), source_line=row.line, source_format=self.name,
            ))
        return result


register(MetaAdLibraryReport())
