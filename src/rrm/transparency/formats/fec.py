"""US FEC bulk files: individual contributions (``itcont``) and the committee master (``cm``).

Both are pipe-delimited without a header; the column order is the FEC data dictionary's.

Counting rule (so that one dollar is counted once):

* ``MEMO_CD = X``: a memo entry, which the FEC says is not to be included in totals (the money is
  reported elsewhere, e.g. the earmarked contribution itself). Stored, not counted.
* ``24T`` / ``24I``: an earmark pass-through reported by the conduit (e.g. ActBlue, ``CMTE_ID``) for the
  recipient named in ``OTHER_ID``. The recipient reports the same money as ``15E`` with the conduit in
  its ``OTHER_ID``. The record's recipient is the final recipient (``OTHER_ID``) and its conduit is
  ``CMTE_ID``; it is counted unless the matching ``15E`` (same donor, date, amount, recipient and
  conduit) is also in the store, in which case the store marks it ``counted = false`` (see
  ``MoneyStore.dedupe_earmarks``).
* ``22Y`` (and other ``2xY`` refunds): money returned to the donor, stored with a negative amount.
"""

from __future__ import annotations

import re
from pathlib import Path

from rrm.transparency.amounts import AmountError, parse_amount
from rrm.transparency.countries import US_STATES, country_in_text
from rrm.transparency.dates import DateError, parse_date
from rrm.transparency.formats.base import Committee, MoneyFormat, ParseResult, ReadOptions, Rejection, excerpt
from rrm.transparency.formats.registry import register
from rrm.transparency.schema import Donation

__all__ = ["ITCONT_COLUMNS", "FecCommitteeMaster", "FecIndividualContributions"]

ITCONT_COLUMNS = (
    "CMTE_ID", "AMNDT_IND", "RPT_TP", "TRANSACTION_PGI", "IMAGE_NUM", "TRANSACTION_TP", "ENTITY_TP", "NAME", "CITY",
    "STATE", "ZIP_CODE", "EMPLOYER", "OCCUPATION", "TRANSACTION_DT", "TRANSACTION_AMT", "OTHER_ID", "TRAN_ID",
    "FILE_NUM", "MEMO_CD", "MEMO_TEXT", "SUB_ID",
)
CM_COLUMNS = (
    "CMTE_ID", "CMTE_NM", "TRES_NM", "CMTE_ST1", "CMTE_ST2", "CMTE_CITY", "CMTE_ST", "CMTE_ZIP", "CMTE_DSGN",
    "CMTE_TP", "CMTE_PTY_AFFILIATION", "CMTE_FILING_FREQ", "ORG_TP", "CONNECTED_ORG_NM", "CAND_ID",
)
PASS_THROUGH = frozenset({"24T", "24I"})
_CMTE = re.compile(r"C\d{8}")
_ENTITY_TYPES = {"IND": "Individual", "ORG": "Organisation", "CAN": "Candidate", "PAC": "PAC", "COM": "Committee",
                 "PTY": "Party", "CCM": "Candidate committee"}


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def _looks_like(head: str, width: int) -> bool:
    lines = [line for line in head.splitlines()[:5] if line.strip()]
    if len(lines) > 1:
        lines = lines[:-1]  # the last line of a head may be cut
    good = sum(1 for line in lines if line.count("|") == width - 1 and _CMTE.match(line))
    return bool(lines) and good * 2 > len(lines)  # most lines: one malformed line does not hide the format


def donor_country(state: str, city: str, zip_code: str) -> str | None:
    """``US`` for US states and territories; FEC's ``ZZ`` (foreign) or a blank state: the country named in
    the city text, else ``ZZ`` for a declared foreign address of unnamed country; ``None`` when unknown."""
    state = state.strip().upper()
    if state in US_STATES:
        return "US"
    named = country_in_text(city)
    if named:
        return named
    if state == "ZZ":
        return "ZZ"
    code = zip_code.strip()
    if not state and code and (not re.fullmatch(r"\d{5}(\d{4})?", code) or code.startswith("00000")):
        return "ZZ"  # no state and a postcode that is not a US ZIP code
    return None


