"""A donor, payer, sponsor or advertiser is an entity named in an incident.

The incident entities (``FlagContext.incident_entities``: suspected actors, linked accounts, domains and
URLs of the cases store, or names from a file) are matched to the store's names by the same Splink model
as entity resolution (``link_pairs``), not by string equality; a match at or above ``MATCH`` (0.5)
counts, and so do the names an accepted link joins to a matched name. Each flag shows the incident,
the entity, the name it matched and with what probability and evidence.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from rrm.transparency.flags.base import Flag, FlagContext, FlagRule
from rrm.transparency.flags.registry import register_rule
from rrm.transparency.incidents import IncidentEntity
from rrm.transparency.mentions import mention_table, mentions, name_table
from rrm.transparency.names import name_key
from rrm.transparency.splink_model import evidence, link_pairs

__all__ = ["MATCH", "IncidentEntityRule"]

MATCH = 0.5


@dataclass(frozen=True, slots=True)
class _Match:
    entity: IncidentEntity
    matched: str
    probability: float
    evidence: str
    via: str | None = None


class IncidentEntityRule(FlagRule):
    name = "incident-entity"
    rule = (f"a donor, payer, sponsor or advertiser matches an entity of an incident (suspected actor, linked "
            f"account, domain or URL) by entity resolution with probability ≥ {MATCH}, directly or through an "
            f"accepted entity link")

    def _matches(self, context: FlagContext) -> dict[str, list[_Match]]:
        entities = {f"e{i}": entity for i, entity in enumerate(context.incident_entities)}
        found = mentions(context.db)
        pairs = link_pairs(name_table([(uid, e.name) for uid, e in entities.items()]), mention_table(found), MATCH)
        matches: dict[str, list[_Match]] = {}
        for pair in pairs:
            left, right = str(pair["unique_id_l"]), str(pair["unique_id_r"])
            entity_id, mention_id = (left, right) if left in entities else (right, left)
            mention = found.get(mention_id)
            if mention is None or entity_id not in entities:
                continue
            match = _Match(entities[entity_id], mention.name, float(pair["match_probability"]), evidence(pair))
            found_for_key = matches.setdefault(mention.name_key, [])
            same = [m for m in found_for_key if m.entity == match.entity]
            if not same:
                found_for_key.append(match)  # a name seen in two countries is two mentions: keep the best match
            elif same[0].probability < match.probability:
                found_for_key[found_for_key.index(same[0])] = match
        for a, b in context.db.execute("SELECT name_l, name_r FROM links WHERE status = 'accepted'").fetchall():
            for x, y in ((a, b), (b, a)):
                if name_key(x) in matches and name_key(y) not in matches:
                    matches[name_key(y)] = [
                        _Match(m.entity, m.matched, m.probability, m.evidence, via=y) for m in matches[name_key(x)]]
        return matches

    def run(self, context: FlagContext) -> Iterator[Flag]:
        if not context.incident_entities:
            return
        matches = self._matches(context)
        if not matches:
            return
        queries = (
            ("donation", "donor", "SELECT donation_id, donor_name, source, source_line FROM donations_v"),
            ("ad", "payer", "SELECT ad_id, payer, source, source_line FROM ads WHERE payer IS NOT NULL"),
            ("ad", "paid for by", "SELECT ad_id, sponsor, source, source_line FROM ads WHERE sponsor IS NOT NULL"),
            ("ad", "advertiser", "SELECT ad_id, advertiser, source, source_line FROM ads WHERE advertiser IS NOT NULL"),
        )
        for kind, role, query in queries:
            for record_id, name, source, line in context.db.execute(query + " ORDER BY source, source_line").fetchall():
                for match in matches.get(name_key(name), ()):
                    entity = match.entity
                    evidence_pairs = [
                        ("role", role), ("incident", entity.label),
                        ("incident entity", f"{entity.name} ({entity.kind})"),
                        ("matched name", match.matched if match.via is None else f"{match.matched}, linked to {name}"),
                        ("match probability", f"{match.probability:.2f} ({match.evidence})"),
                    ]
                    yield Flag(self.name, kind, record_id, name, (*evidence_pairs, ("rule", self.rule)), source, line)


register_rule(IncidentEntityRule())
