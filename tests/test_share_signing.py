"""Signed bundles: a partner's tampered or unsigned bundle is refused with a clear error."""

from __future__ import annotations

import copy
import json
import stat
from pathlib import Path

import pytest

from rrm.errors import SignatureError
from rrm.share import NodeKey, sign_bundle, verify_bundle
from rrm.share.signing import public_key_from_text

BUNDLE = {
    "type": "bundle",
    "id": "bundle--6f2d1a38-0a7b-4f3e-9a52-2b1c4a8e9d10",
    "objects": [
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2026-11-28T10:00:00.000Z",
            "modified": "2026-11-28T10:00:00.000Z",
            "name": "Link-farm domain «новости»",
            "pattern": "[domain-name:value = 'example.org']",
            "pattern_type": "stix",
            "valid_from": "2026-11-28T10:00:00Z",
        }
    ],
}


def test_signed_bundle_verifies_with_the_partners_public_key() -> None:
    key = NodeKey.generate()
    signed = sign_bundle(BUNDLE, key)
    trusted = {key.key_id: public_key_from_text(key.public_text)}
    assert verify_bundle(signed, trusted) == key.key_id
    # key order and whitespace do not matter: the canonical form is signed
    reordered = json.loads(json.dumps(signed, indent=4, sort_keys=True))
    assert verify_bundle(reordered, trusted) == key.key_id


def test_tampered_bundle_is_refused() -> None:
    key = NodeKey.generate()
    signed = sign_bundle(BUNDLE, key)
    tampered = copy.deepcopy(signed)
    tampered["objects"][0]["pattern"] = "[domain-name:value = 'partner.gov']"
    with pytest.raises(SignatureError, match="altered after signing"):
        verify_bundle(tampered, {key.key_id: key.public_key}, source="bundle from DE")


def test_unsigned_bundle_refused_only_when_signatures_are_required() -> None:
    with pytest.raises(SignatureError, match="bundle from FR is not signed"):
        verify_bundle(BUNDLE, {}, source="bundle from FR")
    assert verify_bundle(BUNDLE, {}, required=False) is None


def test_unknown_key_is_refused() -> None:
    signed = sign_bundle(BUNDLE, NodeKey.generate())
    other = NodeKey.generate()
    with pytest.raises(SignatureError, match="unknown key"):
        verify_bundle(signed, {other.key_id: other.public_key})


def test_key_is_stored_for_its_owner_only_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "node.pem"
    first = NodeKey.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert NodeKey.load_or_create(path).key_id == first.key_id


def test_garbage_public_key_is_a_clear_error() -> None:
    with pytest.raises(SignatureError, match="not an Ed25519 public key"):
        public_key_from_text("not-base64!")
