"""Co-actions of a symmetric behaviour found by sorting, in NumPy: the fast path of ``observe``.

``rrm.detect.cooccur`` pairs coded actions with a bucketed self-join in DuckDB, which serves every kind
of behaviour (directed roles, counting posts, ignoring the object). The common kind — peers acting on
the same object, counted in distinct objects (co-reshare, co-link, co-text, co-reply, co-mention,
co-image) — needs no join: once the actions are sorted by object and time, the actions an action
pairs with are the next ones of the same object up to Δt later, found by one binary search per action
(or, when object and time do not fit one 64-bit key, by comparing each action with the next, the one
after, and so on while any pair is still within Δt). The names come back through Arrow: account,
object and post strings stay in the one Arrow table read from DuckDB, and only the rows of the
evidence are taken from it.

The sorts are of 64-bit integer keys with the row numbers packed into their low bits, which NumPy
sorts with SIMD instructions two to three times faster than ``argsort`` (``_key_order``): accounts and
objects by the top bits of DuckDB's 64-bit ``hash`` of their names (``_code_order``), then actions by
object and time counted in whole seconds when every time is one (``_time_quantum``). The join tells
objects and posts apart by their 64-bit hashes; the sorting does so for accounts too (the names of one
action per hash are then sorted): two of n names share a hash with a chance of about n² / 2^65, 2 in
10^11 for 25,000 accounts and 3 in 10^6 for 10 million.

The result is the same as ``cooccur.matched_pairs`` gives on the same actions, pair for pair and
piece of evidence for piece of evidence (``tests/test_detect_sweep.py`` holds the two side by side):
account codes by rank of name, object and post codes by DuckDB's 64-bit ``hash`` of their names, the
same sampling of objects over the cap (run by DuckDB, on the few objects over it), the closest posts
of each pair and object by (time apart, post codes), weights ``1 / ln(1 + accounts)``. It also leaves
in DuckDB the tables the null model and stability selection read (``actions``, ``accounts``,
``weights``), as ``observe`` does on its other path.
"""

from __future__ import annotations

import contextlib
import importlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import numpy as np
import numpy.ma  # imported eagerly, see below
import pyarrow as pa
import pyarrow.compute as pc

from rrm._duckdb import arrow_table
from rrm.detect.cooccur import PEER, PairRule

__all__ = ["SortedCoActions", "sorted_co_actions"]

# ``numpy.ma`` is imported with this module, not when first needed: pyarrow looks up ``np.ma`` whenever it
# converts a NumPy array, and NumPy imports that module on first use, which cost 10 to 20 ms of the first
# detection in a process. For the same reason ``dateutil.relativedelta`` (and ``six``, 8 ms), which pyarrow
# imports, when installed, the first time it converts Python values.
with contextlib.suppress(ImportError):  # pyarrow does without it
    importlib.import_module("dateutil.relativedelta")

_KEY_BITS = 62
"""Object and time share one int64 sort key when ``objects * (time span + Δt + 1)`` stays under 2^62."""


@dataclass(frozen=True)
class SortedCoActions:
    """What ``sorted_co_actions`` found: the pairs that pass, and the closest posts of each pair and object."""

    pairs: pa.Table  # account_a, account_b (names), co_actions, weight; by account_a, account_b
    matches: pa.Table  # account_a, account_b, object, post_a, post_b (names), t_a, t_b (µs); by a, b, t_a, object