class FecIndividualContributions(MoneyFormat):
    name = "fec-itcont"
    description = "US FEC contributions by individuals (itcont.txt, pipe-delimited, 21 columns)"
    kind = "donations"

    def sniff(self, head: str, path: Path) -> float:
        return 0.95 if _looks_like(head, len(ITCONT_COLUMNS)) else 0.0

    def read(self, path: Path, options: ReadOptions) -> ParseResult:
        result = ParseResult()
        for number, line in enumerate(_lines(path), start=1):
            if not line.strip():
                continue
            cells = line.split("|")
            if len(cells) != len(ITCONT_COLUMNS):
                result.rejections.append(Rejection(
                    str(path), number, None, f"{len(cells)} fields where itcont has {len(ITCONT_COLUMNS)}", excerpt(line)))
                continue
            v = dict(zip(ITCONT_COLUMNS, (c.strip() for c in cells), strict=True))
            try:
                donation = self._donation(v, path, number)
            except (AmountError, DateError, ValueError) as exc:
                field = getattr(exc, "field", None) or ("TRANSACTION_AMT" if isinstance(exc, AmountError) else
                                                        "TRANSACTION_DT" if isinstance(exc, DateError) else None)
                result.rejections.append(Rejection(str(path), number, field, str(exc), excerpt(line)))
                continue
            result.donations.append(donation)
        return result

    def _donation(self, v: dict[str, str], path: Path, number: int) -> Donation:
        if not _CMTE.fullmatch(v["CMTE_ID"]):
            raise _FieldError("CMTE_ID", f"not a committee id: {v['CMTE_ID']!r}")
        if not v["NAME"]:
            raise _FieldError("NAME", "empty contributor name")
        amount, _ = parse_amount(v["TRANSACTION_AMT"], "USD")
        when = parse_date(v["TRANSACTION_DT"]) if v["TRANSACTION_DT"] else None
        kind = v["TRANSACTION_TP"]
        recipient, conduit = v["CMTE_ID"], None
        counted, rule = True, None
        if kind in PASS_THROUGH:
            if _CMTE.fullmatch(v["OTHER_ID"]):
                recipient, conduit = v["OTHER_ID"], v["CMTE_ID"]
            rule = f"earmark pass-through ({kind}) via conduit {v['CMTE_ID']}: counted unless the recipient's 15E is stored"
        elif kind == "15E" and _CMTE.fullmatch(v["OTHER_ID"]):
            conduit = v["OTHER_ID"]
        if kind.endswith("Y") and kind[:2] in {"20", "21", "22"}:
            amount = -abs(amount)
            rule = f"refund ({kind}): returned to the donor, counted as a negative amount"
        if v["MEMO_CD"].upper() == "X":
            counted, rule = False, "memo entry (MEMO_CD X): not included in totals, per the FEC"
        zip_code = v["ZIP_CODE"]
        return Donation(
            donation_id=f"fec:{v['SUB_ID'] or v['TRAN_ID'] or number}", register="FEC", jurisdiction="US",
            donor_name=v["NAME"], recipient_name=recipient, amount=amount, currency="USD",
            donor_type=_ENTITY_TYPES.get(v["ENTITY_TP"], v["ENTITY_TP"] or None),
            donor_address=", ".join(x for x in (v["CITY"], v["STATE"], zip_code) if x) or None,
            donor_postcode=zip_code or None, donor_country=donor_country(v["STATE"], v["CITY"], zip_code),
            recipient_id=recipient, date=when, donation_type=kind or None,
            status="memo" if v["MEMO_CD"].upper() == "X" else None, counted=counted, count_rule=rule,
            conduit_id=conduit, election=v["TRANSACTION_PGI"] or None, source=str(path), source_line=number,
            source_format=self.name,
        )


class _FieldError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


class FecCommitteeMaster(MoneyFormat):
    name = "fec-cm"
    description = "US FEC committee master (cm.txt, pipe-delimited, 15 columns): recipient names and parties"
    kind = "reference"

    def sniff(self, head: str, path: Path) -> float:
        return 0.95 if _looks_like(head, len(CM_COLUMNS)) else 0.0

    def read(self, path: Path, options: ReadOptions) -> ParseResult:
        result = ParseResult()
        for number, line in enumerate(_lines(path), start=1):
            if not line.strip():
                continue
            cells = [c.strip() for c in line.split("|")]
            if len(cells) != len(CM_COLUMNS) or not _CMTE.fullmatch(cells[0]) or not cells[1]:
                reason = (f"{len(cells)} fields where cm has {len(CM_COLUMNS)}" if len(cells) != len(CM_COLUMNS)
                          else "no committee id or name")
                result.rejections.append(Rejection(str(path), number, None, reason, excerpt(line)))
                continue
            v = dict(zip(CM_COLUMNS, cells, strict=True))
            result.committees.append(Committee(
                cmte_id=v["CMTE_ID"], name=v["CMTE_NM"], party=v["CMTE_PTY_AFFILIATION"] or None,
                treasurer=v["TRES_NM"] or None, city=v["CMTE_CITY"] or None, state=v["CMTE_ST"] or None,
                designation=v["CMTE_DSGN"] or None, committee_type=v["CMTE_TP"] or None, candidate_id=v["CAND_ID"] or None,
            ))
        return result


register(FecIndividualContributions())
register(FecCommitteeMaster())

