"""Spend surge inside an election window.

An advertiser's spend in the ``surge_window_days`` (30) before an election day is flagged when:

- **surge**: it spent in the 182 days before the window, and its weekly spend in the window (lower
  bound, spread over the window's weeks) is at least ``FACTOR`` (3) times its median weekly spend
  before (upper bound, over the weeks it spent in); or
- **first appearance**: it spent nothing in the 182 days before (records of zero spend do not count),
  and it spends at least
  ``FIRST_APPEARANCE`` (10,000 in the ad's currency) in the window.

Either way at least ``MINIMUM`` (1,000) must be spent in the window. A campaign that merely begins
in the final month at a modest size is not flagged. Amounts are never converted: the thresholds
are in the ad's own currency (10,000 is a lot in GBP, USD or EUR; little in INR or THB).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from statistics import median

from rrm.transparency.countries import is_eu
from rrm.transparency.flags.base import Election, Flag, FlagContext, FlagRule
from rrm.transparency.flags.registry import register_rule

__all__ = ["BASELINE_DAYS", "FACTOR", "FIRST_APPEARANCE", "MINIMUM", "SpendSurge"]

FACTOR = Decimal(3)
MINIMUM = Decimal(1000)
FIRST_APPEARANCE = Decimal(10000)
BASELINE_DAYS = 182

Point = tuple[date, Decimal, Decimal | None, str]


def _applies(election: Election, country: str | None) -> bool:
    return country == election.country or (election.country == "EU" and is_eu(country))


def _weekly_upper(points: list[Point]) -> list[Decimal] | None:
    """Spend per week (upper bounds) over the weeks with spend above zero; None if an upper bound is open."""
    weeks: dict[date, Decimal] = defaultdict(Decimal)
    for day, _, high, _ in points:
        if high is None:
            return None
        weeks[day - timedelta(days=day.weekday())] += high
    return [spend for spend in weeks.values() if spend > 0]


class SpendSurge(FlagRule):
    name = "election-surge"
    rule = (f"in the {{window}} days before an election day, an advertiser's weekly spend (lower bound) is at least "
            f"{FACTOR}× its median weekly spend (upper bound) in the {BASELINE_DAYS} days before, or it first "
            f"appears with at least {FIRST_APPEARANCE} spent in the window; at least {MINIMUM} spent in the window")

    def run(self, context: FlagContext) -> Iterator[Flag]:
        window = timedelta(days=context.surge_window_days)
        rows = context.db.execute(
            """SELECT coalesce(advertiser_id, advertiser), any_value(advertiser), currency, country, start,
                      sum(spend_lower), sum(spend_upper), count(*) - count(spend_upper), any_value(source)
               FROM ads WHERE record_type IN ('ad', 'advertiser_week') AND start IS NOT NULL AND spend_lower IS NOT NULL
                 AND advertiser IS NOT NULL
               GROUP BY ALL"""
        ).fetchall()
        series: dict[tuple[str, str, str], list[Point]] = defaultdict(list)
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
                in_low = sum((p[1] for p in inside), Decimal(0))
                if not inside or in_low < MINIMUM:
                    continue
                in_weekly = in_low / Decimal(window.days / 7)
                weekly = _weekly_upper([p for p in points if baseline_begin <= p[0] < begin])
                if weekly is None:
                    continue  # an open upper bound before the window: no surge can be shown
                if weekly:
                    typical = Decimal(median(weekly))
                    if in_weekly < FACTOR * typical:
                        continue
                    trigger = (f"surge: weekly spend in the window {in_weekly:.0f} {currency} is "
                               f"{in_weekly / typical:.1f}× its median weekly spend before ({typical:.0f} {currency}, "
                               f"over {len(weekly)} weeks with spend)")
                else:
                    if in_low < FIRST_APPEARANCE:
                        continue
                    trigger = (f"first appearance: no spend in the {BASELINE_DAYS} days before the window, "
                               f"{in_low} {currency} in the window (≥ {FIRST_APPEARANCE})")
                yield Flag(self.name, "entity", key, names[key], (
                    ("election", f"{election.name} ({election.day})"),
                    ("window", f"{begin} to {election.day}"),
                    ("trigger", trigger),
                    ("spend in window (lower bound)", f"{in_low} {currency}"),
                    ("rule", text)), inside[0][3], None)


register_rule(SpendSurge())