def _window_pairs(obj: np.ndarray, t: np.ndarray, window_us: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions (i < j) of the actions of the same object at most ``window_us`` apart, for actions sorted
    by object (dense codes, ascending) and then time."""
    n = t.size
    if n < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    low = int(t.min())
    stride = int(t.max()) - low + window_us + 1
    if (int(obj[-1]) + 1) * stride < 1 << _KEY_BITS:
        key = obj.astype(np.int64) * stride
        key += t
        key -= low
        later = np.searchsorted(key, key + window_us, side="right")  # past the last action within the window
        later -= np.arange(1, n + 1)  # how many later actions are within it
        has = np.flatnonzero(later)
        counts = later[has]
        first = np.repeat(has, counts)
        # second = first + 1, 2, ... counts: ones, each run's start lowered by the run before, summed up
        second = np.ones(first.size, dtype=np.int64)
        second[np.cumsum(counts[:-1])] -= counts[:-1]
        np.cumsum(second, out=second)
        second += first
        return first, second
    firsts: list[np.ndarray] = []
    seconds: list[np.ndarray] = []
    active = np.arange(n - 1, dtype=np.int64)
    step = 1
    while active.size:
        other = active + step
        inside = other < n
        active, other = active[inside], other[inside]
        inside = (obj[other] == obj[active]) & (t[other] - t[active] <= window_us)
        active, other = active[inside], other[inside]
        firsts.append(active)
        seconds.append(other)
        step += 1
    return np.concatenate(firsts), np.concatenate(seconds)


def _frequent(keys: np.ndarray, span: int, minimum: int) -> np.ndarray:
    """Positions of the ``keys`` (non-negative, under ``span``) that occur at least ``minimum`` times."""
    if minimum <= 1:
        return np.arange(keys.size)
    order = _key_order(keys, span)
    starts = np.flatnonzero(_group_starts(keys[order]))
    counts = np.diff(np.append(starts, keys.size))
    kept: np.ndarray = order[np.repeat(counts >= minimum, counts)]
    return kept


def _group_starts(*keys: np.ndarray) -> np.ndarray:
    """A mask of the rows where any of ``keys`` (sorted together) changes from the row before."""
    size = keys[0].size
    start = np.zeros(size, dtype=bool)
    if size:
        start[0] = True
        for key in keys:
            start[1:] |= key[1:] != key[:-1]
    return start


def _sampled(
    db: duckdb.DuckDBPyConnection, account: np.ndarray, obj: np.ndarray, dense: np.ndarray, n_accounts: int,
    cap: int, seed: int,
) -> np.ndarray:
    """A mask of the actions kept by the sampling cap: all those of objects with at most ``cap`` accounts,
    and on the others those of the ``cap`` accounts that ``cooccur``'s sampling keeps (DuckDB's hash of
    account and object code and seed: the same accounts, computed by the same function). ``obj`` holds
    the object codes, ``dense`` the same objects numbered from 0."""
    n_objects = int(dense.max()) + 1 if dense.size else 0
    order = _order(dense, n_objects, account.astype(np.int64), n_accounts)
    cells = order[_group_starts(dense[order], account[order])]  # one action per distinct (object, account)
    big_object = np.bincount(dense[cells], minlength=n_objects) > cap
    if not big_object.any():
        return np.ones(account.size, dtype=bool)
    big_cells = cells[big_object[dense[cells]]]
    db.register("_sweep_big_cells", pa.table({
        "account": pa.array(account[big_cells], pa.int32()), "object": pa.array(obj[big_cells], pa.uint64()),
        "dense": pa.array(dense[big_cells], pa.int64()),
    }))
    try:
        kept = arrow_table(
            db,
            f"""SELECT dense, account FROM _sweep_big_cells
                QUALIFY row_number() OVER (PARTITION BY object ORDER BY hash(account, object, {int(seed)})) <= {int(cap)}""",
        )
    finally:
        db.unregister("_sweep_big_cells")
    kept_cells = np.sort(kept.column("dense").to_numpy() * n_accounts + kept.column("account").to_numpy())
    is_big = big_object[dense]
    cell = dense[is_big].astype(np.int64) * n_accounts + account[is_big]
    keep = np.ones(account.size, dtype=bool)
    if kept_cells.size == 0:  # a cap of 0 keeps nothing of the big objects
        keep[is_big] = False
        return keep
    where = np.minimum(np.searchsorted(kept_cells, cell), kept_cells.size - 1)
    keep[is_big] = kept_cells[where] == cell
    return keep


def _all_valid(raw: pa.Table) -> bool:
    """Whether every action has an account, a time and a non-empty object, told from the null counts and
    the string offsets alone (no string is read or copied)."""
    if raw.column("account").null_count or raw.column("t").null_count or raw.column("object").null_count:
        return False
    objects = raw.column("object")
    width = {pa.string(): np.int32, pa.large_string(): np.int64}.get(objects.type)
    if width is None:  # another string layout: the caller checks the strings themselves
        return False
    for chunk in objects.chunks:
        offsets = np.frombuffer(chunk.buffers()[1], dtype=width, count=len(chunk) + 1,
                                offset=chunk.offset * np.dtype(width).itemsize)
        if np.any(offsets[1:] == offsets[:-1]):
            return False
    return True


def _register(db: duckdb.DuckDBPyConnection, name: str | None, table: pa.Table) -> None:
    if name is None:
        return
    view = f"_sweep_{name}_in"
    db.register(view, table)
    try:
        db.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {view}")
    finally:
        db.unregister(view)


def _order(major: np.ndarray, major_span: int, minor: np.ndarray, minor_span: int) -> np.ndarray:
    """A permutation that sorts by ``major`` and then ``minor`` (non-negative integers under their spans;
    rows equal in both come in any order): one sort of a combined 64-bit key when it fits, several times
    faster than ``np.lexsort``, which it falls back to."""
    span = major_span * max(minor_span, 1)
    if span < 1 << _KEY_BITS:
        key = major.astype(np.int64)  # a copy, turned into the key in place: no more fresh memory than needed
        key *= max(minor_span, 1)
        key += minor
        return _key_order(key, span, reuse=True)
    return np.lexsort((minor, major))


def _key_order(key: np.ndarray, span: int, *, reuse: bool = False) -> np.ndarray:
    """``np.argsort(key)`` for int64 keys in [0, span) (ties in any order); with ``reuse`` the keys'
    array may become the result.

    When the row numbers fit in the bits the key leaves free, they are packed into them and the keys
    sorted by value: NumPy sorts 64-bit integers with SIMD instructions (x86-simd-sort), but not their
    indices, so this takes 1.6 ms where ``argsort`` takes 3.6 ms on 122,000 keys."""
    bits = max(key.size - 1, 1).bit_length()
    if span > 1 << (63 - bits):
        order: np.ndarray = np.argsort(key)
        return order
    packed = key if reuse else key.copy()
    packed <<= bits
    packed |= np.arange(key.size, dtype=np.int64)
    packed.sort()
    packed &= (1 << bits) - 1
    return packed


def _account_codes(codes: np.ndarray, accounts: pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """The distinct account names in order, and each action's account as its rank among them (int32), from
    the accounts' hash ``codes``: the names of one action per code are sorted, no other name is read."""
    if codes.size == 0:
        return accounts.combine_chunks(), np.zeros(0, dtype=np.int32)
    rows, dense = _code_order(codes)
    firsts = rows[_group_starts(dense)]  # one action of each account
    names = accounts.take(pa.array(firsts)).combine_chunks()
    by_name = pc.sort_indices(names).to_numpy()
    rank = np.empty(by_name.size, dtype=np.int32)
    rank[by_name] = np.arange(by_name.size, dtype=np.int32)
    account = np.empty(codes.size, dtype=np.int32)
    account[rows] = rank[dense]
    return names.take(pa.array(by_name)), account


