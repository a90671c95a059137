"""The one schema of political ads and donations, as frozen dataclasses and as Arrow schemas.

Every ad library and donation register is read into these two records. An ``Ad`` is either one ad
(``record_type="ad"``) or a platform's aggregate of an advertiser's spend (``"advertiser_total"``,
``"advertiser_week"``, ``"region_total"``, ``"location_total"``), because report files publish only
aggregates. Spend and impressions are ``Range`` values: exact figures have ``lower == upper``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa

from rrm.transparency.amounts import Range

__all__ = ["AD_SCHEMA", "DONATION_SCHEMA", "Ad", "Donation", "ads_table", "donations_table"]

MONEY = pa.decimal128(20, 2)


@dataclass(frozen=True, slots=True)
class Ad:
    """One political ad, or one published aggregate of an advertiser's ad spend."""

    ad_id: str
    platform: str
    record_type: str
    advertiser: str | None
    advertiser_id: str | None = None
    sponsor: str | None = None
    """The declared "paid for by" byline or disclaimer."""
    payer: str | None = None
    """Who paid the platform, where published (Meta ``payer``/``beneficiary_payers``, Snap organisation)."""
    beneficiary: str | None = None
    spend: Range | None = None
    impressions: Range | None = None
    start: date | None = None
    end: date | None = None
    country: str | None = None
    """ISO 3166 alpha-2 code of the audience's country (the jurisdiction), where one is known."""
    regions: tuple[str, ...] = ()
    targeting: str | None = None
    text: str | None = None
    payer_address: str | None = None
    payer_country: str | None = None
    public_ids: tuple[str, ...] = ()
    election: str | None = None
    extra: tuple[tuple[str, str], ...] = ()
    """Fields of the source kept verbatim (e.g. EU transparency-notice fields) as (name, value) pairs."""
    source: str = ""
    source_line: int | None = None
    source_format: str = ""


@dataclass(frozen=True, slots=True)
class Donation:
    """One donation or contribution as a register reports it.

    ``counted`` says whether the amount enters totals: memo entries and earmark pass-throughs that
    the recipient also reports are stored, for the record, but not counted (``count_rule`` says why).
    """

    donation_id: str
    register: str
    jurisdiction: str
    donor_name: str
    recipient_name: str
    amount: Decimal
    currency: str
    donor_type: str | None = None
    donor_address: str | None = None
    donor_postcode: str | None = None
    donor_country: str | None = None
    recipient_id: str | None = None
    recipient_party: str | None = None
    date: date | None = None
    donation_type: str | None = None
    status: str | None = None
    counted: bool = True
    count_rule: str | None = None
    conduit_id: str | None = None
    aggregated: bool = False
    election: str | None = None
    """The election the donation is for, where the register says (FEC ``TRANSACTION_PGI``, e.g. ``P2018``)."""
    source: str = ""
    source_line: int | None = None
    source_format: str = ""


AD_SCHEMA = pa.schema(
    [
        ("ad_id", pa.string()), ("platform", pa.string()), ("record_type", pa.string()),
        ("advertiser", pa.string()), ("advertiser_id", pa.string()), ("sponsor", pa.string()),
        ("payer", pa.string()), ("beneficiary", pa.string()),
        ("spend_lower", MONEY), ("spend_upper", MONEY), ("currency", pa.string()),
        ("impressions_lower", pa.int64()), ("impressions_upper", pa.int64()),
        ("start", pa.date32()), ("end", pa.date32()), ("country", pa.string()),
        ("regions", pa.list_(pa.string())), ("targeting", pa.string()), ("text", pa.string()),
        ("payer_address", pa.string()), ("payer_country", pa.string()),
        ("public_ids", pa.list_(pa.string())), ("election", pa.string()),
        ("extra", pa.map_(pa.string(), pa.string())),
        ("source", pa.string()), ("source_line", pa.int64()), ("source_format", pa.string()),
    ]
)

DONATION_SCHEMA = pa.schema(
    [
        ("donation_id", pa.string()), ("register", pa.string()), ("jurisdiction", pa.string()),
        ("donor_name", pa.string()), ("recipient_name", pa.string()), ("amount", MONEY), ("currency", pa.string()),
        ("donor_type", pa.string()), ("donor_address", pa.string()), ("donor_postcode", pa.string()),
        ("donor_country", pa.string()), ("recipient_id", pa.string()), ("recipient_party", pa.string()),
        ("date", pa.date32()), ("donation_type", pa.string()), ("status", pa.string()),
        ("counted", pa.bool_()), ("count_rule", pa.string()), ("conduit_id", pa.string()),
        ("aggregated", pa.bool_()), ("election", pa.string()), ("source", pa.string()), ("source_line", pa.int64()),
        ("source_format", pa.string()),
    ]
)


def _ad_row(ad: Ad) -> dict[str, Any]:
    spend, shown = ad.spend, ad.impressions
    return {
        "ad_id": ad.ad_id, "platform": ad.platform, "record_type": ad.record_type, "advertiser": ad.advertiser,
        "advertiser_id": ad.advertiser_id, "sponsor": ad.sponsor, "payer": ad.payer, "beneficiary": ad.beneficiary,
        "spend_lower": spend.lower if spend else None, "spend_upper": spend.upper if spend else None,
        "currency": spend.currency if spend else None,
        "impressions_lower": int(shown.lower) if shown else None,
        "impressions_upper": int(shown.upper) if shown and shown.upper is not None else None,
        "start": ad.start, "end": ad.end, "country": ad.country, "regions": list(ad.regions),
        "targeting": ad.targeting, "text": ad.text, "payer_address": ad.payer_address,
        "payer_country": ad.payer_country, "public_ids": list(ad.public_ids), "election": ad.election,
        "extra": list(ad.extra), "source": ad.source, "source_line": ad.source_line,
        "source_format": ad.source_format,
    }


def ads_table(ads: list[Ad]) -> pa.Table:
    return pa.Table.from_pylist([_ad_row(ad) for ad in ads], schema=AD_SCHEMA)


def donations_table(donations: list[Donation]) -> pa.Table:
    names = [f.name for f in fields(Donation)]
    rows = [{name: getattr(d, name) for name in names} for d in donations]
    return pa.Table.from_pylist(rows, schema=DONATION_SCHEMA)
