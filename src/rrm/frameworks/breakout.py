"""Ben Nimmo's Breakout Scale (Brookings, 2020): how far an influence operation spread, Category 1-6.

An operation can break out further over time, so an assessment carries its date and the evidence seen
then; ``peak`` and ``timeline`` read a series of them. The category definitions are RRM's paraphrase of
Nimmo's paper, not its text.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from rrm.errors import InputError
from rrm.frameworks._data import vocabulary

__all__ = ["BreakoutAssessment", "BreakoutCategory", "peak", "timeline"]


class BreakoutCategory(enum.IntEnum):
    """Category 1 (one platform, one community) to 6 (policy response or call for violence)."""

    ONE_PLATFORM_NO_BREAKOUT = 1
    ONE_PLATFORM_BREAKOUT_OR_MANY_PLATFORMS = 2
    MANY_PLATFORMS_MANY_COMMUNITIES = 3
    CROSS_MEDIUM_BREAKOUT = 4
    CELEBRITY_AMPLIFICATION = 5
    POLICY_RESPONSE_OR_VIOLENCE = 6

    @property
    def label(self) -> str:
        return str(self._data()["label"])

    @property
    def definition(self) -> str:
        return str(self._data()["definition"])

    def _data(self) -> dict[str, object]:
        for entry in vocabulary("breakout_scale")["categories"]:
            if entry["category"] == self.value:
                return entry  # type: ignore[no-any-return]
        raise LookupError(self.value)  # pragma: no cover - the shipped data has all six

    @classmethod
    def parse(cls, text: str | int, *, source: str | None = None) -> BreakoutCategory:
        """``3``, ``"3"``, ``"Category 3"`` or ``"cat3"``; anything else raises ``InputError``."""
        raw = str(text).strip().lower().removeprefix("category").removeprefix("cat").strip(" .:")
        if raw.isdigit() and 1 <= int(raw) <= 6:
            return cls(int(raw))
        raise InputError(f"{str(text)[:40]!r} is not a Breakout Scale category (1-6)", source=source, field="breakout")


@dataclass(frozen=True)
class BreakoutAssessment:
    """The category an operation had reached on ``assessed_at``, and the evidence for it."""

    category: BreakoutCategory
    assessed_at: date
    evidence: str

    def __post_init__(self) -> None:
        if not isinstance(self.category, BreakoutCategory):
            object.__setattr__(self, "category", BreakoutCategory.parse(self.category))
        if not self.evidence.strip():
            raise InputError("a Breakout Scale assessment needs its evidence", field="evidence")


def timeline(assessments: Iterable[BreakoutAssessment]) -> list[BreakoutAssessment]:
    """The assessments in date order (stable for the same day)."""
    return sorted(assessments, key=lambda a: a.assessed_at)


def peak(assessments: Iterable[BreakoutAssessment]) -> BreakoutAssessment | None:
    """The first assessment that reached the highest category, or None when there is none."""
    best: BreakoutAssessment | None = None
    for assessment in timeline(assessments):
        if best is None or assessment.category > best.category:
            best = assessment
    return best
