"""Entity resolution across donors, payers, sponsors, advertisers and recipients, with Splink (DuckDB).

Each distinct (name key, country) seen in any role is one mention. Splink scores pairs of mentions
blocked on the first four letters of the name key or on the same postcode, with fixed, documented
m/u probabilities (no training: the stores are small and the scores must be reproducible). Pairs at or
above ``accept`` are ``accepted`` links, pairs between ``review`` and ``accept`` go to the review
queue; every link keeps its probability and which fields agreed. Deterministic links come first:
a Google advertiser whose ``Public_IDs_List`` holds ``FEC ID C…`` is the FEC committee of that id.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from rrm._duckdb import arrow_table
from rrm.errors import NotFoundError
from rrm.transparency.names import name_key
from rrm.transparency.store import MoneyStore

__all__ = ["Link", "ResolveSummary", "decide", "links", "resolve"]

ACCEPT = 0.9
REVIEW = 0.5
_GAMMA_NAME = {3: "names equal", 2: "names very similar (Jaro-Winkler ≥ 0.95)", 1: "names similar (Jaro-Winkler ≥ 0.88)",
               0: "names differ", -1: "name missing"}
_GAMMA_COUNTRY = {1: "same country", 0: "countries differ", -1: "country unknown on one side"}
_GAMMA_POSTCODE = {1: "same postcode", 0: "postcodes differ", -1: "postcode unknown on one side"}


@dataclass(frozen=True)
class Link:
    entity_l: str
    entity_r: str
    name_l: str
    name_r: str
    probability: float
    method: str
    status: str
    evidence: str


@dataclass(frozen=True)
class ResolveSummary:
    mentions: int
    accepted: int
    review: int
    deterministic: int


_MENTIONS = """
SELECT name, country, postcode FROM (
    SELECT donor_name AS name, donor_country AS country, donor_postcode AS postcode FROM donations
    UNION ALL SELECT recipient_name, jurisdiction, NULL FROM donations WHERE register <> 'FEC'
    UNION ALL SELECT name, 'US', NULL FROM committees
    UNION ALL SELECT payer, payer_country, NULL FROM ads WHERE payer IS NOT NULL
    UNION ALL SELECT sponsor, country, NULL FROM ads WHERE sponsor IS NOT NULL
    UNION ALL SELECT advertiser, country, NULL FROM ads WHERE advertiser IS NOT NULL
) WHERE name IS NOT NULL GROUP BY ALL
"""


def _mentions(db: duckdb.DuckDBPyConnection) -> pa.Table:
    rows: dict[str, dict[str, str | None]] = {}
    for name, country, postcode in db.execute(_MENTIONS).fetchall():
        key = name_key(name)
        if not key:
            continue
        uid = hashlib.sha1(f"{key}|{country}".encode()).hexdigest()[:16]
        rows.setdefault(uid, {"unique_id": uid, "name": name, "name_key": key, "country": country, "postcode": postcode,
                              "block": key.replace(" ", "")[:4]})
    return pa.Table.from_pylist(list(rows.values()), schema=pa.schema(
        [("unique_id", pa.string()), ("name", pa.string()), ("name_key", pa.string()), ("country", pa.string()),
         ("postcode", pa.string()), ("block", pa.string())]))


def _settings() -> object:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.CustomComparison(output_column_name="name_key", comparison_levels=[
                cll.NullLevel("name_key"),
                cll.ExactMatchLevel("name_key").configure(m_probability=0.6, u_probability=0.0005),
                cll.JaroWinklerLevel("name_key", 0.95).configure(m_probability=0.25, u_probability=0.002),
                cll.JaroWinklerLevel("name_key", 0.88).configure(m_probability=0.1, u_probability=0.02),
                cll.ElseLevel().configure(m_probability=0.05, u_probability=0.9775),
            ]),
            cl.CustomComparison(output_column_name="country", comparison_levels=[
                cll.NullLevel("country"),
                cll.ExactMatchLevel("country").configure(m_probability=0.95, u_probability=0.3),
                cll.ElseLevel().configure(m_probability=0.05, u_probability=0.7),
            ]),
            cl.CustomComparison(output_column_name="postcode", comparison_levels=[
                cll.NullLevel("postcode"),
                cll.ExactMatchLevel("postcode").configure(m_probability=0.7, u_probability=0.001),
                cll.ElseLevel().configure(m_probability=0.3, u_probability=0.999),
            ]),
        ],
        blocking_rules_to_generate_predictions=[block_on("block"), block_on("postcode")],
        probability_two_random_records_match=0.01,
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=["name"],
    )


def _splink_pairs(mentions: pa.Table, review: float) -> list[dict[str, object]]:
    from splink import Linker
    from splink.backends.duckdb import DuckDBAPI

    if mentions.num_rows < 2:
        return []
    logging.getLogger("splink").setLevel(logging.WARNING)
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        api = DuckDBAPI(con)
        frame = api.register(mentions, table_name="mentions")
        linker = Linker(frame, _settings(), log_level=logging.WARNING)  # type: ignore[arg-type]
        predictions = linker.inference.predict(threshold_match_probability=review)
        table = arrow_table(con, f"SELECT * FROM {predictions.physical_name}")
    finally:
        con.close()
    return list(table.to_pylist())


def resolve(store: MoneyStore, *, accept: float = ACCEPT, review: float = REVIEW) -> ResolveSummary:
    """Recompute the links: deterministic ones, then Splink's. Decisions already taken by people are kept."""
    with store.connect() as db:
        mentions = _mentions(db)
        deterministic = db.execute(
            """SELECT DISTINCT a.advertiser, c.name, trim(id) FROM ads a, unnest(a.public_ids) AS t(id)
               JOIN committees c ON c.cmte_id = trim(replace(id, 'FEC ID', ''))
               WHERE id LIKE 'FEC ID C%'"""
        ).fetchall()
        decided = {(r[0], r[1]) for r in db.execute(
            "SELECT entity_l, entity_r FROM links WHERE method = 'splink' AND decided_at IS NOT NULL").fetchall()}
        pairs = _splink_pairs(mentions, review)
        db.execute("BEGIN TRANSACTION")
        db.execute("DELETE FROM links WHERE decided_at IS NULL").fetchall()
        for advertiser, committee, public_id in deterministic:
            db.execute("INSERT INTO links VALUES (?, ?, ?, ?, 1.0, NULL, 'key', 'accepted', ?, NULL)",
                       [f"google:{advertiser}", f"fec:{committee}", advertiser, committee,
                        f"Google Public_IDs_List {public_id} is the FEC committee's id"]).fetchall()
        accepted = reviewed = 0
        for pair in pairs:
            left, right = str(pair["unique_id_l"]), str(pair["unique_id_r"])
            if (left, right) in decided:
                continue
            probability = float(pair["match_probability"])  # type: ignore[arg-type]
            status = "accepted" if probability >= accept else "review"
            accepted += status == "accepted"
            reviewed += status == "review"
            evidence = "; ".join([
                _GAMMA_NAME.get(int(pair["gamma_name_key"]), "?"),  # type: ignore[call-overload]
                _GAMMA_COUNTRY.get(int(pair["gamma_country"]), "?"),  # type: ignore[call-overload]
                _GAMMA_POSTCODE.get(int(pair["gamma_postcode"]), "?"),  # type: ignore[call-overload]
                f"match weight {float(pair['match_weight']):.2f}",  # type: ignore[arg-type]
            ])
            db.execute("INSERT INTO links VALUES (?, ?, ?, ?, ?, ?, 'splink', ?, ?, NULL)",
                       [left, right, pair["name_l"], pair["name_r"], probability, pair["match_weight"], status,
                        evidence]).fetchall()
        db.execute("COMMIT")
    return ResolveSummary(mentions.num_rows, accepted + len(deterministic), reviewed, len(deterministic))


def links(store: MoneyStore, status: str | None = None, limit: int | None = None) -> list[Link]:
    query = "SELECT entity_l, entity_r, name_l, name_r, probability, method, status, evidence FROM links"
    params: list[object] = []
    if status:
        query += " WHERE status = ?"
        params.append(status)
    query += " ORDER BY probability DESC, name_l"
    if limit:
        query += f" LIMIT {int(limit)}"
    with store.connect(read_only=True) as db:
        return [Link(*row) for row in db.execute(query, params).fetchall()]


def decide(store: MoneyStore, entity_l: str, entity_r: str, accept: bool) -> None:
    """A person's decision on a link of the review queue: ``accepted`` or ``rejected``, kept across re-runs."""
    with store.connect() as db:
        found = db.execute("SELECT count(*) FROM links WHERE entity_l = ? AND entity_r = ?", [entity_l, entity_r]).fetchall()
        if not found or not found[0][0]:
            raise NotFoundError(f"no link between {entity_l!r} and {entity_r!r}")
        db.execute("UPDATE links SET status = ?, decided_at = ? WHERE entity_l = ? AND entity_r = ?",
                   ["accepted" if accept else "rejected", datetime.now(UTC), entity_l, entity_r]).fetchall()
