"""The null model's shuffled corpora: accounts permuted among posts within time blocks, or timelines shifted.

``_Permutation`` draws, for each action, the action whose account it receives (whole posts move; with
``permute-elsewhere`` never onto an account that acted on one of the post's objects in the data);
everything that does not depend on the draw is computed once for all the shuffles. ``NullCorpora``
draws shuffled corpora one after the other from one generator (see ``rrm.detect.significance``); ``shuffled_actions`` is one such corpus of string actions..
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rrm.detect.cooccur import ACTION_SCHEMA, SOURCE
from rrm.detect.keyset import KeySet, sorted_unique

__all__ = ["NullCorpora", "dense_codes", "shuffled_actions"]

_REPAIR_ROUNDS = 30


def _codes(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    encoded = pc.dictionary_encode(column)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    codes: np.ndarray = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return codes


def dense_codes(values: np.ndarray) -> np.ndarray:
    """``values`` replaced by 0, 1, 2... in the order of their first appearance (as a dictionary encoding)."""
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    _, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    codes: np.ndarray = rank[inverse.reshape(-1)]
    return codes


class _Permutation:
    """Draws, for each action, the action whose account it receives: accounts permuted among the *posts*
    of each block. Everything that does not depend on the draw is computed once, for all the shuffles.

    All the actions of one post (its hashtags, its links) move together to the same new account, as
    in the data. With ``elsewhere`` the permutation is repaired so that no post goes to an account that
    acted on one of its objects in the data: a post whose new account collides swaps with a random
    post of the same block when the swap leaves both without a collision; a few rounds of vectorised
    swaps remove nearly all collisions (a block whose posts all share one object keeps its plain
    permutation).
    """

    def __init__(self, accounts: np.ndarray, objects: np.ndarray, posts: np.ndarray, block: np.ndarray,
                 elsewhere: bool) -> None:
        unit_of = dense_codes(posts)
        first = np.full(int(unit_of.max()) + 1 if unit_of.size else 0, -1, dtype=np.int64)
        first[unit_of[::-1]] = np.arange(unit_of.size)[::-1]  # the first action of each post
        self.unit_of, self.first, self.units = unit_of, first, first.size
        self.unit_block = block[first]
        self.unit_account = accounts[first]
        self.in_place = np.argsort(self.unit_block, kind="stable")
        self.block_key = (self.unit_block - (self.unit_block.min() if self.units else 0)).astype(np.float64)
        self.elsewhere = elsewhere and self.units > 0
        if self.elsewhere:
            self.objects = objects
            n_objects = int(objects.max()) + 1
            acted = sorted_unique(accounts.astype(np.int64) * n_objects + objects)
            # an object acted on by one account collides only with that account; the others are looked up
            owners = np.bincount(acted % n_objects, minlength=n_objects)
            self.owner = np.full(n_objects, -1, dtype=np.int64)
            single = owners[acted % n_objects] == 1
            self.owner[acted[single] % n_objects] = acted[single] // n_objects
            self.acted, self.n_objects = KeySet(acted[~single]), n_objects
            self.by_unit = np.argsort(unit_of, kind="stable")
            self.counts = np.bincount(unit_of, minlength=self.units)
            self.offsets = np.concatenate([[0], np.cumsum(self.counts)])
            self.row_unit = np.repeat(np.arange(self.units), self.counts)  # the unit of each row of by_unit
            self.row_objects = objects[self.by_unit]
            self.row_owner = self.owner[self.row_objects]
            ordered = self.unit_block[self.in_place]
            self.starts = np.searchsorted(ordered, self.unit_block, side="left")
            self.sizes = np.searchsorted(ordered, self.unit_block, side="right") - self.starts

    def _collides_all(self, source: np.ndarray) -> np.ndarray:
        """``_collides(np.arange(units), source)``, without rebuilding the rows of every unit."""
        account = self.unit_account[source].astype(np.int64)[self.row_unit]
        hit = self.row_owner == account
        shared = np.flatnonzero(self.row_owner < 0)
        if shared.size:
            hit[shared] = self.acted.contains(account[shared] * self.n_objects + self.row_objects[shared])
        return np.bincount(self.row_unit, weights=hit, minlength=self.units) > 0

    def _rows(self, at: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For the units ``at``: (their number of rows, and for every row its object, the object's single
        account or -1, and its position in ``at``)."""
        n = self.counts[at]
        rows = self.by_unit[np.repeat(self.offsets[at], n) + np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)]
        objects = self.objects[rows]
        return n, objects, self.owner[objects], np.repeat(np.arange(at.size), n)

    def _collides(self, expanded: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], src: np.ndarray) -> np.ndarray:
        """Whether each unit of ``expanded`` (``_rows``) would collide with the account of unit ``src``."""
        n, objects, owner, which = expanded
        account = np.repeat(self.unit_account[src].astype(np.int64), n)
        hit = owner == account
        shared = np.flatnonzero(owner < 0)
        if shared.size:
            hit[shared] = self.acted.contains(account[shared] * self.n_objects + objects[shared])
        return np.bincount(which, weights=hit, minlength=src.size) > 0

    def __call__(self, rng: np.random.Generator) -> np.ndarray:
        units = self.units
        order = np.argsort(self.block_key + rng.random(units))  # by block, then at random (a lexsort, faster)
        source = np.arange(units, dtype=np.int64)
        source[self.in_place] = order
        if self.elsewhere:
            bad = np.flatnonzero(self._collides_all(source))
            for _ in range(_REPAIR_ROUNDS):
                if bad.size == 0:
                    break
                partner = self.in_place[self.starts[bad] + (rng.random(bad.size) * self.sizes[bad]).astype(np.int64)]
                rows_bad, rows_partner = self._rows(bad), self._rows(partner)
                ok = (partner != bad) & ~self._collides(rows_bad, source[partner]) & ~self._collides(rows_partner, source[bad])
                i, j = bad[ok], partner[ok]
                used = np.bincount(np.concatenate([i, j]), minlength=units)
                single = (used[i] == 1) & (used[j] == 1)
                i, j = i[single], j[single]
                source[i], source[j] = source[j], source[i].copy()
                # a swapped unit was checked against its new account; the others kept theirs, so they
                # still collide (the same result as checking every unit of ``bad`` again, for less)
                moved = np.zeros(units, dtype=bool)
                moved[i] = True
                moved[j] = True
                bad = bad[~moved[bad]]
        result: np.ndarray = self.first[source[self.unit_of]]
        return result


