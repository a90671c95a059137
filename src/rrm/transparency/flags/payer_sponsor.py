"""The payer differs from the sponsor ("paid for by") of an ad; agency billing is explained and ranked lower."""

from __future__ import annotations

from collections.abc import Iterator

from rrm.transparency.agencies import agency_reason
from rrm.transparency.flags.base import Flag, FlagContext, FlagRule
from rrm.transparency.flags.registry import register_rule
from rrm.transparency.names import name_key


class PayerNotSponsor(FlagRule):
    name = "payer-not-sponsor"
    rule = ("an ad's payer (billing organisation) and its 'paid for by' sponsor are different entities: their "
            "name keys differ and no accepted entity link joins them (payers that look like agencies rank lower)")

    def run(self, context: FlagContext) -> Iterator[Flag]:
        linked = {
            frozenset((name_key(a), name_key(b)))
            for a, b in context.db.execute("SELECT name_l, name_r FROM links WHERE status = 'accepted'").fetchall()
        }
        sponsors = dict(context.db.execute(
            "SELECT payer, count(DISTINCT sponsor) FROM ads WHERE payer IS NOT NULL AND sponsor IS NOT NULL GROUP BY 1"
        ).fetchall())
        rows = context.db.execute(
            """SELECT ad_id, payer, sponsor, advertiser, platform, source, source_line FROM ads
               WHERE payer IS NOT NULL AND sponsor IS NOT NULL ORDER BY source, source_line"""
        ).fetchall()
        for ad_id, payer, sponsor, advertiser, platform, source, line in rows:
            a, b = name_key(payer), name_key(sponsor)
            if a == b or frozenset((a, b)) in linked:
                continue
            agency = agency_reason(payer, int(sponsors.get(payer, 0)))
            evidence = [("payer", payer), ("paid for by", sponsor), ("advertiser", advertiser or ""),
                        ("platform", platform)]
            if agency:
                evidence.append(("agency", agency + " (ranked lower)"))
            yield Flag(self.name, "ad", ad_id, sponsor, (*evidence, ("rule", self.rule)), source, line,
                       priority=0 if agency else 1)


register_rule(PayerNotSponsor())
