"""Demo stage: political ads and donations with planted foreign funding, ingested and flagged.

Writes a small Snap-format ads file and a UK Electoral Commission-format donations file, generated
from the demo seed, into ``<workspace>/demo/money/``; plants a foreign-billed payer behind a domestic
"paid for by" name, a state donor, donations just under the £500 threshold and repeated gifts past the
reporting threshold; ingests both (once) and prints the flags raised.
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from pathlib import Path

from rrm.demo.pipeline import DemoContext, StageResult, demo_folder, register_stage
from rrm.transparency import MoneyStore, run_flags

__all__ = ["run", "write_money_files"]

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
                          f"2019/11/{20 + i:02d} 08:00:00Z", "", "Baltic Horizon Media OU", "Narva mnt 5,Tallinn,10117,EE",
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


def run(context: DemoContext) -> StageResult:
    store = MoneyStore(context.workspace)
    ads, gifts = write_money_files(demo_folder(context.workspace) / "money", context.config.seed)
    lines = []
    for result in store.ingest([ads, gifts]):
        what = "already ingested" if result.skipped else f"{result.stored} stored, {result.rejected} rejected"
        lines.append(f"{Path(result.source).name} ({result.format}): {what}")
    flags = run_flags(store, incident_entities=["Baltic Horizon Media"])
    counts = Counter(flag.rule for flag in flags)
    lines.append("Flags: " + ", ".join(f"{rule} {n}" for rule, n in sorted(counts.items())))
    for flag in flags[:8]:
        lines.append(f"  {flag.rule}: {flag.subject} — {flag.evidence_text()}")
    return StageResult("Political ads and party funding: planted foreign money flagged", tuple(lines), (ads, gifts))


register_stage("money", 60, run)
