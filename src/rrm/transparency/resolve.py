"""Entity resolution across donors, payers, sponsors, advertisers and recipients, with Splink (DuckDB).

Each mention (``mentions``) is a distinct name in one place; Splink scores the pairs that the blocking
rules let through (``splink_model``). Pairs at or above ``accept`` become ``accepted`` links, pairs
between ``review`` and ``accept`` go to the review queue. Deterministic links come first: a Google
advertiser whose ``Public_IDs_List`` holds ``FEC ID C…`` is the FEC committee of that id.

Every link has a short stable id (from the two mentions it joins). An analyst's decision on a link
(``decide``) is kept in ``link_decisions`` with who and when, and wins over every later run: a rejected
pair is never accepted again, an accepted pair stays accepted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from rrm.errors import InputError, NotFoundError
from rrm.transparency.mentions import Mention, mention_table, mentions
from rrm.transparency.names import name_key
from rrm.transparency.splink_model import dedupe_pairs, evidence
from rrm.transparency.store import MoneyStore

__all__ = ["ACCEPT", "REVIEW", "Link", "ResolveSummary", "decide", "link_id", "links", "resolve", "review_queue"]

ACCEPT = 0.9
REVIEW = 0.5
_COLUMNS = ("link_id", "entity_l", "entity_r", "name_l", "name_r", "probability", "match_weight", "method", "status",
            "evidence", "decided_at", "decided_by", "detail_l", "detail_r", "records", "flag_rules")
_EVIDENCE_ROLES = ("payer", "paid for by", "advertiser", "donor", "incident entity")


@dataclass(frozen=True)
class Link:
    """A link between two names, with its evidence; ``decided_by`` is set when a person decided it."""

    link_id: str
    entity_l: str
    entity_r: str
    name_l: str
    name_r: str
    probability: float
    method: str
    status: str
    evidence: str
    detail_l: str = ""
    detail_r: str = ""
    records: int = 0
    flag_rules: str = ""
    """The flag rules whose flags name one of the two (the queue shows these first)."""
    decided_by: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True)
class ResolveSummary:
    mentions: int
    accepted: int
    review: int
    deterministic: int
    decided: int = 0
    """Links whose status comes from a person's decision, not from this run."""


def link_id(entity_l: str, entity_r: str) -> str:
    """The stable id of the link between two mentions (the same in every run)."""
    return hashlib.sha1(f"{entity_l}|{entity_r}".encode()).hexdigest()[:10]


def _detail(mention: Mention | None) -> str:
    if mention is None:
        return ""
    where = " ".join(x for x in (mention.country or "country unknown", mention.postcode or "") if x)
    plural = "s" if mention.records != 1 else ""
    return f"{mention.kind}, {where}, {'/'.join(sorted(mention.roles))}, {mention.records} record{plural}"


def _decisions(db: Any) -> dict[str, tuple[str, str, datetime]]:
    rows = db.execute(
        """SELECT link_id, decision, decided_by, decided_at FROM link_decisions
           QUALIFY row_number() OVER (PARTITION BY link_id ORDER BY decided_at DESC) = 1"""
    ).fetchall()
    return {str(r[0]): (str(r[1]), str(r[2]), r[3]) for r in rows}


def resolve(store: MoneyStore, *, accept: float = ACCEPT, review: float = REVIEW, prioritise: bool = True) -> ResolveSummary:
    """Recompute the links: deterministic ones, then Splink's; people's decisions win.

    With ``prioritise``, the flag rules run afterwards and each link records the rules whose flags name
    one of its two names, so that the review queue shows those first.
    """
    if not 0 <= review <= accept <= 1:
        raise InputError(f"need 0 ≤ review ≤ accept ≤ 1, got review {review} and accept {accept}", field="--review")
    with store.connect(read_only=True) as db:
        found = mentions(db)
        deterministic = db.execute(
            """SELECT DISTINCT a.advertiser, c.name, trim(id) FROM ads a, unnest(a.public_ids) AS t(id)
               JOIN committees c ON c.cmte_id = trim(replace(id, 'FEC ID', ''))
               WHERE id LIKE 'FEC ID C%'"""
        ).fetchall()
        decided = _decisions(db)
    pairs = dedupe_pairs(mention_table(found), review)
    rows: list[dict[str, Any]] = []
    for advertiser, committee, public_id in deterministic:
        left, right = f"google:{advertiser}", f"fec:{committee}"
        rows.append(_row(left, right, advertiser, committee, 1.0, None, "key", "accepted",
                         f"Google Public_IDs_List {public_id} is the FEC committee's id", "Google advertiser",
                         "FEC committee", 0))
    for pair in pairs:
        left, right = str(pair["unique_id_l"]), str(pair["unique_id_r"])
        probability = float(pair["match_probability"])
        status = "accepted" if probability >= accept else "review"
        records = int(pair["records_l"] or 0) + int(pair["records_r"] or 0)
        rows.append(_row(left, right, str(pair["name_l"]), str(pair["name_r"]), probability,
                         float(pair["match_weight"]), "splink", status, evidence(pair), _detail(found.get(left)),
                         _detail(found.get(right)), records))
    kept = 0
    for row in rows:
        decision = decided.get(str(row["link_id"]))
        if decision is not None:
            row["status"], row["decided_by"], row["decided_at"] = decision
            kept += 1
    with store.connect() as db:
        db.execute("BEGIN TRANSACTION")
        proposed = {str(r["link_id"]) for r in rows}
        stale = [i for i in decided if i not in proposed]
        db.execute("DELETE FROM links WHERE link_id IS NULL OR NOT list_contains(?::VARCHAR[], link_id)", [stale]).fetchall()
        if rows:
            db.register("new_links", pa.Table.from_pylist(rows))
            columns = ", ".join(_COLUMNS)
            db.execute(f"INSERT INTO links ({columns}) SELECT {columns} FROM new_links").fetchall()
            db.unregister("new_links")
        db.execute("COMMIT")
    if prioritise:
        _mark_flagged(store)
    statuses = [str(r["status"]) for r in rows]
    return ResolveSummary(len(found), statuses.count("accepted"), statuses.count("review"), len(deterministic), kept)


