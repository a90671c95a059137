"""Keyed pseudonymisation of account identifiers, so partners can match accounts without disclosing them.

Partners who share a secret key compute the same pseudonym for the same account
(HMAC-SHA256 over ``platform:account_id``, the id lower-cased and stripped of a leading ``@``), and
can therefore tell that they hold the same account, while a recipient without the key learns
nothing from the pseudonym.

What it protects: raw identifiers of bystanders and of accounts under investigation when a bundle
leaves the node, and against anyone who does not hold the key (including a later leak of the
bundle). What it does not protect: anyone holding the key can test guesses (a dictionary of known
handles), so the key must be shared only with the partners of the agreement and rotated when that
group changes; content (texts, URLs, times) can re-identify an account by itself; and pseudonyms are
stable, so activity under one pseudonym can be linked across bundles — which is the point.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from rrm.errors import InputError

__all__ = ["MIN_KEY_BYTES", "Pseudonymiser"]

MIN_KEY_BYTES = 32


@dataclass(frozen=True)
class Pseudonymiser:
    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) < MIN_KEY_BYTES:
            raise InputError(f"a pseudonymisation key needs at least {MIN_KEY_BYTES} bytes, got {len(self.key)}")

    @classmethod
    def generate(cls) -> Pseudonymiser:
        return cls(secrets.token_bytes(MIN_KEY_BYTES))

    @classmethod
    def from_hex(cls, text: str) -> Pseudonymiser:
        try:
            return cls(bytes.fromhex(text.strip()))
        except ValueError as exc:
            raise InputError("a pseudonymisation key is written in hexadecimal") from exc

    def pseudonym(self, platform: str, account_id: str) -> str:
        message = f"{platform.strip().lower()}:{account_id.strip().lstrip('@').lower()}".encode()
        return "pseudo:" + hmac.new(self.key, message, hashlib.sha256).hexdigest()[:32]
