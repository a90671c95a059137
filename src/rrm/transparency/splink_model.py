"""The Splink model that scores pairs of names: comparisons, fixed m/u probabilities, blocking rules.

There is no training: the stores are small, the names are mostly unique, and scores must be
reproducible from one run to the next. The probabilities below were set by hand and checked on the
real samples (see ``docs/money.md``); each level says what it means in the evidence of a link.

Blocking (which pairs are compared at all):

- people with the same surname and the same postcode area (US ZIP3, UK outward code, Canadian FSA),
  or the same surname and city: the FEC's many individuals are never compared across the country;
- organisations that share one of their two rarest words (first four letters; words in more than 200
  names, such as "democratic" or "congress", make no block);
- anything with the same core name, the same letters without spaces, or the same name key (a person
  and an organisation are compared only then).
"""

from __future__ import annotations

import logging
from typing import Any

import pyarrow as pa

from rrm._duckdb import arrow_table, connect
from rrm.transparency.mentions import with_blocks

__all__ = ["EVIDENCE", "dedupe_pairs", "evidence", "link_pairs"]

_PRIOR = 0.001
_JACCARD = (
    "len(list_intersect(str_split(core_l, ' '), str_split(core_r, ' ')))::DOUBLE / "
    "len(list_distinct(list_concat(str_split(core_l, ' '), str_split(core_r, ' ')))) >= 0.6"
)
EVIDENCE: dict[str, dict[int, str]] = {
    "name": {6: "name keys equal", 5: "core names equal (without 'for', 'committee'...)",
             4: "names equal without spaces", 3: "names very similar (Jaro-Winkler ≥ 0.95 on the core words in order)",
             2: "most words shared (Jaccard ≥ 0.6)", 1: "names similar (Jaro-Winkler ≥ 0.88)",
             0: "names differ", -1: "name missing"},
    "forename": {2: "same forename", 1: "forename and initial agree", 0: "forenames differ", -1: ""},
    "country": {1: "same country", 0: "countries differ", -1: "country unknown on one side"},
    "postcode": {2: "same postcode", 1: "same postcode area", 0: "postcodes differ", -1: ""},
    "kind": {1: "", 0: "a person and an organisation", -1: ""},
}


def _comparisons() -> list[Any]:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    return [
        cl.CustomComparison(output_column_name="name", comparison_levels=[
            cll.NullLevel("core"),
            cll.ExactMatchLevel("name_key").configure(m_probability=0.55, u_probability=0.00005),
            cll.ExactMatchLevel("core").configure(m_probability=0.15, u_probability=0.00005),
            cll.ExactMatchLevel("compact").configure(m_probability=0.05, u_probability=0.00002),
            cll.JaroWinklerLevel("ordered", 0.95).configure(m_probability=0.12, u_probability=0.00005),
            cll.CustomLevel(_JACCARD, "Jaccard of words >= 0.6").configure(m_probability=0.06, u_probability=0.001),
            cll.JaroWinklerLevel("ordered", 0.88).configure(m_probability=0.04, u_probability=0.01),
            cll.ElseLevel().configure(m_probability=0.03, u_probability=0.98873),
        ]),
        cl.CustomComparison(output_column_name="forename", comparison_levels=[
            cll.NullLevel("forename"),
            cll.ExactMatchLevel("forename").configure(m_probability=0.8, u_probability=0.05),
            cll.CustomLevel("(length(forename_l) = 1 OR length(forename_r) = 1) AND "
                            "forename_l[1] = forename_r[1]", "initial agrees").configure(
                m_probability=0.199, u_probability=0.05),
            cll.ElseLevel().configure(m_probability=0.001, u_probability=0.9),
        ]),
        cl.CustomComparison(output_column_name="country", comparison_levels=[  # home country, not the audience's
            cll.NullLevel("home"),
            cll.ExactMatchLevel("home").configure(m_probability=0.95, u_probability=0.3),
            cll.ElseLevel().configure(m_probability=0.05, u_probability=0.7),
        ]),
        cl.CustomComparison(output_column_name="postcode", comparison_levels=[
            cll.NullLevel("postcode"),
            cll.ExactMatchLevel("postcode").configure(m_probability=0.6, u_probability=0.01),
            cll.ExactMatchLevel("area").configure(m_probability=0.25, u_probability=0.1),
            cll.ElseLevel().configure(m_probability=0.15, u_probability=0.89),
        ]),
        cl.CustomComparison(output_column_name="kind", comparison_levels=[
            cll.NullLevel("kind"),
            cll.ExactMatchLevel("kind").configure(m_probability=0.98, u_probability=0.7),
            cll.ElseLevel().configure(m_probability=0.02, u_probability=0.3),
        ]),
    ]


_BLOCKS = (
    "l.kind = 'person' AND r.kind = 'person' AND l.surname = r.surname AND l.area = r.area",
    "l.kind = 'person' AND r.kind = 'person' AND l.surname = r.surname AND l.city = r.city",
    "l.block1 = r.block1", "l.block2 = r.block2", "l.block1 = r.block2", "l.block2 = r.block1",
    *(f"{rule} AND NOT (l.kind = 'person' AND r.kind = 'person')"
      for rule in ("l.core = r.core", "l.compact = r.compact", "l.name_key = r.name_key")),
)


def _predict(tables: dict[str, pa.Table], link_type: str, blocks: tuple[str, ...], threshold: float) -> list[dict[str, Any]]:
    from splink import Linker, SettingsCreator
    from splink.backends.duckdb import DuckDBAPI
    from splink.blocking_rule_library import CustomRule

    logging.getLogger("splink").setLevel(logging.WARNING)
    settings = SettingsCreator(
        link_type=link_type,  # type: ignore[arg-type]
        comparisons=_comparisons(),
        blocking_rules_to_generate_predictions=[CustomRule(rule) for rule in blocks],
        probability_two_random_records_match=_PRIOR,
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=["name", "roles", "records", "country", "postcode", "kind"],
    )
    con = connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute("SET memory_limit = '600MB'")
        api = DuckDBAPI(con)
        blocked = with_blocks(list(tables.values()))
        frames = [api.register(table, table_name=name) for name, table in zip(tables, blocked, strict=True)]
        linker = Linker(frames if len(frames) > 1 else frames[0], settings, log_level=logging.WARNING)
        predictions = linker.inference.predict(threshold_match_probability=threshold)
        table = arrow_table(con, f"SELECT * FROM {predictions.physical_name}")
    finally:
        con.close()
    return list(table.to_pylist())


def dedupe_pairs(mentions: pa.Table, threshold: float) -> list[dict[str, Any]]:
    """Scored pairs of mentions of one store, at or above ``threshold``."""
    if mentions.num_rows < 2:
        return []
    return _predict({"mentions": mentions}, "dedupe_only", _BLOCKS, threshold)


def link_pairs(left: pa.Table, right: pa.Table, threshold: float) -> list[dict[str, Any]]:
    """Scored pairs between two tables of mentions (incident entities and the store's names)."""
    if not left.num_rows or not right.num_rows:
        return []
    return _predict({"incident_names": left, "store_names": right}, "link_only", _BLOCKS, threshold)


def evidence(pair: dict[str, Any]) -> str:
    """Which fields agreed, in words, and the match weight."""
    parts = [EVIDENCE[name].get(int(pair[f"gamma_{name}"]), "?") for name in EVIDENCE]
    return "; ".join([p for p in parts if p] + [f"match weight {float(pair['match_weight']):.2f}"])
