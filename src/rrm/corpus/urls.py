"""Canonical URLs and registrable domains, so that the same link written two ways counts once.

Canonicalisation lower-cases the scheme and host, drops default ports and fragments, and removes
tracking parameters (``utm_*``, ``fbclid``, ``gclid``...). Link shorteners are kept as they are, and recorded,
because resolving them would mean contacting the adversary's infrastructure.

Registrable domains come from the Public Suffix List shipped with ``publicsuffixlist``: no network.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from publicsuffixlist import PublicSuffixList

__all__ = ["SHORTENER_DOMAINS", "TRACKING_PARAMETERS", "CanonicalUrl", "canonicalise", "registrable_domain"]

TRACKING_PARAMETERS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid", "igshid",
        "mc_cid", "mc_eid", "_ga", "_gl", "ref_src", "ref_url", "s_cid", "mkt_tok", "spm", "si",
        "__twitter_impression", "oly_anon_id", "oly_enc_id", "vero_id", "wickedid", "hsctatracking",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hmb_")

SHORTENER_DOMAINS = frozenset(
    {
        "bit.ly", "bitly.com", "t.co", "tinyurl.com", "goo.gl", "ow.ly", "buff.ly", "is.gd", "v.gd",
        "dlvr.it", "ift.tt", "fb.me", "trib.al", "lnkd.in", "rebrand.ly", "cutt.ly", "shorturl.at",
        "t.ly", "tiny.cc", "bl.ink", "rb.gy", "s.id", "amzn.to", "youtu.be", "wp.me", "j.mp", "t.me",
        "po.st", "qr.ae", "snip.ly", "shor.by", "clck.ru", "vk.cc", "ok.me",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PSL = PublicSuffixList()
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


@dataclass(frozen=True, slots=True)
class CanonicalUrl:
    canonical: str
    domain: str | None
    shortener: bool


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMETERS or lowered.startswith(_TRACKING_PREFIXES)


@lru_cache(maxsize=65536)
def registrable_domain(host: str) -> str | None:
    """``news.bbc.co.uk`` → ``bbc.co.uk``; an IP address is its own domain; None when there is none."""
    host = host.strip(".").lower()
    if not host:
        return None
    try:
        ipaddress.ip_address(host.strip("[]"))
        return host
    except ValueError:
        pass
    suffix = _PSL.privatesuffix(host)
    return str(suffix) if suffix else None


@lru_cache(maxsize=262144)
def canonicalise(url: str) -> CanonicalUrl:
    """The canonical form of ``url``; text that is no URL comes back stripped, with no domain."""
    text = url.strip()
    if not _SCHEME.match(text):
        if text.startswith("//") or "." in text.split("/", 1)[0]:
            text = "http://" + text.lstrip("/")
        else:
            return CanonicalUrl(text, None, False)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return CanonicalUrl(text, None, False)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    with contextlib.suppress(UnicodeError):
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and _DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{netloc}:{port}"
    path = quote(unquote(parts.path), safe="/%:@!$&'()*+,;=-._~") or "/"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)])
    canonical = urlunsplit((scheme, netloc, path, query, ""))
    domain = registrable_domain(host)
    return CanonicalUrl(canonical, domain, domain in SHORTENER_DOMAINS or host in SHORTENER_DOMAINS)
