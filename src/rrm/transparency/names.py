"""Name keys for comparing payers, sponsors, advertisers and donors across sources."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["name_key"]

_LEGAL = re.compile(
    r"\b(the|ltd|limited|inc|incorporated|llc|llp|plc|co|corp|corporation|company|gmbh|ag|sa|sas|bv|nv|srl|"
    r"mr|mrs|ms|dr|sir|mp)\b"
)


def name_key(name: str | None) -> str:
    """Case, accents, punctuation, legal forms and titles removed; tokens sorted (``"SMITH, JOHN"`` = ``"John Smith"``)."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = re.sub(r"[^\w\s]", " ", text)
    text = _LEGAL.sub(" ", text)
    return " ".join(sorted(text.split()))
