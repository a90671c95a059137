"""Countries: ISO 3166 codes from names and codes (with ``pycountry``), EU membership, US states."""

from __future__ import annotations

import re
from functools import lru_cache

import pycountry

__all__ = ["EU_MEMBERS", "US_STATES", "country_code", "country_in_text", "is_eu"]

EU_MEMBERS = frozenset(
    ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"]
)
US_STATES = frozenset(
    ["AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "PR", "VI", "GU", "AS", "MP", "UM", "AA", "AE", "AP"]
)
_ALIASES = {"UK": "GB", "GREAT BRITAIN": "GB", "ENGLAND": "GB", "SCOTLAND": "GB", "WALES": "GB", "EU": "EU",
            "USA": "US", "SOUTH KOREA": "KR", "RUSSIA": "RU", "IRAN": "IR", "SYRIA": "SY", "TURKEY": "TR"}


@lru_cache(maxsize=4096)
def country_code(text: str | None) -> str | None:
    """The alpha-2 code for a country name or code (``"united kingdom"``, ``"GBR"``, ``"CA"``), else ``None``."""
    if not text or not text.strip():
        return None
    key = text.strip().upper()
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        found = pycountry.countries.lookup(text.strip())
    except LookupError:
        return None
    return str(found.alpha_2)


@lru_cache(maxsize=1)
def _name_pattern() -> re.Pattern[str]:
    names: dict[str, str] = {alias: code for alias, code in _ALIASES.items() if code != "EU"}
    for country in pycountry.countries:
        for attribute in ("name", "common_name"):
            value = getattr(country, attribute, None)
            if value and len(value) > 3:
                names[value.upper()] = country.alpha_2
    _NAMES.update(names)
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"\b({alternatives})\b")


_NAMES: dict[str, str] = {}


def country_in_text(text: str | None) -> str | None:
    """The country named in a free-text address such as ``"PARIS, FRANCE"`` or ``"TAORMINA 98039 ITALY"``."""
    if not text:
        return None
    match = _name_pattern().search(text.upper())
    return _NAMES[match.group(1)] if match else None


def is_eu(code: str | None) -> bool:
    return code == "EU" or code in EU_MEMBERS
