"""Donor names a foreign state: an embassy, a government, a ministry, or a country by name."""

from __future__ import annotations

import re
from collections.abc import Iterator

from rrm.transparency.countries import country_in_text
from rrm.transparency.flags.base import Flag, FlagContext, FlagRule
from rrm.transparency.flags.registry import register_rule

_STATE = re.compile(r"\b(embassy|government of|ministry|kingdom of|republic of|consulate|high commission)\b", re.I)


class ForeignState(FlagRule):
    name = "foreign-state-donor"
    rule = ("the donor's name is that of a state body (embassy, government, ministry, consulate, 'Kingdom of', "
            "'Republic of') of another country than the register's")

    def run(self, context: FlagContext) -> Iterator[Flag]:
        rows = context.db.execute(
            """SELECT donation_id, donor_name, jurisdiction, recipient_name, amount, currency, donation_type, source,
                      source_line FROM donations_v ORDER BY source, source_line"""
        ).fetchall()
        for did, donor, where, recipient, amount, currency, kind, source, line in rows:
            marker = _STATE.search(donor or "")
            if not marker:
                continue
            country = country_in_text(donor)
            if country == where:
                continue
            yield Flag(self.name, "donation", did, donor, (
                ("state marker", marker.group(1)), ("country named", country or "not named"),
                ("register country", where), ("recipient", recipient), ("amount", f"{amount} {currency}"),
                ("donation type", kind or ""), ("rule", self.rule)), source, line)


register_rule(ForeignState())
