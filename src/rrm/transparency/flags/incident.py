"""A donor, payer, sponsor or advertiser is an entity named in an incident.

The rule takes a set of entity names (``FlagContext.incident_entities``); ``run_flags`` fills it from
the cases store when there is one, and the CLI from ``--incident-entities FILE``.
"""

from __future__ import annotations

from collections.abc import Iterator

from rrm.transparency.flags.base import Flag, FlagContext, FlagRule
from rrm.transparency.flags.registry import register_rule
from rrm.transparency.names import name_key


class IncidentEntity(FlagRule):
    name = "incident-entity"
    rule = ("a donor, payer, sponsor or advertiser has the name key of an entity named in an incident, directly or "
            "through an accepted entity link")

    def run(self, context: FlagContext) -> Iterator[Flag]:
        wanted = {name_key(n): n for n in context.incident_entities if name_key(n)}
        if not wanted:
            return
        for a, b in context.db.execute("SELECT name_l, name_r FROM links WHERE status = 'accepted'").fetchall():
            for x, y in ((a, b), (b, a)):
                if name_key(x) in wanted and name_key(y) not in wanted:
                    wanted[name_key(y)] = wanted[name_key(x)] + f" (linked as {y})"
        queries = (
            ("donation", "donor", "SELECT donation_id, donor_name, source, source_line FROM donations_v"),
            ("ad", "payer", "SELECT ad_id, payer, source, source_line FROM ads WHERE payer IS NOT NULL"),
            ("ad", "paid for by", "SELECT ad_id, sponsor, source, source_line FROM ads WHERE sponsor IS NOT NULL"),
            ("ad", "advertiser", "SELECT ad_id, advertiser, source, source_line FROM ads WHERE advertiser IS NOT NULL"),
        )
        for kind, role, query in queries:
            for record_id, name, source, line in context.db.execute(query).fetchall():
                entity = wanted.get(name_key(name))
                if entity is not None:
                    yield Flag(self.name, kind, record_id, name, (
                        ("role", role), ("incident entity", entity), ("rule", self.rule)), source, line)


register_rule(IncidentEntity())
