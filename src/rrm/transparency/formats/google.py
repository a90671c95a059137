"""Google political ads transparency bundle CSVs, across vintages.

Recognised files (by their header): advertiser stats (``Total_Spend_USD`` early, ``Spend_<CUR>`` later,
with ``Regions``/``Elections`` later), advertiser weekly spend (``Spend_USD`` early, one ``Spend_<CUR>``
column per currency later), geo spend (``State, Congressional_District, Total_Spend_USD``) and creative
stats (per ad: ``Spend_Range_Min_<CUR>``/``Spend_Range_Max_<CUR>`` or a ``Spend_USD`` bucket, and an
``Impressions`` bucket). A row whose currency columns are all conversions of one spend (several non-zero) gives one record in
USD; a row with one non-zero currency column gives one record in that currency; no amount is counted
twice. ``Public_IDs_List`` keeps ids such as ``FEC ID C00669507``.
"""

from __future__ import annotations

import re
from pathlib import Path

from rrm.transparency.amounts import AmountError, Range, parse_range
from rrm.transparency.countries import country_code
from rrm.transparency.dates import DateError, parse_date
from rrm.transparency.formats.base import (
    CsvRow,
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

__all__ = ["GooglePoliticalAds"]

_SPEND = re.compile(r"^(?:Total_)?Spend_([A-Z]{3})$")
_RANGE = re.compile(r"^Spend_Range_(Min|Max)_([A-Z]{3})$")


def _kind(header: list[str]) -> str | None:
    names = set(header)
    if {"Ad_ID", "Advertiser_ID"} <= names:
        return "creative"
    if {"Advertiser_ID", "Week_Start_Date"} <= names:
        return "weekly"
    if {"Advertiser_ID", "Advertiser_Name"} <= names and any(_SPEND.match(n) for n in names):
        return "advertiser"
    if {"State", "Congressional_District", "Total_Spend_USD"} <= names:
        return "geo"
    return None


def _country_of(cycle: str | None, regions: str | None) -> str | None:
    if regions and "," not in regions:
        return country_code(regions.strip())
    if cycle:
        return country_code(cycle.split("-", 1)[0])
    return None


class _RowError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def _spends(row: CsvRow, header: list[str]) -> list[Range]:
    """The spend of a row. When several currency columns are non-zero they are conversions of one spend
    (the 2020 weekly file publishes every spend in every currency): the USD column is taken. When one
    is non-zero (the 2023 advertiser file: the native currency), that one is taken."""
    found: list[Range] = []
    usd: Range | None = None
    for column in header:
        match = _SPEND.match(column)
        if not match or (column == "Spend_USD" and "Spend_Range_Min_USD" in header):
            continue
        text = row.values[column].strip()
        if not text:
            continue
        try:
            value = parse_range(text, match.group(1))
        except AmountError as exc:
            raise _RowError(column, exc.reason + f": {exc.text!r}") from exc
        value = Range(value.lower, value.upper, match.group(1))
        if match.group(1) == "USD":
            usd = value
        if value.upper != 0:
            found.append(value)
    if len(found) == 1:
        return found
    return [usd if usd is not None else (found[0] if found else Range.exact(parse_range("0").lower, "USD"))]


def _ranges(row: CsvRow, header: list[str]) -> list[Range]:
    bounds: dict[str, dict[str, str]] = {}
    for column in header:
        match = _RANGE.match(column)
        if match and row.values[column].strip():
            bounds.setdefault(match.group(2), {})[match.group(1)] = row.values[column].strip()
    found = []
    for currency, pair in bounds.items():
        try:
            low = parse_range(pair["Min"]).lower if "Min" in pair else parse_range("0").lower
            high = parse_range(pair["Max"]).lower if "Max" in pair else None
        except AmountError as exc:
            raise _RowError(f"Spend_Range_*_{currency}", exc.reason + f": {exc.text!r}") from exc
        if high == low == 0:
            continue
        found.append(Range(low, high, currency))
    if found:
        return found
    if "Spend_USD" in row.values and row.values["Spend_USD"].strip():
        try:
            return [parse_range(row.values["Spend_USD"], "USD")]
        except AmountError as exc:
            raise _RowError("Spend_USD", exc.reason + f": {exc.text!r}") from exc
    return [Range.exact(parse_range("0").lower, "USD")]


class GooglePoliticalAds(MoneyFormat):
    name = "google-political-ads"
    description = "Google political ads transparency bundle CSVs (creative, advertiser, weekly and geo spend)"
    kind = "ads"

    def sniff(self, head: str, path: Path) -> float:
        return 0.9 if _kind(header_of(head)) else 0.0

    def read(self, path: Path, options: ReadOptions) -> ParseResult:
        header = header_of(path.read_text(encoding="utf-8-sig", errors="replace")[:8192])
        kind = _kind(header)
        required = {"creative": ("Ad_ID",), "weekly": ("Week_Start_Date",), "advertiser": ("Advertiser_ID",),
                    "geo": ("State",)}.get(kind or "", ("Advertiser_ID",))
        result = ParseResult()
        for row in csv_rows(path, required):
            if "__width__" in row.values:
                result.rejections.append(Rejection(str(path), row.line, None, row.values["__width__"], excerpt(row.raw)))
                continue
            try:
                result.ads.extend(self._row(kind, row, header, path, options))
            except _RowError as exc:
                result.rejections.append(Rejection(str(path), row.line, exc.field, exc.reason, excerpt(row.raw)))
        return result

    def _row(self, kind: str | None, row: CsvRow, header: list[str], path: Path, options: ReadOptions) -> list[Ad]:
        v = row.values
        common = {"platform": "google", "source": str(path), "source_line": row.line, "source_format": self.name}
        if kind == "geo":
            spend = _spends(row, header)[0]
            place = v["State"].strip()
            district = v["Congressional_District"].strip()
            return [Ad(ad_id=f"geo:{place}:{district}", record_type="region_total", advertiser=None, spend=spend,
                       country="US", regions=tuple(x for x in (place, district) if x), **common)]  # type: ignore[arg-type]
        advertiser_id = v.get("Advertiser_ID", "").strip()
        if not advertiser_id:
            raise _RowError("Advertiser_ID", "empty advertiser id")
        name = v.get("Advertiser_Name", "").strip() or None
        public_ids = tuple(x.strip() for x in v.get("Public_IDs_List", "").split(",") if x.strip())
        regions_text = v.get("Regions", "").strip()
        country = _country_of(v.get("Election_Cycle"), regions_text) or options.country
        if country is None and "Regions" not in header:
            country = "US"  # the early bundle (2018) covered US federal elections only
        if kind == "weekly":
            try:
                week = parse_date(v["Week_Start_Date"])
            except DateError as exc:
                raise _RowError("Week_Start_Date", exc.reason + f": {exc.text!r}") from exc
            return [
                Ad(ad_id=f"{advertiser_id}:{v.get('Election_Cycle', '')}:week:{week}:{spend.currency}", record_type="advertiser_week",
                   advertiser=name, advertiser_id=advertiser_id, sponsor=name, spend=spend, start=week,
                   end=week.fromordinal(week.toordinal() + 6), country=country, election=v.get("Election_Cycle") or None,
                   **common)  # type: ignore[arg-type]
                for spend in _spends(row, header)
            ]
        if kind == "advertiser":
            extra = tuple(sorted({k: v[k].strip() for k in ("Total_Creatives", "Elections") if v.get(k, "").strip()}.items()))
            return [
                Ad(ad_id=f"{advertiser_id}:total:{spend.currency}", record_type="advertiser_total", advertiser=name,
                   advertiser_id=advertiser_id, sponsor=name, spend=spend, country=country,
                   regions=tuple(r.strip() for r in regions_text.split(",") if r.strip()), public_ids=public_ids,
                   election=v.get("Elections") or None, extra=extra, **common)  # type: ignore[arg-type]
                for spend in _spends(row, header)
            ]
        return self._creative(row, header, name, advertiser_id, country, common)

    def _creative(self, row: CsvRow, header: list[str], name: str | None, advertiser_id: str,
                  country: str | None, common: dict[str, object]) -> list[Ad]:
        v = row.values
        try:
            start = parse_date(v["Date_Range_Start"]) if v.get("Date_Range_Start", "").strip() else None
            end = parse_date(v["Date_Range_End"]) if v.get("Date_Range_End", "").strip() else None
        except DateError as exc:
            raise _RowError("Date_Range_Start", exc.reason + f": {exc.text!r}") from exc
        impressions = None
        if v.get("Impressions", "").strip():
            try:
                impressions = parse_range(v["Impressions"])
            except AmountError as exc:
                raise _RowError("Impressions", exc.reason + f": {exc.text!r}") from exc
        targeting = "; ".join(f"{k}={v[k]}" for k in ("Age_Targeting", "Gender_Targeting", "Geo_Targeting_Included",
                                                      "Geo_Targeting_Excluded") if v.get(k, "").strip())
        regions = tuple(r.strip() for r in v.get("Regions", "").split(",") if r.strip())
        return [
            Ad(ad_id=f"{v['Ad_ID'].strip()}:{spend.currency}", record_type="ad", advertiser=name,
               advertiser_id=advertiser_id, sponsor=name, spend=spend, impressions=impressions, start=start, end=end,
               country=country or (country_code(regions[0]) if len(regions) == 1 else None), regions=regions,
               targeting=targeting or None, text=v.get("Ad_URL") or None, **common)  # type: ignore[arg-type]
            for spend in _ranges(row, header)
        ]


register(GooglePoliticalAds())
