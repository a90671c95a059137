"""Snap Political Ads Library CSV: exact spend and impressions, billing address, full targeting.

``OrganizationName`` is the organisation that bought the ad (the payer, with its ``BillingAddress``,
whose last part is a country code); ``PayingAdvertiserName`` is the "paid for by" name (the sponsor).
``CountryCode`` is the targeted country.
"""

from __future__ import annotations

import json
from pathlib import Path

from rrm.transparency.amounts import AmountError, Range, parse_range
from rrm.transparency.countries import country_code
from rrm.transparency.dates import DateError, parse_date
from rrm.transparency.formats.base import MoneyFormat, ParseResult, ReadOptions, Rejection, csv_rows, excerpt, header_of
from rrm.transparency.formats.registry import register
from rrm.transparency.schema import Ad

__all__ = ["SnapPoliticalAds"]

_TARGETING = (
    "Gender", "AgeBracket", "Regions (Included)", "Regions (Excluded)", "Electoral Districts (Included)",
    "Metros (Included)", "Postal Codes (Included)", "Interests", "Segments", "Language", "AdvancedDemographics",
)


def billing_country(address: str) -> str | None:
    """The country of a Snap billing address: its last comma-separated part (``"...,L4H 0W3,CA"``)."""
    parts = [p.strip() for p in address.split(",") if p.strip()]
    return country_code(parts[-1]) if parts else None


class SnapPoliticalAds(MoneyFormat):
    name = "snap-political-ads"
    description = "Snap Political Ads Library CSV (PoliticalAds.csv)"
    kind = "ads"

    def sniff(self, head: str, path: Path) -> float:
        header = set(header_of(head))
        return 0.95 if {"ADID", "PayingAdvertiserName", "Spend"} <= header else 0.0

    def read(self, path: Path, options: ReadOptions) -> ParseResult:
        result = ParseResult()
        for row in csv_rows(path, ("ADID", "Spend", "Currency Code", "OrganizationName", "PayingAdvertiserName")):
            v = row.values
            if "__width__" in v:
                result.rejections.append(Rejection(str(path), row.line, None, v["__width__"], excerpt(row.raw)))
                continue
            field = "ADID"
            try:
                if not v["ADID"].strip():
                    raise ValueError("empty ad id")
                currency = v["Currency Code"].strip() or options.currency
                field = "Spend"
                spend = parse_range(v["Spend"], currency)
                field = "Impressions"
                shown = parse_range(v["Impressions"]) if v.get("Impressions", "").strip() else None
                field = "StartDate"
                start = parse_date(v["StartDate"]) if v.get("StartDate", "").strip() else None
                field = "EndDate"
                end = parse_date(v["EndDate"]) if v.get("EndDate", "").strip() else None
            except (AmountError, DateError) as exc:
                result.rejections.append(Rejection(str(path), row.line, field, exc.reason + f": {exc.text!r}", excerpt(row.raw)))
                continue
            except ValueError as exc:
                result.rejections.append(Rejection(str(path), row.line, field, str(exc), excerpt(row.raw)))
                continue
            address = v.get("BillingAddress", "").strip()
            targeting = {k: v[k] for k in _TARGETING if v.get(k, "").strip()}
            regions = tuple(r.strip() for r in v.get("Regions (Included)", "").split(",") if r.strip())
            result.ads.append(Ad(
                ad_id=v["ADID"].strip(), platform="snap", record_type="ad",
                advertiser=v["OrganizationName"].strip() or None, sponsor=v["PayingAdvertiserName"].strip() or None,
                payer=v["OrganizationName"].strip() or None, spend=Range(spend.lower, spend.upper, spend.currency),
                impressions=shown, start=start, end=end,
                country=country_code(v.get("CountryCode", "")) or options.country, regions=regions,
                targeting=json.dumps(targeting, ensure_ascii=False) if targeting else None,
                text=v.get("CreativeProperties", "").strip() or None, payer_address=address or None,
                payer_country=billing_country(address) if address else None,
                election=v.get("CandidateBallotInformation", "").strip() or None,
                source=str(path), source_line=row.line, source_format=self.name,
            ))
        return result


register(SnapPoliticalAds())
