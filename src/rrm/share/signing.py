"""Signed bundles: a node signs what it shares and verifies what it receives.

The signature is Ed25519 over the RFC 8785 canonical JSON of the bundle without its signature, so
any two implementations that agree on the JSON value agree on the bytes signed. It travels inside
the bundle as the custom property ``x_rrm_signature`` (``{"alg": "Ed25519", "key_id", "value"}``,
value in base64), which STIX 2.1 permits and other tools ignore.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from rrm.errors import SignatureError

__all__ = ["SIGNATURE_PROPERTY", "NodeKey", "public_key_from_text", "sign_bundle", "verify_bundle"]

SIGNATURE_PROPERTY = "x_rrm_signature"


@dataclass(frozen=True)
class NodeKey:
    """A node's signing key; ``key_id`` is derived from the public key, so partners can pin it."""

    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> NodeKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, path: Path) -> NodeKey:
        """The key stored at ``path`` (PEM, readable by the owner only), created on first use."""
        if path.exists():
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(loaded, Ed25519PrivateKey):
                raise SignatureError(f"{path} does not hold an Ed25519 private key")
            return cls(loaded)
        key = cls.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = key.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        return key

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def public_text(self) -> str:
        """The public key as base64 of its 32 raw bytes: what a partner is given."""
        raw = self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return base64.b64encode(raw).decode("ascii")

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_key)


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


def public_key_from_text(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise SignatureError(f"not an Ed25519 public key in base64: {exc}") from exc


def _signed_bytes(bundle: Mapping[str, Any]) -> bytes:
    unsigned = {k: v for k, v in bundle.items() if k != SIGNATURE_PROPERTY}
    return rfc8785.dumps(unsigned)


def sign_bundle(bundle: Mapping[str, Any], key: NodeKey) -> dict[str, Any]:
    """A copy of ``bundle`` carrying the node's signature."""
    value = key.private_key.sign(_signed_bytes(bundle))
    signed = {k: v for k, v in bundle.items() if k != SIGNATURE_PROPERTY}
    signed[SIGNATURE_PROPERTY] = {
        "alg": "Ed25519",
        "key_id": key.key_id,
        "value": base64.b64encode(value).decode("ascii"),
    }
    return signed


def verify_bundle(
    bundle: Mapping[str, Any], trusted: Mapping[str, Ed25519PublicKey], *, required: bool = True, source: str = "bundle"
) -> str | None:
    """The key id that signed ``bundle``; raises ``SignatureError`` if it is unsigned (when required),
    signed by a key not in ``trusted``, or tampered with."""
    signature = bundle.get(SIGNATURE_PROPERTY)
    if signature is None:
        if required:
            raise SignatureError(f"{source} is not signed, and this partner's bundles must be")
        return None
    if not isinstance(signature, Mapping) or signature.get("alg") != "Ed25519":
        raise SignatureError(f"{source} has a malformed signature (expected alg Ed25519)")
    key_id = signature.get("key_id")
    if not isinstance(key_id, str) or key_id not in trusted:
        raise SignatureError(f"{source} is signed by an unknown key {key_id!r}")
    try:
        value = base64.b64decode(str(signature.get("value", "")), validate=True)
        trusted[key_id].verify(value, _signed_bytes(bundle))
    except (InvalidSignature, ValueError) as exc:
        raise SignatureError(f"{source} does not match its signature: it was altered after signing") from exc
    return key_id
