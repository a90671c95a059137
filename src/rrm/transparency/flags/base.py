"""Flags: registered rules, each with its rule text, raising flags that carry their evidence."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import duckdb

from rrm.transparency.incidents import IncidentEntity

__all__ = ["Election", "Flag", "FlagContext", "FlagRule"]


@dataclass(frozen=True, slots=True)
class Flag:
    """One raised flag: which rule, on which record, and the evidence that made it fire."""

    rule: str
    subject_kind: str
    """``ad``, ``donation`` or ``entity``."""
    subject_id: str
    subject: str
    evidence: tuple[tuple[str, str], ...]
    source: str | None = None
    line: int | None = None
    priority: int = 1
    """1 normally, 0 for a flag that is probably benign (e.g. an agency paying for its client); shown last."""

    def evidence_text(self, with_rule: bool = False) -> str:
        """The evidence as one line; the rule text is left out unless asked for (it is the same for every flag)."""
        return "; ".join(f"{k}: {v}" for k, v in self.evidence if with_rule or k != "rule")


@dataclass(frozen=True, slots=True)
class Election:
    """An election day in a country (``EU`` for European Parliament elections in every member state)."""

    country: str
    day: date
    name: str


@dataclass(frozen=True)
class FlagContext:
    """What the rules look at: a connection to the store, the elections, the incident entities."""

    db: duckdb.DuckDBPyConnection
    elections: tuple[Election, ...] = ()
    incident_entities: tuple[IncidentEntity, ...] = ()
    surge_window_days: int = 30


class FlagRule(ABC):
    """A rule. Subclass it in one module of ``rrm.transparency.flags`` and ``register_rule`` an instance."""

    name: str
    rule: str
    """The rule in one sentence, shown with every flag it raises."""

    @abstractmethod
    def run(self, context: FlagContext) -> Iterator[Flag]:
        """Every flag this rule raises on the store."""
