"""EU ads missing transparency-notice fields of Regulation (EU) 2024/900, Article 12(1)."""

from __future__ import annotations

from collections.abc import Iterator

from rrm.transparency.countries import is_eu
from rrm.transparency.flags.base import Flag, FlagContext, FlagRule
from rrm.transparency.flags.registry import register_rule

NOTICE_FIELDS = (
    ("12(1)(b) identity of the sponsor", "sponsor", ()),
    ("12(1)(b) sponsor's contact (postal or e-mail address)", "payer_address", ("sponsor_contact",)),
    ("12(1)(c) period of dissemination", "start", ()),
    ("12(1)(d) amounts spent", "spend_lower", ()),
    ("12(1)(e) sources of the amounts (public/private, inside/outside the Union)", None, ("funding_source",)),
    ("12(1)(f) election, referendum or legislative process linked", "election", ("election",)),
    ("12(1)(h) whether targeting or ad-delivery techniques were used", "targeting", ("targeting_used",)),
    ("12(1)(i) link to the European repository of online political ads", None, ("repository_link",)),
)


class EuNoticeMissing(FlagRule):
    name = "eu-notice-missing"
    rule = ("an ad shown in the EU lacks fields of the transparency notice required by Article 12(1) of Regulation "
            "(EU) 2024/900 (checked on what the ad library publishes)")

    def run(self, context: FlagContext) -> Iterator[Flag]:
        cursor = context.db.execute(
            """SELECT ad_id, advertiser, country, sponsor, payer_address, start, spend_lower, election, targeting,
                      map_keys(extra), source, source_line FROM ads WHERE record_type = 'ad' ORDER BY source, source_line"""
        )
        names = [d[0] for d in cursor.description]
        for row in cursor.fetchall():
            values = dict(zip(names, row, strict=True))
            if not is_eu(values["country"]):
                continue
            keys = set(values["map_keys(extra)"] or [])
            missing = [label for label, column, extra in NOTICE_FIELDS
                       if (column is None or values[column] in (None, "")) and not keys.intersection(extra)]
            if missing:
                yield Flag(self.name, "ad", values["ad_id"], values["advertiser"] or "", (
                    ("missing", "; ".join(missing)), ("country", values["country"]), ("rule", self.rule)),
                    values["source"], values["source_line"])


register_rule(EuNoticeMissing())
