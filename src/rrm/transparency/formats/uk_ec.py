"""UK Electoral Commission register of donations (the donations search CSV export).

``Value`` is ``"£9,556.85"``; dates are ``dd/mm/yyyy``. The recipient's type (party central office,
accounting unit, regulated donee and which kind, third party) is kept in ``status`` for the thresholds. The register gives no donor country: a donor
with a UK postcode is in ``GB``; other donors have no country (unknown, not foreign).
"""

from __future__ import annotations

import re
from pathlib import Path

from rrm.transparency.amounts import AmountError, parse_amount
from rrm.transparency.dates import DateError, parse_date
from rrm.transparency.formats.base import MoneyFormat, ParseResult, ReadOptions, Rejection, csv_rows, excerpt, header_of
from rrm.transparency.formats.registry import register
from rrm.transparency.schema import Donation

__all__ = ["UK_POSTCODE", "UkElectoralCommission"]

UK_POSTCODE = re.compile(r"^(GIR ?0AA|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})$", re.IGNORECASE)


def _true(text: str) -> bool:
    return text.strip().lower() in {"true", "yes", "1"}


def _entity(v: dict[str, str], unit: str) -> str | None:
    """The recipient's type as the thresholds need it: ``Political Party / Central Party``,
    ``Political Party / <accounting unit>``, ``Regulated Donee / MP - Member of Parliament``..."""
    kind = v.get("RegulatedEntityType", "").strip()
    detail = unit or v.get("RegulatedDoneeType", "").strip()
    if unit and _true(v.get("AccountingUnitsAsCentralParty", "")):
        detail += " (as central party)"
    return (kind + (f" / {detail}" if detail else "")) or None


class UkElectoralCommission(MoneyFormat):
    name = "uk-electoral-commission"
    description = "UK Electoral Commission donations export CSV (ECRef, RegulatedEntityName, Value...)"
    kind = "donations"

    def sniff(self, head: str, path: Path) -> float:
        header = set(header_of(head))
        return 0.95 if {"ECRef", "RegulatedEntityName", "DonorName"} <= header else 0.0

    def read(self, path: Path, options: ReadOptions) -> ParseResult:
        result = ParseResult()
        for row in csv_rows(path, ("ECRef", "RegulatedEntityName", "Value", "DonorName")):
            v = row.values
            if "__width__" in v:
                result.rejections.append(Rejection(str(path), row.line, None, v["__width__"], excerpt(row.raw)))
                continue
            field = "Value"
            try:
                amount, currency = parse_amount(v["Value"], "GBP")
                when = None
                for field in ("AcceptedDate", "ReceivedDate", "ReportedDate"):
                    if v.get(field, "").strip():
                        when = parse_date(v[field], day_first=True)
                        break
            except (AmountError, DateError) as exc:
                result.rejections.append(Rejection(str(path), row.line, field, exc.reason + f": {exc.text!r}", excerpt(row.raw)))
                continue
            if not v["ECRef"].strip() or not v["DonorName"].strip():
                missing = "ECRef" if not v["ECRef"].strip() else "DonorName"
                result.rejections.append(Rejection(str(path), row.line, missing, "empty", excerpt(row.raw)))
                continue
            postcode = v.get("Postcode", "").strip()
            recipient = v["RegulatedEntityName"].strip()
            unit = v.get("AccountingUnitName", "").strip()
            result.donations.append(Donation(
                donation_id=f"ukec:{v['ECRef'].strip()}", register="UK-EC", jurisdiction="GB",
                donor_name=v["DonorName"].strip(), recipient_name=recipient, amount=amount, currency=currency or "GBP",
                donor_type=v.get("DonorStatus", "").strip() or None, donor_postcode=postcode or None,
                donor_address=postcode or None,
                donor_country="GB" if UK_POSTCODE.match(postcode) else None,
                recipient_id=v.get("RegulatedEntityId", "").strip() or None,
                recipient_party=recipient if v.get("RegulatedEntityType", "").strip() == "Political Party" else None,
                date=when, donation_type=v.get("DonationType", "").strip() or None,
                status=_entity(v, unit),
                aggregated=_true(v.get("IsAggregation", "")), source=str(path), source_line=row.line,
                source_format=self.name,
            ))
        return result


register(UkElectoralCommission())
