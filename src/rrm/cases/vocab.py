"""The closed vocabularies of a case: roles, statuses, severities, estimative language, actions.

Every value is a ``StrEnum`` whose value is what the database stores and what people type.
TLP is the shared ``rrm.frameworks.tlp.TLP``; DISARM, Admiralty and Breakout come from
``rrm.frameworks`` too.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from rrm.errors import InputError
from rrm.frameworks.tlp import TLP

__all__ = [
    "TRANSITIONS",
    "ActionKind",
    "ActionStatus",
    "FindingKind",
    "IncidentStatus",
    "LessonKind",
    "Likelihood",
    "Role",
    "Severity",
    "Stance",
    "parse_choice",
    "parse_tlp",
]


E = TypeVar("E", bound=StrEnum)


class Role(StrEnum):
    """What a local user may do: viewers read, analysts edit, leads also decide for their organisation."""

    VIEWER = "viewer"
    ANALYST = "analyst"
    LEAD = "lead"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


class IncidentStatus(StrEnum):
    DRAFT = "draft"
    ASSESSED = "assessed"
    SHARED = "shared"
    RESPONDING = "responding"
    CLOSED = "closed"


TRANSITIONS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    IncidentStatus.DRAFT: frozenset({IncidentStatus.ASSESSED, IncidentStatus.CLOSED}),
    IncidentStatus.ASSESSED: frozenset({IncidentStatus.DRAFT, IncidentStatus.SHARED, IncidentStatus.CLOSED}),
    IncidentStatus.SHARED: frozenset({IncidentStatus.RESPONDING, IncidentStatus.CLOSED}),
    IncidentStatus.RESPONDING: frozenset({IncidentStatus.CLOSED}),
    IncidentStatus.CLOSED: frozenset({IncidentStatus.RESPONDING}),
}
"""The workflow draft → assessed → shared → responding → closed. An incident can be closed early (a
false positive, or shared without a response), sent back from assessed to draft, and reopened into
responding; closing and reopening need the ``lead`` role."""


class Severity(StrEnum):
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    CRITICAL = "critical"


class Likelihood(StrEnum):
    """Attribution confidence in estimative language: the ICD 203 probability yardstick.

    The PHIA yardstick's terms are accepted as synonyms when parsing (``remote chance``,
    ``highly unlikely``, ``realistic possibility``, ``highly likely``).
    """

    ALMOST_NO_CHANCE = "almost no chance"
    VERY_UNLIKELY = "very unlikely"
    UNLIKELY = "unlikely"
    ROUGHLY_EVEN_CHANCE = "roughly even chance"
    LIKELY = "likely"
    VERY_LIKELY = "very likely"
    ALMOST_CERTAIN = "almost certain"

    @property
    def probability(self) -> tuple[int, int]:
        """The range in percent that ICD 203 gives the term."""
        return _PROBABILITY[self]

    @classmethod
    def parse(cls, text: str, *, field: str = "confidence") -> Likelihood:
        key = " ".join(text.lower().replace("_", " ").replace("-", " ").split())
        key = _SYNONYMS.get(key, key)
        try:
            return cls(key)
        except ValueError:
            choices = ", ".join(m.value for m in cls)
            raise InputError(f"{text!r} is not an estimative term; use one of: {choices}", field=field) from None


_PROBABILITY: dict[Likelihood, tuple[int, int]] = {
    Likelihood.ALMOST_NO_CHANCE: (1, 5),
    Likelihood.VERY_UNLIKELY: (5, 20),
    Likelihood.UNLIKELY: (20, 45),
    Likelihood.ROUGHLY_EVEN_CHANCE: (45, 55),
    Likelihood.LIKELY: (55, 80),
    Likelihood.VERY_LIKELY: (80, 95),
    Likelihood.ALMOST_CERTAIN: (95, 99),
}

_SYNONYMS = {
    "almost certainly not": "almost no chance",
    "remote": "almost no chance",
    "remote chance": "almost no chance",
    "highly unlikely": "very unlikely",
    "improbable": "unlikely",
    "even chance": "roughly even chance",
    "roughly even odds": "roughly even chance",
    "realistic possibility": "roughly even chance",
    "probable": "likely",
    "probably": "likely",
    "highly likely": "very likely",
    "very probable": "very likely",
    "nearly certain": "almost certain",
    "almost certainly": "almost certain",
}


class FindingKind(StrEnum):
    """What a linked finding points at in the corpus or in detection results."""

    COMMUNITY = "community"
    ACCOUNT = "account"
    POST = "post"
    URL = "url"
    DOMAIN = "domain"


class ActionKind(StrEnum):
    PUBLIC_ATTRIBUTION = "public-attribution"
    PLATFORM_REFERRAL = "platform-referral"
    DEBUNK = "debunk"
    PREBUNK = "prebunk"
    DIPLOMATIC_DEMARCHE = "diplomatic-demarche"
    SANCTIONS = "sanctions"
    OTHER = "other"


class ActionStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in-progress"
    DONE = "done"
    CANCELLED = "cancelled"


class Stance(StrEnum):
    """A partner's assessment of an incident: agree or disagree, with a confidence 0–100."""

    AGREE = "agree"
    DISAGREE = "disagree"


class LessonKind(StrEnum):
    WORKED = "worked"
    DID_NOT_WORK = "did-not-work"
    RECOMMENDATION = "recommendation"


def parse_choice(enum: type[E], text: str, *, field: str) -> E:
    """``text`` as a member of ``enum`` (by value or name, any case), else an ``InputError`` naming ``field``."""
    key = text.strip().lower()
    for member in enum:
        if key in (member.value, member.name.lower(), member.name.lower().replace("_", "-")):
            return member
    choices = ", ".join(m.value for m in enum)
    raise InputError(f"{text!r} is not one of: {choices}", field=field)


def parse_tlp(text: str | TLP) -> TLP:
    """A TLP 2.0 level from what people type (``amber``, ``TLP:AMBER+STRICT``) or from the stored name."""
    if isinstance(text, TLP):
        return text
    if text in TLP.__members__:
        return TLP[text]
    return TLP.parse(text)
