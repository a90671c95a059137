"""Elections Canada contributions CSV (political financing: contributions received).

``Monetary amount`` and ``Non-Monetary amount`` are summed into one amount (the type says which were
non-zero). A contributor whose province is not a Canadian province or territory, or whose postal
code is not Canadian, is outside Canada; an empty province leaves the country unknown.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from rrm.transparency.amounts import AmountError, parse_amount
from rrm.transparency.countries import US_STATES, country_code
from rrm.transparency.dates import DateError, parse_date
from rrm.transparency.formats.base import MoneyFormat, ParseResult, ReadOptions, Rejection, csv_rows, excerpt, header_of
from rrm.transparency.formats.registry import register
from rrm.transparency.schema import Donation

__all__ = ["ElectionsCanada"]

PROVINCES = frozenset({
    "AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT", "ALBERTA", "QUEBEC", "ONTARIO",
    "MANITOBA", "SASKATCHEWAN", "NUNAVUT", "YUKON", "BRITISH COLUMBIA", "NEW BRUNSWICK", "NEWFOUNDLAND AND LABRADOR",
    "NOVA SCOTIA", "NORTHWEST TERRITORIES", "PRINCE EDWARD ISLAND",
})
_POSTAL = re.compile(r"^[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d$", re.IGNORECASE)


def _country(province: str, postal: str) -> str | None:
    key = province.strip().upper()
    if key in PROVINCES or _POSTAL.match(postal.strip()):
        return "CA"
    if not key:
        return None
    if key in US_STATES:
        return "US"
    return country_code(key) or "ZZ"


class ElectionsCanada(MoneyFormat):
    name = "elections-canada"
    description = "Elections Canada contributions CSV (Political Entity, Contributor name, Monetary amount...)"
    kind = "donations"

    def sniff(self, head: str, path: Path) -> float:
        header = set(header_of(head))
        return 0.95 if {"Political Entity", "Contributor name", "Monetary amount"} <= header else 0.0

    def read(self, path: Path, options: ReadOptions) -> ParseResult:
        result = ParseResult()
        for row in csv_rows(path, ("Recipient", "Contributor name", "Monetary amount", "Non-Monetary amount")):
            v = row.values
            if "__width__" in v:
                result.rejections.append(Rejection(str(path), row.line, None, v["__width__"], excerpt(row.raw)))
                continue
            field = "Monetary amount"
            try:
                money = parse_amount(v["Monetary amount"], "CAD")[0] if v["Monetary amount"].strip() else None
                field = "Non-Monetary amount"
                goods = parse_amount(v["Non-Monetary amount"], "CAD")[0] if v["Non-Monetary amount"].strip() else None
                if money is None and goods is None:
                    raise AmountError("", "no monetary nor non-monetary amount")
                field = "Contribution Received date"
                when_text = v.get("Contribution Received date", "").strip() or v.get("Fiscal/Election date", "").strip()
                when = parse_date(when_text, day_first=True) if when_text else None
            except (AmountError, DateError) as exc:
                result.rejections.append(Rejection(str(path), row.line, field, exc.reason + (f": {exc.text!r}" if exc.text else ""), excerpt(row.raw)))
                continue
            if not v["Contributor name"].strip():
                result.rejections.append(Rejection(str(path), row.line, "Contributor name", "empty", excerpt(row.raw)))
                continue
            kinds = [k for k, a in (("monetary", money), ("non-monetary", goods)) if a]
            postal = v.get("Contributor Postal code", "").strip()
            address = ", ".join(x for x in (v.get("Contributor City", "").strip(), v.get("Contributor Province", "").strip(),
                                            postal) if x)
            result.donations.append(Donation(
                donation_id=f"elections-canada:{v.get('Form ID', '').strip()}:{v.get('Recipient ID', '').strip()}:"
                            f"{v['Contributor name'].strip()}:{when}:{row.line}",
                register="EC-CA", jurisdiction="CA", donor_name=v["Contributor name"].strip(),
                recipient_name=v["Recipient"].strip(), amount=(money or Decimal(0)) + (goods or Decimal(0)), currency="CAD",
                donor_type=v.get("Contributor type", "").strip() or None, donor_address=address or None,
                donor_postcode=postal or None, donor_country=_country(v.get("Contributor Province", ""), postal),
                recipient_id=v.get("Recipient ID", "").strip() or None,
                recipient_party=v.get("Political Party of Recipient", "").strip() or None, date=when,
                donation_type="+".join(kinds) or None, status=v.get("Political Entity", "").strip() or None,
                source=str(path), source_line=row.line, source_format=self.name,
            ))
        return result


register(ElectionsCanada())
