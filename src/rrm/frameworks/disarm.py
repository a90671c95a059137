"""DISARM, the framework partners use to describe FIMI: red techniques, blue countermeasures.

    >>> disarm = load_disarm()
    >>> disarm.technique("T0049.001").name
    'Trolls Amplify and Manipulate'
    >>> [s.countermeasure.id for s in disarm.countermeasures_for(["T0049.001"])][:3]  # doctest: +SKIP

The data is the DISARM Foundation's (CC BY-SA 4.0), built into ``data/disarm.json`` by
``scripts/build_disarm.py``. The blue framework's links still use v0.1 technique ids; each link says
how RRM resolved it (``TechniqueLink.basis``), and suggestions say whether they depend on such a link.
Show ``DISARM_BLUE_WARNING`` next to every countermeasure suggestion.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from rrm.errors import NotFoundError
from rrm.frameworks._data import load_json
from rrm.frameworks.disarm_model import (
    ActorType,
    Countermeasure,
    Detection,
    DisarmObject,
    LinkBasis,
    Metatechnique,
    Phase,
    ResponseType,
    SuggestedCountermeasure,
    Tactic,
    Technique,
    TechniqueLink,
)

__all__ = [
    "DISARM_BLUE_WARNING",
    "Disarm",
    "DisarmDetail",
    "LegacyTechnique",
    "load_disarm",
]

# The DISARM Foundation's caution about the blue framework (from the DISARMframeworks README, CC BY-SA 4.0).
# The same text is in data/disarm.json; a test keeps the two equal.
DISARM_BLUE_WARNING = (
    "The set of disinformation responder TTPs in the DISARM Blue Team Framework was derived in 2019 by "
    "volunteers in a workshop. It includes TTPs seen in countries with different ethical values (such as "
    "\u201ccensorship\u201d, an action observed in countries with authoritarian governments). We will "
    "continue to make this \u201cBlue\u201d workshop output available as we develop an alternative based on "
    "democratic values and ethical principles, but we advise caution to anyone using it and have created a "
    "Companion Guide for those users. Of course, every user must consider for themselves what actions "
    "would be ethical, relevant, proportionate, and appropriate, given the unique legal, cultural, and "
    "normative context in which they are operating. (DISARM Foundation)"
)
_PAGES = "https://github.com/DISARMFoundation/DISARMframeworks/blob/main/generated_pages"

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("technique", re.compile(r"^T\d{4}(\.\d{3})?$")),
    ("tactic", re.compile(r"^TA\d{2}$")),
    ("phase", re.compile(r"^P\d{2}$")),
    ("countermeasure", re.compile(r"^C\d{5}$")),
    ("detection", re.compile(r"^F\d{5}$")),
    ("metatechnique", re.compile(r"^M\d{3}$")),
    ("responsetype", re.compile(r"^D\d{2}$")),
    ("actortype", re.compile(r"^A\d{3}$")),
)
_SEARCH_ORDER = {"technique": 0, "tactic": 1, "countermeasure": 2}

T = TypeVar("T")


@dataclass(frozen=True)
class LegacyTechnique:
    """A DISARM v0.1 technique id, and the current techniques RRM maps it to (maybe none)."""

    id: str
    name: str
    change: str
    technique_ids: tuple[str, ...]
    method: str


@dataclass(frozen=True)
class DisarmDetail:
    """One DISARM object with what belongs with it, as ``rrm disarm show`` presents it.

    ``related``: the tactics of a phase, the techniques of a tactic, the sub-techniques of a technique,
    the current techniques a countermeasure or detection is linked to. ``suggestions``: for a technique,
    the countermeasures suggested for it, to be shown with ``warning``.
    """

    item: DisarmObject
    related: tuple[DisarmObject, ...]
    suggestions: tuple[SuggestedCountermeasure, ...]
    warning: str | None


def _url(kind: str, object_id: str) -> str:
    folder = {"countermeasure": "counters"}.get(kind, kind + "s")
    return f"{_PAGES}/{folder}/{object_id}.md"


def _links(raw: Iterable[Mapping[str, Any]]) -> tuple[TechniqueLink, ...]:
    links = []
    for link in raw:
        basis: LinkBasis = link["basis"]
        links.append(
            TechniqueLink(
                written_id=link["written_id"],
                written_name=link["written_name"],
                technique_ids=tuple(link["technique_ids"]),
                basis=basis,
                method=link["method"],
            )
        )
    return tuple(links)


_WIDTHS = {"T": 4, "TA": 2, "P": 2, "C": 5, "F": 5, "M": 3, "D": 2, "A": 3}


def _padded(key: str) -> str | None:
    """``C0008`` -> ``C00008``, ``TA3`` -> ``TA03``, ``T49.1`` -> ``T0049.001``: ids typed without zeros."""
    match = re.match(r"^(TA|[TPCFMDA])(\d{1,5})(?:\.(\d{1,3}))?$", key)
    if match is None or int(match.group(2)) == 0:
        return None
    prefix, number, sub = match.groups()
    padded = f"{prefix}{int(number):0{_WIDTHS[prefix]}d}"
    return f"{padded}.{int(sub):03d}" if sub and prefix == "T" else padded


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


@dataclass(frozen=True)
class _Searchable:
    """An object's id, name and description, lower-cased and split once for ``Disarm.search``."""

    item: Technique | Countermeasure | Tactic
    id: str
    name: str
    description: str
    name_words: frozenset[str]
    all_words: frozenset[str]

    @classmethod
    def of(cls, item: Technique | Countermeasure | Tactic) -> _Searchable:
        name, description = item.name.lower(), item.description.lower()
        name_words = frozenset(_words(name))
        return cls(item, item.id.lower(), name, description, name_words, name_words | frozenset(_words(description)))


