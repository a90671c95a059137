"""The Admiralty (NATO) code: source reliability A-F and information credibility 1-6, rated apart ("B2").

    >>> rating = AdmiraltyRating.parse("B2")
    >>> rating.reliability.label, rating.credibility.label, rating.stix_confidence
    ('Usually reliable', 'Probably true', 70)

Descriptions are those of US FM 2-22.3 as carried in MISP's ``admiralty-scale`` taxonomy. The mapping to
STIX 2.1 ``confidence`` is the "Admiralty Credibility" scale of the STIX 2.1 specification's appendix:
credibility 1-5 map to 90, 70, 50, 30, 10 (and back from the ranges 80-100, 60-79, 40-59, 20-39, 0-19);
6 ("cannot be judged") has no confidence value, so the property is left out. Source reliability has no
STIX property. ``G`` ("deliberately deceptive") exists only in MISP's taxonomy, not in the NATO standard:
it is accepted (``standard`` is False) so MISP data keeps its meaning.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any

from rrm.errors import InputError
from rrm.frameworks._data import vocabulary

__all__ = ["AdmiraltyRating", "InformationCredibility", "SourceReliability", "credibility_from_confidence"]


def _entry(block: str, code: str) -> dict[str, Any]:
    for entry in vocabulary("admiralty_code")[block]:
        if entry["code"] == code:
            return entry  # type: ignore[no-any-return]
    raise LookupError(code)  # pragma: no cover - the shipped data has every code


class SourceReliability(enum.Enum):
    """How reliable the source is, A (completely reliable) to F (cannot be judged); G is MISP's extension."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"
    G = "G"

    @property
    def label(self) -> str:
        return _entry("source_reliability", self.value)["label"]  # type: ignore[no-any-return]

    @property
    def description(self) -> str:
        return _entry("source_reliability", self.value)["description"]  # type: ignore[no-any-return]

    @property
    def standard(self) -> bool:
        """False for G, which only MISP's taxonomy has."""
        return bool(_entry("source_reliability", self.value)["standard"])


class InformationCredibility(enum.Enum):
    """How credible the information is, 1 (confirmed) to 6 (cannot be judged)."""

    CONFIRMED = "1"
    PROBABLY_TRUE = "2"
    POSSIBLY_TRUE = "3"
    DOUBTFUL = "4"
    IMPROBABLE = "5"
    CANNOT_BE_JUDGED = "6"

    @property
    def code(self) -> str:
        return self.value

    @property
    def label(self) -> str:
        return _entry("information_credibility", self.value)["label"]  # type: ignore[no-any-return]

    @property
    def description(self) -> str:
        return _entry("information_credibility", self.value)["description"]  # type: ignore[no-any-return]

    @property
    def stix_confidence(self) -> int | None:
        """The STIX 2.1 ``confidence`` for this level; None for 6 (leave the property out)."""
        value = _entry("information_credibility", self.value)["stix_confidence"]
        return None if value is None else int(value)

    @property
    def confidence_range(self) -> tuple[int, int] | None:
        """The STIX confidence values (inclusive) that read back as this level; None for 6."""
        value = _entry("information_credibility", self.value)["range"]
        return None if value is None else (int(value[0]), int(value[1]))


def credibility_from_confidence(confidence: int) -> InformationCredibility:
    """The credibility level a STIX ``confidence`` (0-100) reads as, by the Admiralty Credibility ranges."""
    if isinstance(confidence, bool) or not isinstance(confidence, int) or not 0 <= confidence <= 100:
        raise InputError(f"STIX confidence must be an integer from 0 to 100, not {confidence!r}", field="confidence")
    for level in InformationCredibility:
        bounds = level.confidence_range
        if bounds is not None and bounds[0] <= confidence <= bounds[1]:
            return level
    raise AssertionError(confidence)  # pragma: no cover - the ranges cover 0-100


_RATING = re.compile(r"^\s*([A-Ga-g])\s*-?\s*([1-6])\s*$")


@dataclass(frozen=True)
class AdmiraltyRating:
    """A source reliability and an information credibility, rated independently: ``B2``."""

    reliability: SourceReliability
    credibility: InformationCredibility

    @classmethod
    def parse(cls, text: str, *, source: str | None = None) -> AdmiraltyRating:
        """``B2``, ``b2``, ``B-2`` or ``B 2``; anything else raises ``InputError`` (field ``admiralty``)."""
        match = _RATING.match(text) if isinstance(text, str) else None
        if match is None:
            raise InputError(
                f"{str(text)[:40]!r} is not an Admiralty rating (a letter A-F and a digit 1-6, e.g. 'B2')",
                source=source,
                field="admiralty",
            )
        return cls(SourceReliability(match.group(1).upper()), InformationCredibility(match.group(2)))

    @property
    def code(self) -> str:
        return f"{self.reliability.value}{self.credibility.value}"

    @property
    def stix_confidence(self) -> int | None:
        """The STIX 2.1 ``confidence`` this rating maps to (from the credibility; None for 6)."""
        return self.credibility.stix_confidence

    def __str__(self) -> str:
        return self.code
