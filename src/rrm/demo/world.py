"""What a scenario takes place in: its settings, period, accounts, news events and televised debate.

Everything here is drawn once per scenario from the seed; the organic chunks and the planted
campaigns draw from their own random streams, so each part comes out the same whatever is generated
before or after it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np

from rrm.demo import vocabulary as v
from rrm.demo.accounts import AccountTable, Floats, Ints, campaign_accounts, concat, organic_accounts
from rrm.demo.text import article_url, zipf
from rrm.errors import InputError

__all__ = ["DEFAULT_CAMPAIGN_KINDS", "DIURNAL", "NewsEvent", "ScenarioConfig", "World", "build_world"]

DEFAULT_CAMPAIGN_KINDS = ("retweet-ring", "copy-paste", "link-farm", "hashtag-push")

_HOURLY = np.array(
    [2.0, 1.2, 0.8, 0.6, 0.6, 0.9, 1.8, 3.0, 4.0, 4.2, 4.3, 4.5, 4.8, 4.6, 4.4, 4.5, 4.7, 5.0, 5.5, 6.0, 6.3, 6.0,
     4.8, 3.4]
)
DIURNAL = _HOURLY / _HOURLY.sum()
"""Share of the day's posts in each UTC hour: quiet at night, busiest in the evening."""


@dataclass(frozen=True)
class ScenarioConfig:
    """The settings of a generated scenario; the same settings always give the same scenario."""

    seed: int = 7
    organic_accounts: int = 3000
    days: int = 7
    campaign_kinds: tuple[str, ...] = DEFAULT_CAMPAIGN_KINDS
    accounts_per_campaign: int = 25
    posts_target: int | None = None
    """When set, the organic activity is scaled so that the scenario has about this many posts."""
    posts_per_account_day: float = 2.0
    """Mean organic posts per account and day, when ``posts_target`` is not set."""
    start: datetime = datetime(2024, 6, 3, tzinfo=UTC)

    def __post_init__(self) -> None:
        for name, value, least in (
            ("organic_accounts", self.organic_accounts, 100),
            ("days", self.days, 1),
            ("accounts_per_campaign", self.accounts_per_campaign, 5),
        ):
            if value < least:
                raise InputError(f"must be at least {least}, got {value}", source="scenario", field=name)
        if self.posts_target is not None and self.posts_target < 1:
            raise InputError(f"must be positive, got {self.posts_target}", source="scenario", field="posts_target")
        if self.start.tzinfo is None:
            raise InputError("must carry a time zone", source="scenario", field="start")


@dataclass(frozen=True)
class NewsEvent:
    """A story many people link to in the hours after it is published."""

    seconds: int
    url: str
    key: int
    weight: float


@dataclass(frozen=True)
class World:
    config: ScenarioConfig
    accounts: AccountTable
    organic: int  # accounts [0, organic) are organic
    campaign_members: tuple[Ints, ...]  # account rows of each planted campaign
    start: int
    end: int
    activity: Floats  # posting probability of each organic account
    popularity: Floats  # chance of being reshared, replied to or mentioned, by followers
    celebrities: Ints  # the most followed organic accounts
    events: tuple[NewsEvent, ...]
    debate_start: int
    debate_minutes: int = 90

    def times(self, rng: np.random.Generator, n: int) -> Ints:
        """``n`` times in the period, following the diurnal rhythm."""
        day = rng.integers(0, self.config.days, n)
        hour = rng.choice(24, n, p=DIURNAL)
        return (self.start + day * 86_400 + hour * 3_600 + rng.integers(0, 3_600, n)).astype(np.int64)

    def fold(self, rng: np.random.Generator, seconds: Ints, origin: Ints) -> Ints:
        """Times past the end of the period are redrawn between their origin and the end."""
        seconds = seconds.astype(np.int64)
        late = seconds >= self.end
        if late.any():
            room = np.maximum(self.end - 1 - origin[late], 0)
            seconds[late] = origin[late] + (rng.random(int(late.sum())) * room).astype(np.int64)
        return seconds


def _events(rng: np.random.Generator, world_times: Ints) -> tuple[NewsEvent, ...]:
    n = len(world_times)
    domains = rng.choice(len(v.NEWS_DOMAINS), n, p=zipf(len(v.NEWS_DOMAINS), 0.8))
    sections = rng.choice(len(v.NEWS_SECTIONS), n)
    slugs = rng.integers(0, len(v.WORDS), (n, 4))
    ids = rng.integers(100_000, 999_999, n)
    weights = rng.permutation(zipf(n, 1.0))
    events = []
    for i in range(n):
        date = str(np.datetime64(int(world_times[i]), "s").astype("datetime64[D]"))
        url = article_url(v.NEWS_DOMAINS[domains[i]], v.NEWS_SECTIONS[sections[i]], date,
                          [v.WORDS[j] for j in slugs[i]], int(ids[i]))
        events.append(NewsEvent(int(world_times[i]), url, int(ids[i]), float(weights[i])))
    return tuple(events)


def build_world(config: ScenarioConfig) -> World:
    rng = np.random.default_rng([config.seed, 0])
    start = int(config.start.timestamp())
    taken: set[str] = set()
    organic = organic_accounts(rng, config.organic_accounts, start, taken)
    tables = [organic]
    members = []
    row = len(organic)
    for _ in config.campaign_kinds:
        planted = campaign_accounts(rng, config.accounts_per_campaign, start, row, taken)
        tables.append(planted)
        members.append(np.arange(row, row + len(planted), dtype=np.int64))
        row += len(planted)
    accounts = concat(tables)
    activity = organic.activity / organic.activity.sum()
    popularity: Floats = np.power(organic.followers + 1.0, 0.8, dtype=np.float64)
    popularity /= popularity.sum()
    celebrities = np.argsort(-organic.followers, kind="stable")[: max(10, len(organic) // 100)].astype(np.int64)
    world = World(
        config=config, accounts=accounts, organic=len(organic), campaign_members=tuple(members), start=start,
        end=start + config.days * 86_400, activity=activity, popularity=popularity, celebrities=celebrities,
        events=(), debate_start=start + min(config.days - 1, 1) * 86_400 + 19 * 3_600,
    )
    event_times = np.sort(world.times(rng, max(2, 3 * config.days)))
    return replace(world, events=_events(rng, event_times))
