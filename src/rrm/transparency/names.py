"""Name keys for comparing payers, sponsors, advertisers and donors across sources.

- ``name_key``: case, accents, punctuation, legal forms and titles removed, tokens sorted; two names
  with the same key are the same name (``"SMITH, JOHN"`` = ``"John Smith"``).
- ``core_key``: the name key without words that every campaign name shares (``for``, ``committee``,
  ``friends of``...), so that "Riley for Congress Committee" and "McCrery for Congress Committee" are
  compared on "riley" and "mccrery", not on their common words.
- ``natural_core``: the same words in their own order, for string similarity (sorted words put shared
  words first and make different names look alike).
- ``person_name``: surname and given names of a person, from ``SURNAME, GIVEN`` (FEC, Elections Canada)
  or ``Title Given Surname`` (UK Electoral Commission).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["GENERIC_WORDS", "PersonName", "core_key", "name_key", "natural_core", "person_name", "plain"]

_LEGAL = re.compile(
    r"\b(the|ltd|limited|inc|incorporated|llc|llp|plc|co|corp|corporation|company|gmbh|ag|sa|sas|bv|nv|srl|"
    r"mr|mrs|ms|dr|sir|mp)\b"
)
_TITLES = frozenset({
    "mr", "mrs", "ms", "miss", "mx", "dr", "sir", "dame", "lord", "lady", "baroness", "baron", "rt", "hon", "the",
    "mp", "msp", "mla", "cllr", "rev", "prof", "jr", "sr", "ii", "iii", "iv", "md", "phd", "esq", "obe",
    "mbe", "cbe", "kc", "qc",
})
GENERIC_WORDS = frozenset({
    "for", "of", "to", "and", "the", "a", "an", "committee", "cmte", "comm", "friends", "elect", "re", "campaign",
    "inc", "people", "pac",
})
"""Words that campaign and committee names share; left out of ``core_key``."""


def plain(name: str | None) -> str:
    """Lower case, no accents, punctuation turned into spaces (commas kept)."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return re.sub(r"[^\w\s,]|_", " ", text)


def name_key(name: str | None) -> str:
    """Case, accents, punctuation, legal forms and titles removed; tokens sorted (``"SMITH, JOHN"`` = ``"John Smith"``)."""
    text = _LEGAL.sub(" ", plain(name).replace(",", " "))
    return " ".join(sorted(text.split()))


def core_key(name: str | None) -> str:
    """The name key without the words campaign names share; the name key itself when nothing else is left."""
    key = name_key(name)
    core = [token for token in key.split() if token not in GENERIC_WORDS]
    return " ".join(core) or key


def natural_core(name: str | None) -> str:
    """The core words in their own order (``Uniunea Salvați România - USR`` → ``uniunea salvati romania usr``)."""
    words = _LEGAL.sub(" ", plain(name).replace(",", " ")).split()
    core = [w for w in words if w not in GENERIC_WORDS]
    return " ".join(core or words)


@dataclass(frozen=True, slots=True)
class PersonName:
    surname: str
    given: tuple[str, ...]

    @property
    def forename(self) -> str:
        return self.given[0] if self.given else ""

    @property
    def natural_key(self) -> str:
        """Surname first, then the given names in their order: ``smith john a``."""
        return " ".join((self.surname, *self.given)).strip()


def person_name(name: str | None) -> PersonName:
    """Surname and given names: ``SMITH, JOHN A`` and ``Mr John A Smith MP`` both give ``smith`` / ``john a``."""
    text = plain(name)
    if "," in text:
        last, _, rest = text.partition(",")
        surname = [t for t in last.split() if t not in _TITLES]
        given = [t for t in rest.replace(",", " ").split() if t not in _TITLES]
    else:
        tokens = [t for t in text.split() if t not in _TITLES]
        surname, given = tokens[-1:], tokens[:-1]
    return PersonName(" ".join(surname), tuple(given))
