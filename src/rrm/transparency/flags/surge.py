"""Spend surge inside an election window."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from rrm.transparency.countries import is_eu
from rrm.transparency.flags.base import Election, Flag, FlagContext, FlagRule
from rrm.transparency.flags.registry import register_rule

FACTOR = Decimal(3)
MINIMUM = Decimal(1000)
BASELINE_DAYS = 182


def _applies(election: Election, country: str | None) -> bool:
    return country == election.country or (election.country == "EU" and is_eu(country))


class SpendSurge(FlagRule):
    name = "election-surge"
    rule = (f"an advertiser's weekly spend in the {{window}} days before an election day is, even at its lower "
            f"bound, over {FACTOR}× its weekly spend at the upper bound in the {BASELINE_DAYS} days before "
            f"(or it had no spend before), with at least {MINIMUM} spent in the window")

    def run(self, context: FlagContext) -> Iterator[Flag]:
        window = timedelta(days=context.surge_window_days)
        rows = context.db.execute(
            """SELECT coalesce(advertiser_id, advertiser), any_value(advertiser), currency, country, start,
                      sum(spend_lower), sum(spend_upper), count(*) - count(spend_upper), any_value(source)
               FROM ads WHERE record_type IN ('ad', 'advertiser_week') AND start IS NOT NULL AND spend_lower IS NOT NULL
                 AND advertiser IS NOT NULL
               GROUP BY ALL"""
        ).fetchall()
        series: dict[tuple[str, str, str], list[tuple[date, Decimal, Decimal | None, str]]] = defaultdict(list)
        names: dict[str, str] = {}
        for key, name, currency, country, start, low, high, open_count, source in rows:
            names[key] = name
            series[(key, currency or "", country or "")].append((start, low, None if open_count else high, source))
        text = self.rule.replace("{window}", str(context.surge_window_days))
        for election in context.elections:
            begin, baseline_begin = election.day - window, election.day - window - timedelta(days=BASELINE_DAYS)
            for (key, currency, country), points in series.items():
                if not _applies(election, country or None):
                    continue
                inside = [p for p in points if begin <= p[0] <= election.day]
                if not inside:
                    continue
                before = [p for p in points if baseline_begin <= p[0] < begin]
                in_low = sum((p[1] for p in inside), Decimal(0))
                if in_low < MINIMUM:
                    continue
                in_weekly = in_low / Decimal(window.days / 7)
                if any(p[2] is None for p in before):
                    continue  # an open upper bound before the window: no surge can be shown
                base_high = sum((p[2] or Decimal(0) for p in before), Decimal(0))
                base_weekly = base_high / Decimal(BASELINE_DAYS / 7)
                if before and in_weekly <= FACTOR * base_weekly:
                    continue
                yield Flag(self.name, "entity", key, names[key], (
                    ("election", f"{election.name} ({election.day})"),
                    ("window", f"{begin} to {election.day}"),
                    ("spend in window (lower bound)", f"{in_low} {currency}"),
                    ("weekly in window (lower bound)", f"{in_weekly:.0f} {currency}"),
                    ("weekly before (upper bound)", f"{base_weekly:.0f} {currency}" if before else "no spend before"),
                    ("rule", text)), inside[0][3], None)


register_rule(SpendSurge())
