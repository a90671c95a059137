"""Donations just under a reporting threshold, and donations from one donor that add up past a limit.

The thresholds and limits depend on the register, the recipient's type and the date: see
``rrm.transparency.limits`` for the values and their sources.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from rrm.transparency.flags.base import Flag, FlagContext, FlagRule
from rrm.transparency.flags.registry import register_rule
from rrm.transparency.limits import Limit, ca_recipient_kind, limit_for, thresholds_for
from rrm.transparency.names import name_key

__all__ = ["BAND", "JustUnderThreshold", "RepeatedPastLimit"]

BAND = Decimal("0.9")


class JustUnderThreshold(FlagRule):
    name = "just-under-threshold"
    rule = ("a counted donation is within 10% below a threshold that applies to its register, recipient type and "
            "date (at least 90%, under 100%)")

    def run(self, context: FlagContext) -> Iterator[Flag]:
        rows = context.db.execute(
            """SELECT donation_id, donor_name, register, amount, currency, recipient_name, date,
                      coalesce(status, 'FEC committee type ' || committee_type), source, source_line
               FROM donations_v WHERE counted ORDER BY source, source_line"""
        ).fetchall()
        for did, donor, register, amount, currency, recipient, when, status, source, line in rows:
            for limit in thresholds_for(register, status, when):
                if currency == limit.currency and limit.amount * BAND <= amount < limit.amount:
                    yield Flag(self.name, "donation", did, donor, (
                        ("amount", f"{amount} {currency}"), ("threshold", f"{limit.amount} {currency}: {limit.meaning}"),
                        ("gap", f"{limit.amount - amount} {currency}"), ("recipient", recipient),
                        ("recipient type", status or "not given"), ("date", str(when)), ("rule", self.rule)),
                        source, line)


Item = tuple[str, str, Decimal, str, str, int, bool, date]


def _group(register: str, donor: str, recipient_key: str, recipient_party: str | None, status: str | None,
           election: str | None, when: date, limit: Limit) -> tuple[str, ...]:
    if register == "UK-EC":
        recipient_key = f"{recipient_key} / {status or ''}"  # an accounting unit has its own threshold
    if register == "EC-CA" and ca_recipient_kind(status) == "local":
        recipient_key = f"associations and candidates of {recipient_party or recipient_key}"
    if limit.period == "election":
        cycle = when.year + when.year % 2
        period = f"{(election or '?')[:1]} election {cycle}"
    else:
        period = str(when.year)
    return (register, name_key(donor), recipient_key, period)


class RepeatedPastLimit(FlagRule):
    name = "repeated-past-limit"
    rule = ("two or more counted donations from one donor (same name key) to one recipient in one period add up past "
            "a limit: for a reporting threshold (UK), each under it; for a contribution limit (FEC per election or "
            "year, Canada per year), whatever their size")

    def run(self, context: FlagContext) -> Iterator[Flag]:
        rows = context.db.execute(
            """SELECT donation_id, donor_name, register, amount, currency, coalesce(recipient_id, recipient_name),
                      recipient_name, recipient_party, status, committee_type, election, date, aggregated, source,
                      source_line
               FROM donations_v WHERE counted AND date IS NOT NULL ORDER BY date, source_line"""
        ).fetchall()
        groups: dict[tuple[str, ...], list[Item]] = defaultdict(list)
        limits: dict[tuple[str, ...], Limit] = {}
        for (did, donor, register, amount, currency, recipient_key, recipient, party, status, committee_type, election,
             when, aggregated, source, line) in rows:
            limit = limit_for(register, status, committee_type, when)
            if limit is None or currency != limit.currency:
                continue
            key = _group(register, donor, recipient_key, party, status, election, when, limit)
            limits[key] = limit  # the latest date's limit applies to the period
            groups[key].append((did, donor, amount, recipient, source, line, bool(aggregated), when))
        for key, items in sorted(groups.items()):
            limit = limits[key]
            amounts = [item[2] for item in items]
            if len(items) < 2 or sum(amounts) <= limit.amount:
                continue
            if limit.repeated_only and max(amounts) >= limit.amount:
                continue
            first = items[0]
            marked = sum(1 for item in items if item[6])
            evidence = [
                ("donations", ", ".join(f"{i[0]} ({i[2]} on {i[7]})" for i in items)),
                ("total", f"{sum(amounts)} {limit.currency}"),
                ("limit", f"{limit.amount} {limit.currency} per {limit.period}: {limit.meaning}"),
                ("recipient", first[3]), ("period", key[3]),
            ]
            if marked:
                evidence.append(("register", f"{marked} of them marked as aggregations by the register"))
            yield Flag(self.name, "entity", first[0], first[1], (*evidence, ("rule", self.rule)), first[4], first[5])


register_rule(JustUnderThreshold())
register_rule(RepeatedPastLimit())
