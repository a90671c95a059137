"""Foreign payer or donor: the address or country is outside the election's country."""

from __future__ import annotations

from collections.abc import Iterator

from rrm.transparency.countries import is_eu
from rrm.transparency.flags.base import Flag, FlagContext, FlagRule
from rrm.transparency.flags.registry import register_rule


class ForeignMoney(FlagRule):
    name = "foreign-money"
    rule = ("a donor's or an ad payer's country (from address, postcode, state or billing address) differs from the "
            "country of the register or of the ad's audience; FEC state 'ZZ' means a foreign address")

    def run(self, context: FlagContext) -> Iterator[Flag]:
        rows = context.db.execute(
            """SELECT donation_id, donor_name, donor_country, jurisdiction, donor_address, recipient_name, amount,
                      currency, source, source_line FROM donations_v
               WHERE donor_country IS NOT NULL AND donor_country <> jurisdiction ORDER BY source, source_line"""
        ).fetchall()
        for did, donor, country, where, address, recipient, amount, currency, source, line in rows:
            yield Flag(self.name, "donation", did, donor, (
                ("donor country", "foreign, country not given (ZZ)" if country == "ZZ" else country),
                ("register country", where), ("address", address or ""), ("recipient", recipient),
                ("amount", f"{amount} {currency}"), ("rule", self.rule)), source, line)
        rows = context.db.execute(
            """SELECT ad_id, coalesce(payer, advertiser), payer_country, country, payer_address, sponsor,
                      source, source_line FROM ads
               WHERE payer_country IS NOT NULL AND country IS NOT NULL AND payer_country <> country
               ORDER BY source, source_line"""
        ).fetchall()
        for ad_id, payer, country, audience, address, sponsor, source, line in rows:
            if is_eu(country) and is_eu(audience) and "EU" in (country, audience):
                continue
            yield Flag(self.name, "ad", ad_id, payer or "", (
                ("payer country", country), ("audience country", audience), ("billing address", address or ""),
                ("paid for by", sponsor or ""), ("rule", self.rule)), source, line)


register_rule(ForeignMoney())
