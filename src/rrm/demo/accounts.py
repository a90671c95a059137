"""The accounts of a scenario, as columns: organic ones with heavy-tailed activity, and planted ones.

Organic accounts were created over many years, have lognormal follower counts, and a Pareto activity
weight, so that a few accounts post a great deal and most post rarely. Planted accounts are mostly
young, follow many and are followed by few, and post with handles of the ``name12345678`` kind.
Account ids look like X ids: snowflakes (creation time in the high bits) since November 2010.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from rrm.demo import vocabulary as v

__all__ = ["SNOWFLAKE_EPOCH_MS", "AccountTable", "campaign_accounts", "concat", "organic_accounts", "snowflakes"]

SNOWFLAKE_EPOCH_MS = 1_288_834_974_657
_FIRST_ACCOUNT = int(datetime(2007, 1, 1, tzinfo=UTC).timestamp())

Strings = npt.NDArray[np.object_]
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


def snowflakes(seconds: Ints, sequence: Ints) -> Ints:
    """X-style ids for events at ``seconds``, unique for distinct ``sequence`` numbers below 4·10⁹.

    The low 22 bits hold the sequence number and its high part goes into the milliseconds, which
    the generated times (whole seconds) leave free.
    """
    millis = seconds * 1000 + (sequence >> 22) % 1000 - SNOWFLAKE_EPOCH_MS
    ids: Ints = (np.maximum(millis, 0) << 22) | (sequence & 0x3FFFFF)
    return ids


@dataclass(frozen=True)
class AccountTable:
    """Parallel columns, one row per account."""

    ids: Strings
    handles: Strings
    names: Strings
    bios: Strings
    locations: Strings
    created: Ints  # unix seconds
    created_text: Strings  # YYYY-MM-DD, as the archive writes it
    followers: Ints
    following: Ints
    activity: Floats  # relative posting rate
    clients: Strings

    def __len__(self) -> int:
        return len(self.ids)


def _account_ids(created: Ints, first_index: int) -> Strings:
    index = np.arange(first_index, first_index + len(created), dtype=np.int64)
    ids = snowflakes(created, index)
    old = created * 1000 < SNOWFLAKE_EPOCH_MS
    if old.any():
        # before snowflakes, ids were a counter: keep their order by creation time
        order = np.lexsort((index[old], created[old]))
        ranks = np.empty(len(order), dtype=np.int64)
        ranks[order] = np.arange(len(order))
        ids[old] = 750_000 + (ranks + first_index) * 211 + (index[old] % 7)
    return np.array([str(i) for i in ids.tolist()], dtype=object)


def _names(rng: np.random.Generator, n: int) -> tuple[Strings, Strings]:
    first = rng.choice(np.array(v.FIRST_NAMES, dtype=object), n)
    last = rng.choice(np.array(v.SURNAMES, dtype=object), n)
    style = rng.integers(0, 4, n)
    digits = rng.integers(0, 10_000, n)
    handles = []
    names = []
    for f, s, st, d in zip(first.tolist(), last.tolist(), style.tolist(), digits.tolist(), strict=True):
        names.append(f"{f.title()} {s.title()}")
        if st == 0:
            handles.append(f"{f}_{s}")
        elif st == 1:
            handles.append(f"{f}{s}{d % 100}")
        elif st == 2:
            handles.append(f"{f[0]}{s}{d}")
        else:
            handles.append(f"{s}{f.title()}")
    return np.array(handles, dtype=object), np.array(names, dtype=object)


def _unique(handles: Strings, taken: set[str]) -> Strings:
    out = []
    for handle in handles.tolist():
        candidate, n = handle[:15], 1
        while candidate.lower() in taken:
            n += 1
            candidate = f"{handle[: 15 - len(str(n))]}{n}"
        taken.add(candidate.lower())
        out.append(candidate)
    return np.array(out, dtype=object)


def _bios(rng: np.random.Generator, n: int) -> Strings:
    words = rng.choice(np.array(v.BIO_WORDS, dtype=object), (n, 3))
    empty = rng.random(n) < 0.3
    return np.array(["" if e else " | ".join(w) for e, w in zip(empty.tolist(), words.tolist(), strict=True)],
                    dtype=object)


def _dates(created: Ints) -> Strings:
    return np.datetime_as_string(created.astype("datetime64[s]"), unit="D").astype(object)


def organic_accounts(rng: np.random.Generator, n: int, start: int, taken: set[str]) -> AccountTable:
    """``n`` ordinary accounts, created between 2007 and ``start`` (unix seconds), more of them recently."""
    span = start - _FIRST_ACCOUNT
    created = (_FIRST_ACCOUNT + span * rng.beta(1.6, 1.0, n)).astype(np.int64)
    followers = np.floor(rng.lognormal(np.log(180), 1.7, n)).astype(np.int64)
    following = np.floor(rng.lognormal(np.log(250), 1.1, n)).astype(np.int64)
    activity = np.minimum(rng.pareto(1.3, n) + 1.0, 150.0) * rng.uniform(0.5, 1.0, n)
    handles, names = _names(rng, n)
    clients = rng.choice(np.array(v.CLIENTS, dtype=object), n, p=np.array(v.CLIENT_WEIGHTS))
    return AccountTable(
        ids=_account_ids(created, 0), handles=_unique(handles, taken), names=names, bios=_bios(rng, n),
        locations=rng.choice(np.array(v.LOCATIONS, dtype=object), n), created=created, created_text=_dates(created),
        followers=followers, following=following, activity=activity, clients=clients,
    )


def campaign_accounts(rng: np.random.Generator, n: int, start: int, first_index: int, taken: set[str]) -> AccountTable:
    """``n`` planted accounts: most created in the 90 days before ``start``, a few older (bought or aged)."""
    young = rng.random(n) < 0.75
    age_days = np.where(young, rng.uniform(3, 90, n), rng.uniform(200, 2500, n))
    created = (start - age_days * 86_400).astype(np.int64)
    followers = np.floor(rng.lognormal(np.log(25), 1.0, n)).astype(np.int64)
    following = np.floor(rng.lognormal(np.log(600), 0.8, n)).astype(np.int64)
    first = rng.choice(np.array(v.FIRST_NAMES, dtype=object), n)
    digits = rng.integers(10_000_000, 99_999_999, n)
    handles = np.array([f"{f.title()}{d}" for f, d in zip(first.tolist(), digits.tolist(), strict=True)], dtype=object)
    names = np.array([f.title() for f in first.tolist()], dtype=object)
    clients = rng.choice(np.array(v.CAMPAIGN_CLIENTS, dtype=object), n)
    return AccountTable(
        ids=_account_ids(created, first_index), handles=_unique(handles, taken), names=names, bios=_bios(rng, n),
        locations=rng.choice(np.array(v.LOCATIONS, dtype=object), n), created=created, created_text=_dates(created),
        followers=followers, following=following, activity=np.ones(n), clients=clients,
    )


def concat(tables: list[AccountTable]) -> AccountTable:
    """One table with the rows of ``tables`` in order."""
    return AccountTable(
        ids=np.concatenate([t.ids for t in tables]), handles=np.concatenate([t.handles for t in tables]),
        names=np.concatenate([t.names for t in tables]), bios=np.concatenate([t.bios for t in tables]),
        locations=np.concatenate([t.locations for t in tables]), created=np.concatenate([t.created for t in tables]),
        created_text=np.concatenate([t.created_text for t in tables]),
        followers=np.concatenate([t.followers for t in tables]), following=np.concatenate([t.following for t in tables]),
        activity=np.concatenate([t.activity for t in tables]), clients=np.concatenate([t.clients for t in tables]),
    )
