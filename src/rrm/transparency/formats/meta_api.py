"""Meta Ad Library API (``ads_archive``) JSON: the 2019 field names and the current ones.

2019: ``funding_entity``, ``ad_creative_body``, ``region_distribution``, ``spend``/``impressions`` as
``{lower_bound, upper_bound}``. Current: ``bylines``, ``payer``, ``beneficiary_payers``,
``ad_creative_bodies``, ``delivery_by_region``, ``ad_reached_countries``, ``target_locations``. Accepts a
JSON list, an API page ``{"data": [...]}`` or JSON lines.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rrm.errors import InputError
from rrm.transparency.amounts import AmountError, Range, parse_range
from rrm.transparency.countries import country_code
from rrm.transparency.dates import DateError, parse_date
from rrm.transparency.formats.base import MoneyFormat, ParseResult, ReadOptions, Rejection, excerpt
from rrm.transparency.formats.registry import register
from rrm.transparency.schema import Ad

__all__ = ["MetaAdLibraryApi"]

_MARKERS = ("ad_snapshot_url", "ad_delivery_start_time", "ad_creative_body", "page_name", "funding_entity", "bylines")
_EU_NOTICE_KEYS = (
    "eu_total_reach", "beneficiary_payers", "target_locations", "target_ages", "target_gender",
    "age_country_gender_reach_breakdown", "languages", "publisher_platforms", "estimated_audience_size",
)


class RecordError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        parts = [str(v).strip() for v in value if v is not None and str(v).strip()]
        return "\n\n".join(dict.fromkeys(parts)) or None
    text = str(value).strip()
    return text or None


def _bounds(record: dict[str, Any], name: str, currency: str | None) -> Range | None:
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, dict) or "lower_bound" not in value:
        raise RecordError(name, "expected an object with lower_bound (and upper_bound)")
    try:
        lower = parse_range(value["lower_bound"]).lower
        upper_text = value.get("upper_bound")
        upper = parse_range(upper_text).lower if upper_text not in (None, "") else None
    except AmountError as exc:
        raise RecordError(name, exc.reason + f": {exc.text!r}") from exc
    if upper is not None and upper < lower:
        raise RecordError(name, "upper_bound below lower_bound")
    return Range(lower, upper, currency)


def _regions(record: dict[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for key in ("delivery_by_region", "region_distribution"):
        for item in record.get(key) or []:
            if isinstance(item, dict) and item.get("region"):
                found.append(str(item["region"]))
    return tuple(dict.fromkeys(found))


def _payer(record: dict[str, Any]) -> str | None:
    payer = record.get("payer")
    if payer:
        return _text(payer)
    names = []
    for item in record.get("beneficiary_payers") or []:
        if isinstance(item, dict):
            names.append(str(item.get("payer") or ""))
    return _text([n for n in names if n])


def _beneficiary(record: dict[str, Any]) -> str | None:
    if record.get("beneficiary"):
        return _text(record["beneficiary"])
    names = []
    for item in record.get("beneficiary_payers") or []:
        if isinstance(item, dict):
            names.append(str(item.get("beneficiary") or ""))
    return _text([n for n in names if n])


def _country(record: dict[str, Any], options: ReadOptions) -> str | None:
    reached = record.get("ad_reached_countries") or []
    if isinstance(reached, list) and len(reached) == 1:
        return country_code(str(reached[0]))
    return options.country


def _ad(record: dict[str, Any], path: Path, line: int, options: ReadOptions) -> Ad:
    ad_id = record.get("id") or record.get("ad_archive_id")
    snapshot = str(record.get("ad_snapshot_url") or "")
    if not ad_id and "id=" in snapshot:
        ad_id = snapshot.split("id=", 1)[1].split("&", 1)[0]
    if not ad_id:
        raise RecordError("id", "no ad id (neither 'id' nor an ad_snapshot_url with id=)")
    currency = _text(record.get("currency")) or options.currency
    dates = {}
    for key in ("ad_delivery_start_time", "ad_delivery_stop_time", "ad_creation_time"):
        if record.get(key):
            try:
                dates[key] = parse_date(str(record[key]))
            except DateError as exc:
                raise RecordError(key, exc.reason + f": {exc.text!r}") from exc
    extra = {key: json.dumps(record[key], ensure_ascii=False) for key in _EU_NOTICE_KEYS if record.get(key)}
    targeting = {k: record[k] for k in ("target_ages", "target_gender", "target_locations") if record.get(k)}
    return Ad(
        ad_id=str(ad_id), platform="meta", record_type="ad", advertiser=_text(record.get("page_name")),
        advertiser_id=_text(record.get("page_id")),
        sponsor=_text(record.get("bylines")) or _text(record.get("funding_entity")),
        payer=_payer(record), beneficiary=_beneficiary(record),
        spend=_bounds(record, "spend", currency), impressions=_bounds(record, "impressions", None),
        start=dates.get("ad_delivery_start_time") or dates.get("ad_creation_time"),
        end=dates.get("ad_delivery_stop_time"), country=_country(record, options), regions=_regions(record),
        targeting=json.dumps(targeting, ensure_ascii=False) if targeting else None,
        text=_text(record.get("ad_creative_bodies")) or _text(record.get("ad_creative_body")),
        extra=tuple(sorted(extra.items())), source=str(path), source_line=line, source_format=MetaAdLibraryApi.name,
    )


def _records(path: Path) -> list[tuple[int, object]]:
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                records.append((number, InputError(f"not JSON: {exc.msg}", source=str(path), line=number)))
        return records
    if isinstance(data, dict):
        data = data.get("data", [data])
    if not isinstance(data, list):
        raise InputError("expected a JSON list of ads or an object with 'data'", source=str(path), line=1)
    # a JSON list has no line per record: number the records instead (1 = the first ad)
    return list(enumerate(data, start=1))


class MetaAdLibraryApi(MoneyFormat):
    name = "meta-ad-library-api"
    description = "Meta Ad Library API ads_archive JSON (2019 and current field names)"
    kind = "ads"

    def sniff(self, head: str, path: Path) -> float:
        stripped = head.lstrip()
        if not stripped.startswith(("[", "{")):
            return 0.0
        hits = sum(f'"{marker}"' in head for marker in _MARKERS)
        return 0.95 if hits >= 2 else 0.0

    def read(self, path: Path, options: ReadOptions) -> ParseResult:
        result = ParseResult()
        for number, record in _records(path):
            if isinstance(record, InputError):
                result.rejections.append(Rejection(str(path), number, None, record.reason))
                continue
            if not isinstance(record, dict):
                result.rejections.append(Rejection(str(path), number, None, "an ad must be a JSON object", excerpt(record)))
                continue
            try:
                result.ads.append(_ad(record, path, number, options))
            except RecordError as exc:
                result.rejections.append(Rejection(str(path), number, exc.field, exc.reason, excerpt(json.dumps(record)[:300])))
        return result


register(MetaAdLibraryApi())
