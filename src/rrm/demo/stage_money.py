"""Demo stage: political ads and donations with planted foreign funding, ingested, resolved and flagged.

Writes a small Snap-format ads file and a UK Electoral Commission-format donations file, generated
from the demo seed, into ``<workspace>/demo/money/``; plants a foreign-billed payer behind a domestic
"paid for by" name (surging before polling day), a state donor, donations just under the £500
threshold and repeated gifts past the 2019 central-party reporting threshold (£7,500). It records the
planted payer as the suspected actor of an incident in the cases store (as the demo lead, once), links
the names (entity resolution) and prints the flags, the incident-linked money included.
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from pathlib import Path

from rrm.cases import (
    CasesDB,
    FindingKind,
    IncidentDraft,
    Role,
    add_partner,
    add_user,
    link_finding,
    list_incidents,
    list_partners,
    list_users,
    migrate,
    open_incident,
)
from rrm.demo.pipeline import DemoContext, StageResult, demo_folder, register_stage
from rrm.demo.stage_incidents import DEMO_LEAD
from rrm.transparency import MoneyStore, resolve, run_flags

__all__ = ["INCIDENT_TITLE", "PLANTED_ACTOR", "PLANTED_PAYER", "run", "write_money_files"]

PLANTED_PAYER = "Baltic Horizon OU"
PLANTED_ACTOR = "Baltic Horizon"
INCIDENT_TITLE = "Foreign-billed ads 'paid for by' Concerned Britons"

_SNAP = ["ADID", "CreativeUrl", "Currency Code", "Spend", "Impressions", "StartDate", "EndDate", "OrganizationName",
         "BillingAddress", "CandidateBallotInformation", "PayingAdvertiserName", "Gender", "AgeBracket", "CountryCode"]
_EC = ["ECRef", "RegulatedEntityName", "RegulatedEntityType", "Value", "AcceptedDate", "DonorName", "DonorStatus",
       "Postcode", "DonationType", "IsAggregation"]


def write_money_files(folder: Path, seed: int) -> tuple[Path, Path]:
    """The demo's ads and donations files (the same seed gives the same files)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ads, gifts = folder / "ads_snap.csv", folder / "donations_ec.csv"
    sponsors = ["Harbour Party", "Citizens for Clean Rivers", "Northfield Residents Association"]
    with ads.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(_SNAP)
        for i in range(40):
            sponsor = sponsors[i % len(sponsors)]
            day = 1 + i % 27
            out.writerow([f"demo-ad-{i}", "", "GBP", f"{rng.randint(50, 400)}.0", f"{rng.randint(1000, 40000)}.0",
                          f"2019/{6 + i % 5:02d}/{day:02d} 10:00:00Z", "", sponsor, "1 High St,London,SW1A 1AA,GB", "",
                          sponsor, "", "18+", "united kingdom"])
        for i in range(6):  # planted: a foreign-billed payer behind a domestic name, surging before polling day
            out.writerow([f"demo-planted-{i}", "", "GBP", f"{rng.randint(4000, 9000)}.0", "250000.0",
                          f"2019/11/{20 + i:02d} 08:00:00Z", "", PLANTED_PAYER, "Narva mnt 5,Tallinn,10117,EE",
                          "General Election", "Concerned Britons", "", "18+", "united kingdom"])
    with gifts.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(_EC)
        for i in range(30):
            out.writerow([f"D{i:04d}", "Harbour Party", "Political Party", f"£{rng.randint(600, 9000):,}.00",
                          f"{1 + i % 28:02d}/0{1 + i % 9}/2019", f"Donor {i:02d}", "Individual", "SW1A 1AA", "Cash", "False"])
        out.writerow(["D9001", "Harbour Party", "Political Party", "£15,000.00", "03/10/2019", "Embassy of Ruritania",
                      "Other", "", "Visit", "False"])
        for i, month in enumerate((2, 5, 8)):
            out.writerow([f"D910{i}", "Harbour Party", "Political Party", "£4,900.00", f"10/0{month}/2019",
                          "Tallinn Holdings Ltd", "Company", "", "Cash", "True"])
        for i in range(3):
            out.writerow([f"D920{i}", "Harbour Party", "Political Party", "£495.00", f"1{i}/11/2019", f"Cash Giver {i}",
                          "Individual", "SW1A 1AA", "Cash", "False"])
    return ads, gifts


def _incident(context: DemoContext) -> tuple[str | None, str]:
    """The demo lead and the incident naming the planted payer, opened once; (None, why) when it cannot be."""
    url = context.workspace.cases_database_url
    migrate(url)
    with CasesDB(url) as db:
        users = {u.name for u in list_users(db)}
        if DEMO_LEAD not in users:
            if users:
                return None, f"the cases database has users but no {DEMO_LEAD!r}: no incident recorded"
            if "DEMO" not in {p.code for p in list_partners(db)}:
                add_partner(db, None, "DEMO", name="Demo RRM partner", country="EU")
            add_user(db, None, DEMO_LEAD, role=Role.LEAD, partner="DEMO")
        known = [s for s in list_incidents(db, DEMO_LEAD) if s.title == INCIDENT_TITLE]
        if known:
            return DEMO_LEAD, f"incident {known[0].id} names the planted payer (already recorded)"
        incident = open_incident(db, DEMO_LEAD, IncidentDraft(
            title=INCIDENT_TITLE, target_country="GB", target_process="UK general election 2019",
            suspected_actor=PLANTED_ACTOR, summary="Ads 'paid for by' a domestic name, billed to an Estonian company."))
        link_finding(db, DEMO_LEAD, incident.id, FindingKind.DOMAIN, "baltic-horizon.ee")
        return DEMO_LEAD, f"incident {incident.id} opened, suspected actor {PLANTED_ACTOR!r}"


def run(context: DemoContext) -> StageResult:
    store = MoneyStore(context.workspace)
    ads, gifts = write_money_files(demo_folder(context.workspace) / "money", context.config.seed)
    lines = []
    for result in store.ingest([ads, gifts]):
        what = "already ingested" if result.skipped else f"{result.stored} stored, {result.rejected} rejected"
        lines.append(f"{Path(result.source).name} ({result.format}): {what}")
    user, note = _incident(context)
    lines.append(f"Cases: {note}")
    summary = resolve(store)
    lines.append(f"Entity resolution: {summary.mentions} names, {summary.accepted} links accepted, "
                 f"{summary.review} to review ('rrm money links --review')")
    flags = run_flags(store, cases_user=user)
    counts = Counter(flag.rule for flag in flags)
    lines.append("Flags: " + ", ".join(f"{rule} {n}" for rule, n in sorted(counts.items())))
    planted = [f for f in flags if f.rule != "just-under-threshold" or f.subject.startswith("Cash Giver")]
    shown: set[str] = set()
    for flag in planted:
        if flag.rule in shown:
            continue
        shown.add(flag.rule)
        lines.append(f"  {flag.rule}: {flag.subject} — {flag.evidence_text()}")
    return StageResult("Political ads and party funding: planted foreign money flagged", tuple(lines), (ads, gifts))


register_stage("money", 60, run)
