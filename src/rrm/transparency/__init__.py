"""Political advertising and party funding in one place, with foreign and impermissible money flagged.

Ad libraries (Meta API and reports, Google, Snap) and donation registers (FEC, UK Electoral Commission,
Elections Canada) are read into one schema (``schema``), stored per workspace (``store``), linked across
sources (``resolve``), and checked by registered rules (``flags``).
"""

from rrm.transparency.amounts import Range, parse_range, total
from rrm.transparency.export import export
from rrm.transparency.flags import DEFAULT_ELECTIONS, Election, Flag, all_rules, run_flags
from rrm.transparency.formats import ReadOptions, all_formats
from rrm.transparency.incidents import IncidentEntity, from_cases
from rrm.transparency.report import write_report
from rrm.transparency.resolve import Link, decide, links, resolve, review_queue
from rrm.transparency.schema import Ad, Donation
from rrm.transparency.search import search_ads, search_donations
from rrm.transparency.store import IngestResult, MoneyStore

__all__ = [
    "DEFAULT_ELECTIONS", "Ad", "Donation", "Election", "Flag", "IncidentEntity", "IngestResult", "Link", "MoneyStore",
    "Range", "ReadOptions", "all_formats", "all_rules", "decide", "export", "from_cases", "links", "parse_range",
    "resolve", "review_queue", "run_flags", "search_ads", "search_donations", "total", "write_report",
]