class NullCorpora:
    """Shuffled copies of one behaviour's coded actions, drawn one after the other from one generator.

    ``permute-accounts`` and ``permute-elsewhere`` move whole posts among accounts within time blocks
    of ``block_us`` and leave the actions of ``SOURCE`` role in place (an author keeps their posts; who
    reshares them is shuffled); ``circular-shift`` shifts each account's times by a random offset,
    wrapping around the period. With ``slot_us`` the object is recomputed as the time slot of the
    (shifted) time (``sync-activity``).
    """

    def __init__(self, accounts: np.ndarray, objects: np.ndarray, t: np.ndarray, posts: np.ndarray,
                 role: np.ndarray, model: str, slot_us: int | None, block_us: int) -> None:
        self.accounts, self.objects, self.t, self.posts, self.role = accounts, objects, t, posts, role
        self.model, self.slot_us = model, slot_us
        self.permutation: _Permutation | None = None
        self.seen: np.ndarray | None = None  # accounts numbered in order of first appearance
        self.movable = np.flatnonzero(role != SOURCE)
        if model in ("permute-accounts", "permute-elsewhere") and self.movable.size:
            m = self.movable
            self.permutation = _Permutation(
                accounts[m], objects[m], posts[m], t[m] // block_us, model == "permute-elsewhere"
            )

    def draw(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(accounts, objects, times) of one shuffled corpus."""
        accounts, objects, t = self.accounts, self.objects, self.t
        if self.model in ("permute-accounts", "permute-elsewhere"):
            if self.permutation is not None:
                source = np.arange(t.size, dtype=np.int64)
                source[self.movable] = self.movable[self.permutation(rng)]
                accounts = accounts[source]
        elif t.size:
            start, span = int(t.min()), int(t.max() - t.min()) + 1
            if self.seen is None:
                self.seen = dense_codes(accounts)
            offsets = rng.integers(0, span, size=int(self.seen.max()) + 1)
            t = start + (t - start + offsets[self.seen]) % span
        if self.slot_us is not None:
            objects = t // self.slot_us
        return accounts, objects, t


def shuffled_actions(
    actions: pa.Table, model: str, rng: np.random.Generator, slot_us: int | None, block_us: int
) -> pa.Table:
    """One null corpus of ``actions`` (``ACTION_SCHEMA``): the accounts permuted among posts within time
    blocks of ``block_us``, or each account's times shifted circularly (see ``NullCorpora``).

    ``permute-elsewhere`` also never gives a post to an account that acted on one of its objects in
    the data (see ``_Permutation``). With ``slot_us`` the object is ``slot:<time slot>``.
    """
    account = actions.column("account")
    codes = _codes(account)
    corpora = NullCorpora(
        codes, _codes(actions.column("object")), actions.column("t").to_numpy(), _codes(actions.column("post")),
        actions.column("role").to_numpy(zero_copy_only=False), model, slot_us, block_us,
    )
    accounts, slots, t = corpora.draw(rng)
    names = pc.dictionary_encode(account)
    if isinstance(names, pa.ChunkedArray):
        names = names.combine_chunks()
    objects = actions.column("object")
    if slot_us is not None:
        objects = pa.array(np.char.add("slot:", slots.astype(str)), pa.string())
    return pa.table(
        {"account": names.dictionary.take(pa.array(accounts)), "object": objects, "t": pa.array(t, pa.int64()),
         "post": actions.column("post"), "role": actions.column("role")},
        schema=ACTION_SCHEMA,
    )
