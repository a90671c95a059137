"""Keyed pseudonymisation: partners with the key match accounts; others learn nothing."""

from __future__ import annotations

import pytest

from rrm.errors import InputError
from rrm.share import Pseudonymiser

KEY = bytes(range(32))


def test_same_account_same_pseudonym_for_partners_sharing_the_key() -> None:
    ours, theirs = Pseudonymiser(KEY), Pseudonymiser(bytes(KEY))
    assert ours.pseudonym("twitter", "@SomeHandle") == theirs.pseudonym("Twitter", "somehandle")


def test_other_key_or_other_account_gives_another_pseudonym() -> None:
    ours = Pseudonymiser(KEY)
    assert ours.pseudonym("twitter", "123") != Pseudonymiser(bytes(32)).pseudonym("twitter", "123")
    assert ours.pseudonym("twitter", "123") != ours.pseudonym("twitter", "124")
    assert ours.pseudonym("twitter", "123") != ours.pseudonym("telegram", "123")


def test_pseudonym_does_not_contain_the_identifier() -> None:
    value = Pseudonymiser(KEY).pseudonym("twitter", "elections_watch")
    assert value.startswith("pseudo:") and "elections" not in value and len(value) == len("pseudo:") + 32


def test_short_or_malformed_keys_are_refused() -> None:
    with pytest.raises(InputError, match="at least 32 bytes"):
        Pseudonymiser(b"short")
    with pytest.raises(InputError, match="hexadecimal"):
        Pseudonymiser.from_hex("zz")
    assert Pseudonymiser.from_hex(KEY.hex()).key == KEY
