"""The names that entity resolution compares: every donor, recipient, committee, payer, sponsor, advertiser.

A *mention* is one distinct name in one place. A person (a donor that the register calls an individual)
is one mention per (name, country, postcode), because two donors called John Smith in different towns are
usually two people; an organisation is one mention per (name key, country). Each mention keeps the
fields the comparisons and the blocking rules use: name keys, surname and forename, postcode and
postcode area (US ZIP3, UK outward code, Canadian FSA), city, its roles and how many records carry it.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from rrm.transparency.names import core_key, name_key, natural_core, person_name

__all__ = [
    "MENTION_SCHEMA", "Mention", "mention_table", "mentions", "name_table", "postcode_parts", "with_blocks",
]

_ROWS = """
SELECT name, role, person, country, postcode, city, count(*) AS records FROM (
    SELECT donor_name AS name, 'donor' AS role,
           coalesce(lower(donor_type) LIKE 'individual%' OR donor_type = 'Candidate', false) AS person,
           donor_country AS country, donor_postcode AS postcode,
           CASE WHEN register = 'FEC' THEN split_part(donor_address, ',', 1) || ',' || split_part(donor_address, ',', 2) END AS city
    FROM donations
    UNION ALL SELECT recipient_name, 'recipient', false, jurisdiction, NULL, NULL FROM donations WHERE register <> 'FEC'
    UNION ALL SELECT name, 'committee', false, 'US', NULL, NULL FROM committees
        WHERE cmte_id IN (SELECT recipient_id FROM donations WHERE register = 'FEC')
           OR cmte_id IN (SELECT trim(replace(id, 'FEC ID', '')) FROM ads, unnest(public_ids) AS t(id))
    UNION ALL SELECT payer, 'payer', false, payer_country, NULL, NULL FROM ads WHERE payer IS NOT NULL
    UNION ALL SELECT sponsor, 'sponsor', false, country, NULL, NULL FROM ads WHERE sponsor IS NOT NULL
    UNION ALL SELECT advertiser, 'advertiser', false, country, NULL, NULL FROM ads WHERE advertiser IS NOT NULL
) WHERE name IS NOT NULL GROUP BY ALL ORDER BY records DESC, name, role
"""

MENTION_SCHEMA = pa.schema([
    ("unique_id", pa.string()), ("name", pa.string()), ("name_key", pa.string()), ("core", pa.string()),
    ("ordered", pa.string()),
    ("compact", pa.string()), ("core4", pa.string()), ("longest", pa.string()), ("kind", pa.string()),
    ("surname", pa.string()), ("forename", pa.string()), ("country", pa.string()), ("postcode", pa.string()),
    ("area", pa.string()), ("city", pa.string()), ("roles", pa.string()), ("records", pa.int64()),
    ("home", pa.string()),
])


def postcode_parts(postcode: str | None, country: str | None) -> tuple[str | None, str | None]:
    """A comparable postcode and its area: US ZIP5 and ZIP3, UK postcode and outward code, Canadian FSA."""
    if not postcode:
        return None, None
    text = re.sub(r"\s+", "", postcode).upper()
    if country == "US" or (country is None and text.isdigit()):
        digits = re.sub(r"\D", "", text)[:5]
        return (digits or None), (digits[:3] if len(digits) >= 3 else None)
    if country == "GB" and len(text) > 3:
        return text, text[:-3]
    if country == "CA" and len(text) >= 3:
        return text, text[:3]
    return text, None


@dataclass
class Mention:
    """One mention, as built from the store's rows (``roles`` and ``records`` add up over its rows)."""

    unique_id: str
    name: str
    name_key: str
    kind: str
    country: str | None
    postcode: str | None
    area: str | None
    city: str | None
    roles: set[str] = field(default_factory=set)
    records: int = 0

    def row(self) -> dict[str, object]:
        if self.kind == "person":
            person = person_name(self.name)
            natural, surname, forename = person.natural_key or self.name_key, person.surname, person.forename
            core = " ".join(sorted(natural.split()))
        else:
            core, natural, surname, forename = core_key(self.name), natural_core(self.name), "", ""
        tokens = core.split()
        return {
            "unique_id": self.unique_id, "name": self.name, "name_key": self.name_key, "core": core,
            "ordered": natural,
            "compact": core.replace(" ", ""), "core4": core.replace(" ", "")[:4],
            "longest": max(tokens, key=lambda t: (len(t), t)) if tokens else "", "kind": self.kind,
            "surname": surname or None, "forename": forename or None, "country": self.country,
            "postcode": self.postcode, "area": self.area, "city": self.city,
            "roles": ",".join(sorted(self.roles)), "records": self.records, "home": self.home,
        }

    @property
    def home(self) -> str | None:
        """The country the entity is in: not known for a name seen only as an ad's sponsor or advertiser,
        whose country is the audience's."""
        return None if self.roles <= {"sponsor", "advertiser"} else self.country