def _row(left: str, right: str, name_l: str, name_r: str, probability: float, weight: float | None, method: str,
         status: str, text: str, detail_l: str, detail_r: str, records: int) -> dict[str, Any]:
    return {
        "link_id": link_id(left, right), "entity_l": left, "entity_r": right, "name_l": name_l, "name_r": name_r,
        "probability": probability, "match_weight": weight, "method": method, "status": status, "evidence": text,
        "decided_at": None, "decided_by": None, "detail_l": detail_l, "detail_r": detail_r, "records": records,
        "flag_rules": None,
    }


def _mark_flagged(store: MoneyStore) -> None:
    from rrm.transparency.flags.run import run_flags

    touched: dict[str, set[str]] = {}
    for flag in run_flags(store):
        names = [flag.subject] + [value for key, value in flag.evidence if key in _EVIDENCE_ROLES]
        for name in names:
            key = name_key(name)
            if key:
                touched.setdefault(key, set()).add(flag.rule)
    with store.connect() as db:
        cursor = db.execute("SELECT link_id, name_l, name_r FROM links WHERE status = 'review'")
        marks = []
        for lid, left, right in cursor.fetchall():
            rules = touched.get(name_key(left), set()) | touched.get(name_key(right), set())
            if rules:
                marks.append({"link_id": lid, "rules": ", ".join(sorted(rules))})
        db.execute("UPDATE links SET flag_rules = NULL").fetchall()
        if marks:
            db.register("marks", pa.Table.from_pylist(marks))
            db.execute("UPDATE links SET flag_rules = t.rules FROM marks AS t WHERE links.link_id = t.link_id").fetchall()
            db.unregister("marks")


_SELECT = ("SELECT link_id, entity_l, entity_r, name_l, name_r, probability, method, status, evidence, "
           "coalesce(detail_l, ''), coalesce(detail_r, ''), coalesce(records, 0), coalesce(flag_rules, ''), "
           "decided_by, decided_at FROM links")


def links(store: MoneyStore, status: str | None = None, limit: int | None = None) -> list[Link]:
    """Links, the review queue's order: those touching flagged money first, then the most records, then likeliest."""
    query, params = _SELECT, []
    if status:
        if status not in {"accepted", "review", "rejected"}:
            raise InputError(f"status is one of accepted, review, rejected; got {status!r}", field="status")
        query += " WHERE status = ?"
        params.append(status)
    query += " ORDER BY flag_rules IS NULL, records DESC NULLS LAST, probability DESC, name_l, link_id"
    if limit:
        query += f" LIMIT {int(limit)}"
    with store.connect(read_only=True) as db:
        return [Link(*row) for row in db.execute(query, params).fetchall()]


def review_queue(store: MoneyStore, limit: int | None = None) -> list[Link]:
    """The links waiting for a person, the most useful first."""
    return links(store, "review", limit)


def decide(store: MoneyStore, link: str, accept: bool, *, user: str, note: str = "") -> Link:
    """A person accepts or rejects a link (by its id); kept with who and when, and respected by later runs."""
    who = user.strip()
    if not who:
        raise InputError("say who decides: --user NAME or RRM_USER", field="user")
    with store.connect() as db:
        found = db.execute("SELECT entity_l, entity_r, name_l, name_r FROM links WHERE link_id = ?", [link]).fetchall()
        if not found:
            raise NotFoundError(f"no link {link!r} (see 'rrm money links')")
        entity_l, entity_r, name_l, name_r = found[0]
        status, when = ("accepted" if accept else "rejected"), datetime.now(UTC)
        db.execute("BEGIN TRANSACTION")
        db.execute("INSERT INTO link_decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [link, entity_l, entity_r, name_l, name_r, status, who, when, note or None]).fetchall()
        db.execute("UPDATE links SET status = ?, decided_by = ?, decided_at = ? WHERE link_id = ?",
                   [status, who, when, link]).fetchall()
        db.execute("COMMIT")
        row = db.execute(_SELECT + " WHERE link_id = ?", [link]).fetchall()[0]
    return Link(*row)


def accepted_pairs(rows: Iterable[tuple[str, str]]) -> set[frozenset[str]]:
    """Name-key pairs of accepted links (what the flag rules treat as one entity)."""
    return {frozenset((name_key(a), name_key(b))) for a, b in rows}
