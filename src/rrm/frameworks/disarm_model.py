"""The DISARM objects: phases, tactics, techniques (red), countermeasures and detections (blue)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "ActorType",
    "Countermeasure",
    "Detection",
    "DisarmObject",
    "LinkBasis",
    "Metatechnique",
    "Phase",
    "ResponseType",
    "SuggestedCountermeasure",
    "Tactic",
    "Technique",
    "TechniqueLink",
]

LinkBasis = Literal["current", "v0.1", "unresolved"]


@dataclass(frozen=True)
class Phase:
    """P01 Plan, P02 Prepare, P03 Execute, P04 Assess."""

    id: str
    name: str
    description: str
    rank: int
    url: str

    kind = "phase"


@dataclass(frozen=True)
class Tactic:
    """A stage of an operation (TA01 Plan Strategy ... TA18), in one phase."""

    id: str
    name: str
    description: str
    phase_id: str
    rank: int
    url: str

    kind = "tactic"


@dataclass(frozen=True)
class Technique:
    """A red-framework technique ("T0049") or sub-technique ("T0049.001", whose parent is "T0049")."""

    id: str
    name: str
    description: str
    tactic_id: str
    phase_id: str
    parent_id: str | None
    url: str

    kind = "technique"

    @property
    def is_subtechnique(self) -> bool:
        return self.parent_id is not None


@dataclass(frozen=True)
class TechniqueLink:
    """One entry of a countermeasure's (or detection's) upstream technique list, resolved by RRM.

    ``written_id`` and ``written_name`` are what DISARM's blue framework says (mostly v0.1 ids);
    ``technique_ids`` are the current techniques it was resolved to (empty when ``basis`` is
    ``"unresolved"``); ``method`` says how ("id and name", "same id", "v0.1 change note", "name",
    "split-from note", "curated crosswalk"...).
    """

    written_id: str
    written_name: str
    technique_ids: tuple[str, ...]
    basis: LinkBasis
    method: str


@dataclass(frozen=True)
class Countermeasure:
    """A blue-framework countermeasure ("C00008"). Show ``DISARM_BLUE_WARNING`` next to it."""

    id: str
    name: str
    description: str
    metatechnique_ids: tuple[str, ...]
    responsetype_id: str | None
    tactic_id: str | None
    actortype_ids: tuple[str, ...]
    incident_ids: tuple[str, ...]
    how_found: str
    tags: tuple[str, ...]
    links: tuple[TechniqueLink, ...]
    tactic_scope_ids: tuple[str, ...]
    applies_to_all: bool
    url: str

    kind = "countermeasure"

    @property
    def technique_ids(self) -> tuple[str, ...]:
        """The current techniques this countermeasure is linked to, in upstream order, without repeats."""
        return tuple(dict.fromkeys(tid for link in self.links for tid in link.technique_ids))


@dataclass(frozen=True)
class Detection:
    """A blue-framework detection ("F00001"), with the same kinds of links as a countermeasure."""

    id: str
    name: str
    description: str
    metatechnique_ids: tuple[str, ...]
    responsetype_id: str | None
    tactic_id: str | None
    actortype_ids: tuple[str, ...]
    links: tuple[TechniqueLink, ...]
    url: str

    kind = "detection"


@dataclass(frozen=True)
class Metatechnique:
    """A grouping of countermeasures (M001 Resilience ... M014 Reduce Resources)."""

    id: str
    name: str
    description: str

    kind = "metatechnique"


@dataclass(frozen=True)
class ResponseType:
    """D01 Detect, D02 Deny, D03 Disrupt, D04 Degrade, D05 Deceive, D06 Destroy, D07 Deter."""

    id: str
    name: str
    description: str

    kind = "responsetype"


@dataclass(frozen=True)
class ActorType:
    """Who can run a countermeasure (A001 data scientist ... A033 social media platform owner)."""

    id: str
    name: str
    description: str

    kind = "actortype"


@dataclass(frozen=True)
class SuggestedCountermeasure:
    """A countermeasure suggested for some techniques.

    ``technique_ids`` are the asked-for techniques it counters; ``via_v0_1`` is true when at least one of
    those links came through a v0.1 technique id (``v0_1_ids``), so an analyst should check it;
    ``via_parent`` is true when it only counters the parent of an asked-for sub-technique.
    """

    countermeasure: Countermeasure
    technique_ids: tuple[str, ...]
    via_v0_1: bool
    v0_1_ids: tuple[str, ...]
    via_parent: bool


DisarmObject = Phase | Tactic | Technique | Countermeasure | Detection | Metatechnique | ResponseType | ActorType
