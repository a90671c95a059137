"""Who may see what: partners, their credentials (stored hashed), rights per collection, and TLP 2.0.

TLP is enforced on every object served:
- CLEAR and GREEN: any partner that may read the collection;
- AMBER: partners whose agreement allows AMBER or higher (``max_tlp``);
- AMBER+STRICT and RED: only partners named in the object's ``x_rrm_recipients`` (being named is the
  authorisation; the agreement's ``max_tlp`` governs the levels shared without naming).
An object without a TLP marking is treated as AMBER, the safe reading of an unmarked object.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rrm.frameworks.tlp import TLP

__all__ = [
    "DEFAULT_TLP",
    "Partner",
    "TaxiiAccess",
    "hash_password",
    "key_lookup",
    "new_api_key",
    "object_recipients",
    "object_tlp",
    "verify_password",
]

DEFAULT_TLP = TLP.AMBER
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    max_tlp: TLP

    def may_receive(self, tlp: TLP, recipients: frozenset[str]) -> bool:
        if tlp in (TLP.AMBER_STRICT, TLP.RED):
            return self.id in recipients
        return tlp <= self.max_tlp


@dataclass(frozen=True)
class TaxiiAccess:
    """What an authenticated partner may do on one collection."""

    partner: Partner
    can_read: bool
    can_write: bool


def object_tlp(obj: Mapping[str, Any]) -> TLP:
    if obj.get("type") == "marking-definition":
        return TLP.CLEAR
    found = [TLP.from_marking_ref(ref) for ref in obj.get("object_marking_refs") or [] if isinstance(ref, str)]
    levels = [tlp for tlp in found if tlp is not None]
    return max(levels) if levels else DEFAULT_TLP


def object_recipients(obj: Mapping[str, Any]) -> frozenset[str]:
    value = obj.get("x_rrm_recipients") or []
    return frozenset(str(v) for v in value) if isinstance(value, list) else frozenset()


def new_api_key() -> str:
    return "rrm_" + secrets.token_urlsafe(32)


def key_lookup(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def verify_password(password: str, stored: str) -> bool:
    try:
        _, salt_text, digest_text = stored.split("$")
        salt, digest = base64.b64decode(salt_text), base64.b64decode(digest_text)
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT), digest)
