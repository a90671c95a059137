"""Missing or generic disclaimer ("paid for by")."""

from __future__ import annotations

from collections.abc import Iterator

from rrm.transparency.flags.base import Flag, FlagContext, FlagRule
from rrm.transparency.flags.registry import register_rule
from rrm.transparency.names import name_key

GENERIC = frozenset({
    "", "na", "n a", "none", "no", "unknown", "test", "advertiser", "sponsor", "private", "individual", "me", "admin",
    "facebook", "instagram", "google", "snapchat", "page", "ads", "ad", "citizen", "citizens", "people", "anonymous",
})


class MissingDisclaimer(FlagRule):
    name = "missing-disclaimer"
    rule = ("an ad or an advertiser's spend has no 'paid for by' disclaimer, the platform says it ran without one, "
            "or the disclaimer is generic (a placeholder such as 'N/A', 'unknown', 'facebook')")

    def run(self, context: FlagContext) -> Iterator[Flag]:
        rows = context.db.execute(
            """SELECT ad_id, advertiser, sponsor, element_at(extra, 'disclaimer_note')[1], spend_lower, spend_upper,
                      currency, platform, source, source_line
               FROM ads WHERE record_type IN ('ad', 'advertiser_total') AND advertiser IS NOT NULL
               ORDER BY source, source_line"""
        ).fetchall()
        for ad_id, advertiser, sponsor, note, low, high, currency, platform, source, line in rows:
            key = name_key(sponsor)
            if sponsor and key not in GENERIC:
                continue
            why = note or ("no disclaimer given" if not sponsor else f"generic disclaimer {sponsor!r}")
            yield Flag(self.name, "ad", ad_id, advertiser, (
                ("finding", why), ("spend", f"{low}–{'open' if high is None else high} {currency or ''}".strip()),
                ("platform", platform), ("rule", self.rule)), source, line)


register_rule(MissingDisclaimer())
