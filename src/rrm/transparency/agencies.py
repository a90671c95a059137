"""Does an ad's payer look like an agency billing for its clients?

On Snap most "payer is not the sponsor" cases are media agencies paying the platform for the campaigns
they run. Such a flag is kept (an agency can hide who really pays) but explained and ranked lower.
A payer looks like an agency when its name has one of the words below, or when it pays for at least
``MANY_SPONSORS`` different sponsors in the store.
"""

from __future__ import annotations

import re

__all__ = ["AGENCY_WORDS", "MANY_SPONSORS", "agency_reason"]

AGENCY_WORDS = (
    "media", "mediavest", "mindshare", "dentsu", "publicis", "havas", "ogilvy", "omnicom", "groupm", "wpp", "360i",
    "advertising", "agency", "ads", "digital", "interactive", "marketing", "communications", "consulting",
    "consultants", "creative", "campaigns", "strategies", "strategy", "group", "partners", "network", "studio",
    "studios", "reklame", "reklam", "werbeagentur", "mainostoimisto",
)
_PATTERN = re.compile(r"\b(" + "|".join(AGENCY_WORDS) + r")\b", re.IGNORECASE)
MANY_SPONSORS = 3


def agency_reason(payer: str, sponsors_paid_for: int) -> str | None:
    """Why the payer looks like an agency, or None."""
    reasons = []
    found = _PATTERN.search(payer or "")
    if found:
        reasons.append(f"its name has the agency word {found.group(1).lower()!r}")
    if sponsors_paid_for >= MANY_SPONSORS:
        reasons.append(f"it pays for {sponsors_paid_for} different sponsors")
    return "payer looks like an agency: " + " and ".join(reasons) if reasons else None