def _time_quantum(t: np.ndarray) -> int:
    """The largest of a second, a millisecond and a microsecond that divides every time. Posts from social
    media are mostly timed to the second: their (object, time) keys, counted in it, leave room for the
    row numbers that ``_key_order`` packs in."""
    for quantum in (1_000_000, 1_000):
        if not np.any(t % quantum):
            return quantum
    return 1


def _code_order(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positions of ``codes`` (64-bit hashes) in ascending order of code, rows of one code in their own
    order, and the codes as dense numbers from 0 in that order.

    The codes' top bits are sorted with the row numbers packed in below them (``_key_order``); when
    two codes share those top bits, which the full codes show, the codes are sorted whole instead."""
    bits = max(codes.size - 1, 1).bit_length()
    packed = (codes >> np.uint64(bits + 1)).view(np.int64)  # the top 63 - bits bits: never negative
    packed <<= bits
    packed |= np.arange(codes.size, dtype=np.int64)
    packed.sort()
    rows = packed & ((1 << bits) - 1)
    start = _group_starts(codes[rows])
    packed >>= bits
    if np.any(start[1:] & (packed[1:] == packed[:-1])):  # two codes with the same top bits
        rows = np.argsort(codes, kind="stable")
        start = _group_starts(codes[rows])
    return rows, np.cumsum(start) - 1


def _object_time_order(obj: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The actions in the order of (object, time) as positions, and their objects as dense codes from 0 in
    that order: sorted by object code first, then by the dense code and time together."""
    if t.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    by_object, dense = _code_order(obj)
    quantum = _time_quantum(t)
    low = int(t.min())
    ticks = t[by_object]
    ticks -= low
    ticks //= quantum  # in the order of the times, as every time is a multiple of quantum
    then = _order(dense, int(dense[-1]) + 1, ticks, int(ticks.max()) + 1)
    return by_object[then], dense[then]


def sorted_co_actions(
    db: duckdb.DuckDBPyConnection,
    query: str,
    rule: PairRule,
    *,
    actions: str | None = None,
    accounts: str | None = None,
    weights: str | None = None,
) -> SortedCoActions:
    """The co-actions of the actions ``query`` gives (account, object, t, post), as ``matched_pairs``
    finds them under ``rule`` (which counts distinct objects: neither ``by_post`` nor ``count_posts``),
    and the tables ``actions``, ``accounts`` and ``weights`` (for the matched objects) in ``db``, as
    ``observe`` leaves them for the null model (each only when named)."""
    if rule.by_post or rule.count_posts:
        raise ValueError("pairs by sorting count distinct objects only")
    window_us, cap = rule.window_us, rule.cap
    # actions without an object, account or time are dropped here, in Arrow: a filter in SQL would make
    # DuckDB build every object string twice, once for the filter and once for the result
    raw = arrow_table(
        db,
        f"""SELECT account::VARCHAR AS account, hash(account::VARCHAR) AS account_code,
                   object::VARCHAR AS object, hash(object::VARCHAR) AS object_code,
                   t::BIGINT AS t, post::VARCHAR AS post, hash(post::VARCHAR) AS post_code FROM ({query})""",
    )
    if not _all_valid(raw):
        raw = raw.filter(pc.and_(pc.and_(pc.is_valid(raw.column("account")), pc.is_valid(raw.column("t"))),
                                 pc.not_equal(pc.coalesce(raw.column("object"), ""), "")))
    obj = raw.column("object_code").to_numpy().astype(np.uint64, copy=False)
    t = raw.column("t").to_numpy().astype(np.int64, copy=False)
    post = raw.column("post_code").to_numpy().astype(np.uint64, copy=False)
    # the accounts are coded while the actions are sorted: NumPy's sorts release the GIL
    account_code = raw.column("account_code").to_numpy().astype(np.uint64, copy=False)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rrm-sweep") as pool:
        coded = pool.submit(_account_codes, account_code, raw.column("account"))
        rows, s_dense = _object_time_order(obj, t)
        names, account = coded.result()
    n_accounts = max(len(names), 1)
    _register(db, accounts, pa.table({"code": pa.array(np.arange(len(names), dtype=np.int32)), "account": names}))
    _register(
        db, actions,
        pa.table({"account": pa.array(account, pa.int32()), "object": pa.array(obj, pa.uint64()), "t": pa.array(t),
                  "post": pa.array(post, pa.uint64()), "role": pa.array(np.full(t.size, PEER, dtype=np.int8))}),
    )
    if t.size == 0:
        _register(db, weights, pa.table({"object": pa.array([], pa.uint64()), "accounts": pa.array([], pa.int64()),
                                         "w": pa.array([], pa.float64())}))
        return SortedCoActions(pairs=_empty_pairs(), matches=_empty_matches())
    n_objects = int(s_dense[-1]) + 1
    s_t, s_account = t[rows], account[rows]
    kept = np.flatnonzero(_sampled(db, s_account, obj[rows], s_dense, n_accounts, cap, rule.seed)) if cap is not None else None

    # the window pairs (positions in the sorted actions), oriented so that account a < account b
    if kept is None:
        i, j = _window_pairs(s_dense, s_t, window_us)
    else:
        i, j = _window_pairs(s_dense[kept], s_t[kept], window_us)
        i, j = kept[i], kept[j]
    account_i, account_j = s_account[i], s_account[j]
    other = account_i != account_j
    i, j, account_i, account_j = i[other], j[other], account_i[other], account_j[other]
    first = account_i < account_j
    side_a, side_b = np.where(first, i, j), np.where(first, j, i)
    pair = np.minimum(account_i, account_j).astype(np.int64) * n_accounts + np.maximum(account_i, account_j)
    pair_object = s_dense[i]

    # distinct objects per pair, and the pairs with at least the minimum of them: among the pairs matched at
    # least that many times (most pairs of a corpus are matched once), counted on far fewer rows
    frequent = _frequent(pair, n_accounts * n_accounts, rule.min_co_actions)
    pair, pair_object, side_a, side_b = pair[frequent], pair_object[frequent], side_a[frequent], side_b[frequent]
    by_pair = _order(pair, n_accounts * n_accounts, pair_object, n_objects)
    pair, pair_object, side_a, side_b = pair[by_pair], pair_object[by_pair], side_a[by_pair], side_b[by_pair]
    cell = _group_starts(pair, pair_object)
    pair_start = _group_starts(pair)
    starts = np.flatnonzero(pair_start)
    objects_per_pair = np.add.reduceat(cell.astype(np.int64), starts) if pair.size else np.zeros(0, np.int64)
    passing = np.repeat(objects_per_pair >= rule.min_co_actions, np.diff(np.append(starts, pair.size)))
    pair, pair_object, side_a, side_b = pair[passing], pair_object[passing], side_a[passing], side_b[passing]

    # the closest posts of each pair and object: by time apart, then post codes (as cooccur's arg_min)
    s_post = post[rows]
    apart = np.abs(s_t[side_a] - s_t[side_b])
    closest = np.lexsort((s_post[side_b], s_post[side_a], apart, pair_object, pair))
    chosen = closest[_group_starts(pair[closest], pair_object[closest])]
    pair, pair_object, side_a, side_b = pair[chosen], pair_object[chosen], side_a[chosen], side_b[chosen]

    # rarity weights of the matched objects, over all their actions (sampled or not)
    matched = np.zeros(n_objects, dtype=bool)
    matched[pair_object] = True
    wanted = np.flatnonzero(matched[s_dense])  # by object
    w_dense, w_account = s_dense[wanted], s_account[wanted]
    cells = _order(w_dense, n_objects, w_account.astype(np.int64), n_accounts)
    distinct = _group_starts(w_dense[cells], w_account[cells])
    object_start = np.flatnonzero(_group_starts(w_dense))
    per_object = np.add.reduceat(distinct.astype(np.int64), object_start) if w_dense.size else np.zeros(0, np.int64)
    weight_of = 1.0 / np.log1p(per_object.astype(np.float64))
    _register(db, weights, pa.table({"object": pa.array(obj[rows[wanted[object_start]]], pa.uint64()),
                                     "accounts": pa.array(per_object), "w": pa.array(weight_of)}))
    w = weight_of[np.searchsorted(w_dense[object_start], pair_object)]

    # one row per pair: distinct objects and the sum of their weights
    starts = np.flatnonzero(_group_starts(pair))
    co = np.diff(np.append(starts, pair.size)).astype(np.int64)
    total = np.add.reduceat(w, starts) if pair.size else np.zeros(0)
    pairs = pa.table({
        "account_a": names.take(pa.array(pair[starts] // n_accounts)),
        "account_b": names.take(pa.array(pair[starts] % n_accounts)),
        # sum * co / co, as the join computes it, so the two agree to the last bit more often
        "co_actions": pa.array(co), "weight": pa.array(total * co / co if co.size else total),
    })
    row_a, row_b = pa.array(rows[side_a]), pa.array(rows[side_b])
    matches = pa.table({
        "pair": pa.array(pair), "t_a": pa.array(s_t[side_a]),
        "object": raw.column("object").take(row_a),
        "account_a": names.take(pa.array(pair // n_accounts)), "account_b": names.take(pa.array(pair % n_accounts)),
        "post_a": raw.column("post").take(row_a), "post_b": raw.column("post").take(row_b),
        "t_b": pa.array(s_t[side_b]),
    }).sort_by([("pair", "ascending"), ("t_a", "ascending"), ("object", "ascending")])
    return SortedCoActions(pairs=pairs, matches=matches.select(list(_MATCH_COLUMNS)))


_MATCH_COLUMNS = ("account_a", "account_b", "object", "post_a", "post_b", "t_a", "t_b")


def _empty_pairs() -> pa.Table:
    return pa.table({"account_a": pa.array([], pa.string()), "account_b": pa.array([], pa.string()),
                     "co_actions": pa.array([], pa.int64()), "weight": pa.array([], pa.float64())})


def _empty_matches() -> pa.Table:
    strings = {name: pa.array([], pa.string()) for name in _MATCH_COLUMNS[:5]}
    return pa.table({**strings, "t_a": pa.array([], pa.int64()), "t_b": pa.array([], pa.int64())})