class Disarm:
    """The DISARM red and blue frameworks, looked up by id, searched, and linked."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.source: Mapping[str, Any] = data["source"]
        self.blue_warning: str = data["blue_warning"]
        self._phases = {
            p["id"]: Phase(p["id"], p["name"], p["description"], p["rank"], _url("phase", p["id"]))
            for p in data["phases"]
        }
        self._tactics = {
            t["id"]: Tactic(t["id"], t["name"], t["description"], t["phase_id"], t["rank"], _url("tactic", t["id"]))
            for t in data["tactics"]
        }
        self._techniques = {
            t["id"]: Technique(
                id=t["id"],
                name=t["name"],
                description=t["description"],
                tactic_id=t["tactic_id"],
                phase_id=self._tactics[t["tactic_id"]].phase_id,
                parent_id=t["parent_id"],
                url=_url("technique", t["id"]),
            )
            for t in data["techniques"]
        }
        self._countermeasures = {
            c["id"]: Countermeasure(
                id=c["id"],
                name=c["name"],
                description=c["description"],
                metatechnique_ids=tuple(c["metatechnique_ids"]),
                responsetype_id=c["responsetype_id"],
                tactic_id=c["tactic_id"],
                actortype_ids=tuple(c["actortype_ids"]),
                incident_ids=tuple(c["incident_ids"]),
                how_found=c["how_found"],
                tags=tuple(c["tags"]),
                links=_links(c["links"]),
                tactic_scope_ids=tuple(c["tactic_scope_ids"]),
                applies_to_all=c["applies_to_all"],
                url=_url("countermeasure", c["id"]),
            )
            for c in data["countermeasures"]
        }
        self._detections = {
            d["id"]: Detection(
                id=d["id"],
                name=d["name"],
                description=d["description"],
                metatechnique_ids=tuple(d["metatechnique_ids"]),
                responsetype_id=d["responsetype_id"],
                tactic_id=d["tactic_id"],
                actortype_ids=tuple(d["actortype_ids"]),
                links=_links(d["links"]),
                url=_url("detection", d["id"]),
            )
            for d in data["detections"]
        }
        self._metatechniques = {m["id"]: Metatechnique(m["id"], m["name"], m["description"]) for m in data["metatechniques"]}
        self._responsetypes = {r["id"]: ResponseType(r["id"], r["name"], r["description"]) for r in data["responsetypes"]}
        self._actortypes = {a["id"]: ActorType(a["id"], a["name"], a["description"]) for a in data["actortypes"]}
        self._legacy = {
            old_id: LegacyTechnique(old_id, v["name"], v["change"], tuple(v["technique_ids"]), v["method"])
            for old_id, v in data["v0_1_crosswalk"].items()
        }
        # technique id -> [(countermeasure id, link)], for suggestions
        self._counters_of: dict[str, list[tuple[str, TechniqueLink]]] = {}
        for counter in self._countermeasures.values():
            for link in counter.links:
                for tid in link.technique_ids:
                    self._counters_of.setdefault(tid, []).append((counter.id, link))
        self._index: list[_Searchable] | None = None
        self._tables: dict[str, Mapping[str, DisarmObject]] = {
            "technique": self._techniques,
            "tactic": self._tactics,
            "phase": self._phases,
            "countermeasure": self._countermeasures,
            "detection": self._detections,
            "metatechnique": self._metatechniques,
            "responsetype": self._responsetypes,
            "actortype": self._actortypes,
        }

    # -- look-ups -------------------------------------------------------------------------------------

    def technique(self, id: str) -> Technique:
        return self._get(self._techniques, "technique", id)

    def tactic(self, id: str) -> Tactic:
        return self._get(self._tactics, "tactic", id)

    def phase(self, id: str) -> Phase:
        return self._get(self._phases, "phase", id)

    def countermeasure(self, id: str) -> Countermeasure:
        return self._get(self._countermeasures, "countermeasure", id)

    def detection(self, id: str) -> Detection:
        return self._get(self._detections, "detection", id)

    def metatechnique(self, id: str) -> Metatechnique:
        return self._get(self._metatechniques, "metatechnique", id)

    def responsetype(self, id: str) -> ResponseType:
        return self._get(self._responsetypes, "responsetype", id)

    def actortype(self, id: str) -> ActorType:
        return self._get(self._actortypes, "actortype", id)

    def legacy_technique(self, id: str) -> LegacyTechnique:
        """A DISARM v0.1 technique id and where it went."""
        key = id.strip().upper()
        if key not in self._legacy:
            raise NotFoundError(f"No DISARM v0.1 technique {id.strip()!r}.")
        return self._legacy[key]

    def lookup(self, id: str) -> DisarmObject:
        """Any DISARM object by id: T0049, T0049.001, TA01, P01, C00008, F00001, M001, D01, A001."""
        key = id.strip().upper()
        for kind, pattern in _PATTERNS:
            if pattern.match(key):
                return self._get(self._tables[kind], kind, key)
        message = (
            f"{id.strip()!r} is not a DISARM id (examples: T0049, T0049.001, TA01, P01, C00008, F00001, M001, "
            "D01, A001)."
        )
        every_id = [object_id for table in self._tables.values() for object_id in table]
        raise NotFoundError(message + self._did_you_mean(key, every_id, id))

    def techniques(self) -> list[Technique]:
        return list(self._techniques.values())

    def tactics(self) -> list[Tactic]:
        return sorted(self._tactics.values(), key=lambda t: (t.rank, t.id))

    def phases(self) -> list[Phase]:
        return sorted(self._phases.values(), key=lambda p: (p.rank, p.id))

    def countermeasures(self) -> list[Countermeasure]:
        return list(self._countermeasures.values())

    def detections(self) -> list[Detection]:
        return list(self._detections.values())

    def metatechniques(self) -> list[Metatechnique]:
        return list(self._metatechniques.values())

    def responsetypes(self) -> list[ResponseType]:
        return list(self._responsetypes.values())

    def actortypes(self) -> list[ActorType]:
        return list(self._actortypes.values())

    def subtechniques(self, technique_id: str) -> list[Technique]:
        parent = self.technique(technique_id)
        return [t for t in self._techniques.values() if t.parent_id == parent.id]

    def _get(self, table: Mapping[str, T], kind: str, id: str) -> T:
        key = id.strip().upper()
        found = table.get(key)
        if found is not None:
            return found
        message = f"No DISARM {kind} {id.strip()!r}."
        legacy = self._legacy.get(key) if kind == "technique" else None
        if legacy is not None:
            now = ", ".join(legacy.technique_ids) if legacy.technique_ids else "no current technique"
            message += f" {key} is a DISARM v0.1 technique id ({legacy.name}); today: {now}."
        else:
            message += self._did_you_mean(key, list(table), id)
        raise NotFoundError(message)

    def _did_you_mean(self, key: str, ids: list[str], text: str) -> str:
        close = difflib.get_close_matches(key, ids, n=3, cutoff=0.6)
        padded = _padded(key)
        if padded is not None and padded in ids:
            close = [padded, *(c for c in close if c != padded)][:3]
        if not close and re.search(r"[a-z]{3}", text.lower()):  # a name rather than an id
            close = [item.id for item in self.search(text, limit=3)]
        return f" Did you mean {', '.join(close)}?" if close else ""

    # -- search ---------------------------------------------------------------------------------------

    def search(self, text: str, limit: int = 20) -> list[Technique | Countermeasure | Tactic]:
        """Techniques, tactics and countermeasures matching ``text``, best first.

        Case-insensitive over id, name and description. Ranking: exact id, then id prefix (``T0049``
        finds its sub-techniques), exact name, name containing the phrase, name containing every word,
        description containing the phrase, description and name together containing every word. Ties go
        to techniques, then tactics, then countermeasures, then by id.
        """
        phrase = " ".join(text.lower().split())
        words = _words(phrase)
        if not words:
            return []
        scored: list[tuple[float, int, str, Technique | Countermeasure | Tactic]] = []
        for entry in self._search_index():
            score = self._score(entry, phrase, words)
            if score > 0:
                item = entry.item
                scored.append((-score, _SEARCH_ORDER[item.kind], item.id, item))
        scored.sort(key=lambda found: found[:3])
        return [found[3] for found in scored[: max(limit, 0)]]

    def _search_index(self) -> list[_Searchable]:
        if self._index is None:
            items: list[Technique | Countermeasure | Tactic] = [
                *self._techniques.values(),
                *self._tactics.values(),
                *self._countermeasures.values(),
            ]
            self._index = [_Searchable.of(item) for item in items]
        return self._index

    @staticmethod
    def _score(entry: _Searchable, phrase: str, words: Sequence[str]) -> float:
        item_id, name, description = entry.id, entry.name, entry.description
        name_words, all_words = entry.name_words, entry.all_words
        if phrase == item_id:
            return 1000
        if len(phrase) >= 2 and item_id.startswith(phrase) and " " not in phrase:
            return 900 - (len(item_id) - len(phrase))
        if phrase == name:
            return 800
        if phrase in name:
            return 600 + (50 if re.search(r"\b" + re.escape(phrase), name) else 0) - len(name) / 100
        if all(w in name_words for w in words):
            return 400 - len(name) / 100
        if phrase in description:
            return 200 + sum(w in name_words for w in words)
        if all(w in all_words for w in words):
            return 100 + sum(w in name_words for w in words)
        return 0

    # -- suggestions ----------------------------------------------------------------------------------

    def countermeasures_for(self, technique_ids: Sequence[str]) -> list[SuggestedCountermeasure]:
        """Countermeasures linked to any of ``technique_ids``, best first.

        A countermeasure linked to the parent of an asked-for sub-technique counts too (``via_parent``).
        Ranking: how many of the asked-for techniques it counters, then direct links before parent-only
        ones, then links on current ids before links through v0.1 ids, then the metatechnique and id.
        Unknown technique ids raise ``NotFoundError``. Show ``DISARM_BLUE_WARNING`` with the result.
        """
        asked = [self.technique(tid) for tid in dict.fromkeys(technique_ids)]
        # countermeasure -> asked technique -> [only through the parent, only through v0.1 ids]
        matched: dict[str, dict[str, list[bool]]] = {}
        legacy: dict[str, set[str]] = {}
        for technique in asked:
            targets = [(technique.id, False)]
            if technique.parent_id is not None:
                targets.append((technique.parent_id, True))
            for target, via_parent in targets:
                for counter_id, link in self._counters_of.get(target, ()):
                    flags = matched.setdefault(counter_id, {}).setdefault(technique.id, [True, True])
                    flags[0] = flags[0] and via_parent
                    flags[1] = flags[1] and link.basis == "v0.1"
                    if link.basis == "v0.1":
                        legacy.setdefault(counter_id, set()).add(link.written_id)
        suggestions = [
            SuggestedCountermeasure(
                countermeasure=self._countermeasures[counter_id],
                technique_ids=tuple(t.id for t in asked if t.id in seen),
                via_v0_1=any(flags[1] for flags in seen.values()),
                v0_1_ids=tuple(sorted(legacy.get(counter_id, ()))),
                via_parent=all(flags[0] for flags in seen.values()),
            )
            for counter_id, seen in matched.items()
        ]
        suggestions.sort(
            key=lambda s: (
                -len(s.technique_ids),
                s.via_parent,
                s.via_v0_1,
                s.countermeasure.metatechnique_ids[:1] or ("M999",),
                s.countermeasure.id,
            )
        )
        return suggestions

    # -- one object with its context -----------------------------------------------------------------

    def describe(self, id: str) -> DisarmDetail:
        """An object by id, with its related objects and, for a technique, suggested countermeasures."""
        item = self.lookup(id)
        related: tuple[DisarmObject, ...] = ()
        suggestions: tuple[SuggestedCountermeasure, ...] = ()
        if isinstance(item, Phase):
            related = tuple(t for t in self.tactics() if t.phase_id == item.id)
        elif isinstance(item, Tactic):
            related = tuple(t for t in self._techniques.values() if t.tactic_id == item.id and t.parent_id is None)
        elif isinstance(item, Technique):
            related = tuple(self.subtechniques(item.id))
            suggestions = tuple(self.countermeasures_for([item.id]))
        elif isinstance(item, Countermeasure | Detection):
            ids = dict.fromkeys(tid for link in item.links for tid in link.technique_ids)
            related = tuple(self._techniques[tid] for tid in ids)
        warning = self.blue_warning if suggestions or isinstance(item, Countermeasure) else None
        return DisarmDetail(item=item, related=related, suggestions=suggestions, warning=warning)


@cache
def load_disarm() -> Disarm:
    """The DISARM frameworks RRM ships (loaded once)."""
    return Disarm(load_json("disarm.json"))
