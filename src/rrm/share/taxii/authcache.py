"""A per-process cache of verified credentials and rights, never older than the node's access settings.

Every change to partners, credentials, rights or collections bumps a counter in the database (the
*access epoch*, in the same transaction as the change). Each lookup first reads that counter (one
indexed row, microseconds) and uses a cached answer only if it was cached under the same epoch; so a
revoked key, a changed password, a narrowed agreement or a withdrawn right applies to the very next
request, in every server process. What the cache saves is the scrypt verification of a Basic login
(tens of milliseconds) and the joins of the lookups. Entries also expire after ``ttl`` seconds, and
the least recently used go first when ``size`` entries are held. Only successful logins are cached:
a wrong secret is always checked against the database, and cannot push good entries out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["EpochCache", "secret_digest"]

V = TypeVar("V")

_PROCESS_KEY = secrets.token_bytes(32)


def secret_digest(*parts: str) -> str:
    """A keyed digest of presented secrets, for cache keys: the secrets themselves are never kept."""
    message = "\x00".join(parts).encode("utf-8", "surrogatepass")
    return hmac.new(_PROCESS_KEY, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class _Entry(Generic[V]):
    value: V
    epoch: int
    expires: float


class EpochCache(Generic[V]):
    """A bounded LRU of values, each valid for one access epoch and at most ``ttl`` seconds."""

    def __init__(self, size: int = 4096, ttl: float = 60.0) -> None:
        self.size = size
        self.ttl = ttl
        self._entries: OrderedDict[Hashable, _Entry[V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, epoch: int) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.epoch != epoch or entry.expires < time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry.value

    def put(self, key: Hashable, value: V, epoch: int) -> None:
        with self._lock:
            self._entries[key] = _Entry(value, epoch, time.monotonic() + self.ttl)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