def mention_id(kind: str, key: str, country: str | None, postcode: str | None) -> str:
    text = f"{kind}|{key}|{country}|{postcode if kind == 'person' else ''}"
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def mentions(db: duckdb.DuckDBPyConnection) -> dict[str, Mention]:
    """Every mention of the store, by id."""
    found: dict[str, Mention] = {}
    for name, role, person, country, postcode, city, records in db.execute(_ROWS).fetchall():
        key = name_key(name)
        if not key:
            continue
        kind = "person" if person else "organisation"
        code, area = postcode_parts(postcode, country) if person else (None, None)
        uid = mention_id(kind, key, country, code)
        mention = found.get(uid)
        if mention is None:
            town = " ".join(str(city).split()).upper() if city else None
            mention = found[uid] = Mention(uid, name, key, kind, country, code, area, town)
        mention.roles.add(role)
        mention.records += int(records)
    return found


def mention_table(found: dict[str, Mention] | list[Mention]) -> pa.Table:
    values = found.values() if isinstance(found, dict) else found
    return pa.Table.from_pylist([m.row() for m in values], schema=MENTION_SCHEMA)


COMMON_TOKEN = 100
"""A word in more organisation names than this (e.g. "democratic", "congress") is not used as a block."""


def with_blocks(tables: list[pa.Table]) -> list[pa.Table]:
    """Add ``block1`` and ``block2``: the first four letters of an organisation's two rarest core words.

    Rarity is counted over all the tables' organisations; words in more than ``COMMON_TOKEN`` names make
    no block, so that "Riley for Congress" and "McCrery for Congress" are not compared for sharing
    "congress", while "Acme Holding" and "Acme Holdings" meet on "acme" and on "hold".
    """
    counts: Counter[str] = Counter()
    for table in tables:
        for core, kind in zip(table.column("core").to_pylist(), table.column("kind").to_pylist(), strict=True):
            if kind != "person":
                counts.update(set(core.split()))
    out = []
    for table in tables:
        first: list[str | None] = []
        second: list[str | None] = []
        for core, kind in zip(table.column("core").to_pylist(), table.column("kind").to_pylist(), strict=True):
            words = [] if kind == "person" else sorted(
                {w for w in core.split() if counts[w] <= COMMON_TOKEN}, key=lambda w: (counts[w], -len(w), w))
            first.append(words[0] if words else None)
            second.append(words[1] if len(words) > 1 else None)
        out.append(table.append_column("block1", pa.array(first, pa.string()))
                   .append_column("block2", pa.array(second, pa.string())))
    return out


def name_table(names: list[tuple[str, str]]) -> pa.Table:
    """Mentions for bare names (``(id, name)``), of unknown kind and country: what incidents name."""
    rows = []
    for uid, name in names:
        row = Mention(uid, name, name_key(name), "organisation", None, None, None, None).row()
        row.update(kind=None, records=0, roles="incident")
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=MENTION_SCHEMA)
