"""Donations just under a reporting threshold, and repeated donations that add up past a limit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from rrm.transparency.flags.base import Flag, FlagContext, FlagRule
from rrm.transparency.flags.registry import register_rule
from rrm.transparency.names import name_key

__all__ = ["LIMITS", "THRESHOLDS", "Threshold"]


@dataclass(frozen=True, slots=True)
class Threshold:
    amount: Decimal
    currency: str
    meaning: str


THRESHOLDS: dict[str, tuple[Threshold, ...]] = {
    "UK-EC": (
        Threshold(Decimal(500), "GBP", "UK permissibility threshold (smaller gifts are not donations)"),
        Threshold(Decimal(2230), "GBP", "UK accounting-unit reporting threshold (2024)"),
        Threshold(Decimal(11180), "GBP", "UK central-party reporting threshold (2024)"),
    ),
    "FEC": (Threshold(Decimal(200), "USD", "FEC itemisation threshold"),),
    "EC-CA": (Threshold(Decimal(200), "CAD", "Elections Canada contributor disclosure threshold"),),
}
LIMITS: dict[str, Threshold] = {
    "UK-EC": Threshold(Decimal(11180), "GBP", "UK central-party reporting threshold (2024)"),
    "FEC": Threshold(Decimal(2700), "USD", "FEC individual limit per candidate per election (2017-18)"),
    "EC-CA": Threshold(Decimal(1725), "CAD", "Canadian annual limit to each party (2024)"),
}
BAND = Decimal("0.9")


class JustUnderThreshold(FlagRule):
    name = "just-under-threshold"
    rule = "a counted donation is within 10% below a reporting threshold of its register (at least 90%, under 100%)"

    def run(self, context: FlagContext) -> Iterator[Flag]:
        rows = context.db.execute(
            """SELECT donation_id, donor_name, register, amount, currency, recipient_name, date, source, source_line
               FROM donations_v WHERE counted ORDER BY source, source_line"""
        ).fetchall()
        for did, donor, register, amount, currency, recipient, when, source, line in rows:
            for limit in THRESHOLDS.get(register, ()):
                if currency == limit.currency and limit.amount * BAND <= amount < limit.amount:
                    yield Flag(self.name, "donation", did, donor, (
                        ("amount", f"{amount} {currency}"), ("threshold", f"{limit.amount} {currency}: {limit.meaning}"),
                        ("gap", f"{limit.amount - amount} {currency}"), ("recipient", recipient), ("date", str(when)),
                        ("rule", self.rule)), source, line)


class RepeatedPastLimit(FlagRule):
    name = "repeated-past-limit"
    rule = ("two or more counted donations from one donor (same name key) to one recipient in one calendar year, each "
            "under the register's limit, add up past it")

    def run(self, context: FlagContext) -> Iterator[Flag]:
        rows = context.db.execute(
            """SELECT donation_id, donor_name, register, amount, currency, coalesce(recipient_id, recipient_name),
                      recipient_name, year(date), source, source_line
               FROM donations_v WHERE counted AND date IS NOT NULL"""
        ).fetchall()
        groups: dict[tuple[str, str, str, int], list[tuple[str, str, Decimal, str, str, int]]] = defaultdict(list)
        for did, donor, register, amount, currency, recipient_key, recipient, year, source, line in rows:
            limit = LIMITS.get(register)
            if limit is None or currency != limit.currency:
                continue
            groups[(register, name_key(donor), recipient_key, year)].append((did, donor, amount, recipient, source, line))
        for (register, _, _, year), items in sorted(groups.items()):
            limit = LIMITS[register]
            amounts = [item[2] for item in items]
            if len(items) < 2 or max(amounts) >= limit.amount or sum(amounts) <= limit.amount:
                continue
            first = items[0]
            yield Flag(self.name, "entity", first[0], first[1], (
                ("donations", ", ".join(f"{i[0]} ({i[2]})" for i in items)),
                ("total", f"{sum(amounts)} {limit.currency}"), ("limit", f"{limit.amount} {limit.currency}: {limit.meaning}"),
                ("recipient", first[3]), ("year", str(year)), ("rule", self.rule)), first[4], first[5])


register_rule(JustUnderThreshold())
register_rule(RepeatedPastLimit())
