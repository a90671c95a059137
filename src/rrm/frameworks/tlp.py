"""The Traffic Light Protocol 2.0 (FIRST, 2022), with its canonical STIX 2.1 marking definitions.

    >>> TLP.parse("TLP:AMBER+STRICT") > TLP.AMBER
    True
    >>> marking_definition(TLP.RED)["id"]
    'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1'

Levels are ordered from the least to the most restrictive: CLEAR < GREEN < AMBER < AMBER+STRICT < RED.
Definitions are FIRST's (as carried in MISP's ``tlp`` taxonomy); the STIX objects are those of OASIS
cti-stix-common-objects (TLP 2.0 extension ``extension-definition--60a3c5c5-...``).
"""

from __future__ import annotations

import copy
import enum
import re
from dataclasses import dataclass
from typing import Any

from rrm.errors import InputError
from rrm.frameworks._data import vocabulary

__all__ = ["TLP", "TLP_EXTENSION_ID", "TLPLevel", "marking_definition", "tlp_levels"]

TLP_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"


class TLP(enum.Enum):
    """A TLP 2.0 level, ordered by how far information may spread (``TLP.RED > TLP.AMBER``)."""

    CLEAR = "TLP:CLEAR"
    GREEN = "TLP:GREEN"
    AMBER = "TLP:AMBER"
    AMBER_STRICT = "TLP:AMBER+STRICT"
    RED = "TLP:RED"

    @property
    def label(self) -> str:
        """The canonical label, e.g. ``TLP:AMBER+STRICT``."""
        return self.value

    @property
    def rank(self) -> int:
        """0 for CLEAR to 4 for RED."""
        return _RANKS[self]

    @property
    def definition(self) -> str:
        return _level_data(self)["definition"]  # type: ignore[no-any-return]

    @property
    def colour(self) -> str:
        return _level_data(self)["colour"]  # type: ignore[no-any-return]

    @property
    def marking_id(self) -> str:
        """The id of the canonical STIX 2.1 TLP 2.0 marking definition."""
        return _level_data(self)["stix_marking_definition"]["id"]  # type: ignore[no-any-return]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, TLP):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, TLP):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, TLP):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, TLP):
            return NotImplemented
        return self.rank >= other.rank

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, text: str, *, source: str | None = None) -> TLP:
        """``TLP:AMBER+STRICT``, ``amber+strict``, ``AMBER_STRICT``, ``tlp:amber strict``; TLP 1.0's WHITE is
        CLEAR. STIX marking-definition ids (TLP 2.0 and the legacy TLP 1.0 ones) are accepted too.

        Anything else raises ``InputError`` (field ``tlp``, and ``source`` when given).
        """
        raw = text.strip() if isinstance(text, str) else ""
        if raw.startswith("marking-definition--"):
            found = _BY_MARKING_ID.get(raw.lower())
            if found is not None:
                return found
            raise InputError(f"{raw[:80]!r} is not a TLP marking definition", source=source, field="tlp")
        key = re.sub(r"[\s_+-]+", "+", raw.upper())
        key = key.removeprefix("TLP:").removeprefix("TLP+").strip("+")
        found = _BY_NAME.get(key)
        if found is None:
            levels = ", ".join(level.label for level in cls)
            raise InputError(f"{raw[:80]!r} is not a TLP 2.0 level (one of {levels})", source=source, field="tlp")
        return found

    @classmethod
    def from_marking_ref(cls, marking_ref: str) -> TLP | None:
        """The level of a STIX ``object_marking_refs`` entry, or None when it is not a TLP marking."""
        return _BY_MARKING_ID.get(marking_ref.strip().lower())


@dataclass(frozen=True)
class TLPLevel:
    """One level as ``rrm tlp`` lists it."""

    tlp: TLP
    label: str
    rank: int
    colour: str
    definition: str
    marking_id: str


_RANKS = {TLP.CLEAR: 0, TLP.GREEN: 1, TLP.AMBER: 2, TLP.AMBER_STRICT: 3, TLP.RED: 4}
_BY_NAME = {
    "CLEAR": TLP.CLEAR,
    "WHITE": TLP.CLEAR,
    "GREEN": TLP.GREEN,
    "AMBER": TLP.AMBER,
    "AMBER+STRICT": TLP.AMBER_STRICT,
    "RED": TLP.RED,
}


def _level_data(tlp: TLP) -> dict[str, Any]:
    for level in vocabulary("tlp_2_0")["levels"]:
        if level["label"] == tlp.value:
            return level  # type: ignore[no-any-return]
    raise LookupError(tlp.value)  # pragma: no cover - the shipped data has all five


def _marking_ids() -> dict[str, TLP]:
    data = vocabulary("tlp_2_0")
    ids = {level["stix_marking_definition"]["id"]: TLP(level["label"]) for level in data["levels"]}
    for label, legacy_id in data["legacy_tlp_1_0_stix_ids"].items():
        ids[legacy_id] = TLP.parse(label)
    return ids


_BY_MARKING_ID = _marking_ids()


def marking_definition(tlp: TLP) -> dict[str, Any]:
    """The canonical STIX 2.1 ``marking-definition`` object for a TLP 2.0 level (a fresh copy)."""
    marking: dict[str, Any] = copy.deepcopy(_level_data(tlp)["stix_marking_definition"])
    return marking


def tlp_levels() -> list[TLPLevel]:
    """The five levels, least restrictive first."""
    return [TLPLevel(t, t.label, t.rank, t.colour, t.definition, t.marking_id) for t in sorted(TLP)]
