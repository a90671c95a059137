"""Canonical URLs and registrable domains, so that the same link written two ways counts once.

Canonicalisation lower-cases the scheme and host, writes international hosts in their ASCII form
(IDNA 2008 with UTS #46 mapping, so ``fußball.de`` and ``fussball.de`` stay different), drops
credentials, default ports and fragments, removes tracking parameters (``utm_*``, ``fbclid``,
``gclid``...) and normalises percent-escapes (RFC 3986 section 6.2.2) without decoding reserved
characters. Link shorteners are kept as they are, and recorded, because resolving them would mean
contacting the adversary's infrastructure. Text that is no URL, and URLs without a host
(``mailto:``, ``javascript:``), come back unchanged with no domain.

Registrable domains come from the Public Suffix List shipped with ``publicsuffixlist``: no network.
A host that is not a valid DNS name (spaces, labels over 63 characters...) has no domain.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urlsplit, urlunsplit

import idna
from publicsuffixlist import PublicSuffixList

__all__ = ["SHORTENER_DOMAINS", "TRACKING_PARAMETERS", "CanonicalUrl", "canonicalise", "registrable_domain"]

TRACKING_PARAMETERS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid", "igshid",
        "mc_cid", "mc_eid", "_ga", "_gl", "ref_src", "ref_url", "s_cid", "mkt_tok", "spm", "si",
        "__twitter_impression", "oly_anon_id", "oly_enc_id", "vero_id", "wickedid", "hsctatracking",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hmb_", "at_")

SHORTENER_DOMAINS = frozenset(
    {
        "bit.ly", "bitly.com", "t.co", "tinyurl.com", "goo.gl", "ow.ly", "buff.ly", "is.gd", "v.gd",
        "dlvr.it", "ift.tt", "fb.me", "trib.al", "lnkd.in", "rebrand.ly", "cutt.ly", "shorturl.at",
        "t.ly", "tiny.cc", "bl.ink", "rb.gy", "s.id", "amzn.to", "youtu.be", "wp.me", "j.mp", "t.me",
        "po.st", "qr.ae", "snip.ly", "shor.by", "clck.ru", "vk.cc", "ok.me",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_OPAQUE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:(?![0-9]+(?:[/?#]|$))")
"""``mailto:x@y``, ``javascript:...``, ``urn:...``: a scheme with no authority (but not ``host:port``)."""
_DNS_NAME = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9_-]{1,63}(?<!-))*$")
_ESCAPE = re.compile(r"%([0-9a-fA-F]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ALLOWED = _UNRESERVED | frozenset("!$&'()*+,;=:@/?%")
_PLAIN = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*")
"""Text that needs no percent-escape normalisation at all: the common case, checked in C."""


@dataclass(frozen=True, slots=True)
class CanonicalUrl:
    canonical: str
    domain: str | None
    shortener: bool


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMETERS or lowered.startswith(_TRACKING_PREFIXES)


def _ip(host: str) -> str | None:
    """The normalised form of an IP address, or None; cheap for names, which never start like addresses."""
    if not host or not (host[0].isdigit() or ":" in host):
        return None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def _ascii_host(host: str) -> str:
    """``host`` lower-cased, international names in their ``xn--`` form where they can be encoded."""
    host = host.strip().rstrip(".").lower()
    if host.isascii():
        return host
    try:
        return str(idna.encode(host, uts46=True).decode("ascii"))
    except (idna.IDNAError, UnicodeError):
        pass
    try:
        return host.encode("idna").decode("ascii")  # IDNA 2003, for names IDNA 2008 no longer allows
    except UnicodeError:
        return host


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    """The Public Suffix List, parsed when first needed (a tenth of a second of start-up otherwise)."""
    return PublicSuffixList()


@lru_cache(maxsize=65536)
def registrable_domain(host: str) -> str | None:
    """``news.bbc.co.uk`` → ``bbc.co.uk``; an IP address is its own domain; None when there is none."""
    host = _ascii_host(host.strip("."))
    if not host:
        return None
    address = _ip(host.strip("[]"))
    if address is not None:
        return address
    if len(host) > 253 or not _DNS_NAME.match(host) or host.rsplit(".", 1)[-1].isdigit():
        return None  # not a DNS name, or a mangled IP address such as 127.000.0.1
    suffix = _psl().privatesuffix(host)
    return str(suffix) if suffix else None


def _escapes(part: str) -> str:
    """Percent-escapes normalised: unreserved characters decoded, hex upper-cased, other characters escaped."""
    if _PLAIN.fullmatch(part):
        return part

    def one(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    out = []
    for char in _ESCAPE.sub(one, part):
        if char in _ALLOWED:
            out.append(char)
        else:
            out.extend(f"%{b:02X}" for b in char.encode("utf-8", "surrogatepass"))
    return "".join(out)


def _query(query: str) -> str:
    """The query without tracking parameters; the others kept as written, in their order."""
    if not query:
        return ""
    kept = []
    for pair in query.split("&"):
        name = unquote(pair.split("=", 1)[0].replace("+", " "))
        if pair and not _is_tracking(name):
            kept.append(_escapes(pair))
    return "&".join(kept)


_SIMPLE = re.compile(
    r"(?i:(https?))://([a-z][a-z0-9.-]*)((?:/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*)?)"
    r"(?:\?([A-Za-z0-9\-._~!$&'()*+,;=:@/?]*))?(?:#.*)?"
)
"""An http(s) URL with a plain ASCII host, no port, no credentials and no escapes: most links, done in C."""


@lru_cache(maxsize=262144)
def canonicalise(url: str) -> CanonicalUrl:
    """The canonical form of ``url``; text that is no URL comes back stripped, with no domain."""
    text = url.strip()
    simple = _SIMPLE.fullmatch(text)
    if simple is not None:
        scheme, host, path, query = simple.groups()
        host = host.rstrip(".").lower()
        if host:
            query = _query(query) if query else ""
            canonical = f"{scheme.lower()}://{host}{path or '/'}" + (f"?{query}" if query else "")
            domain = registrable_domain(host)
            return CanonicalUrl(canonical, domain, domain in SHORTENER_DOMAINS or host in SHORTENER_DOMAINS)
    return _canonicalise_general(text)


def _canonicalise_general(text: str) -> CanonicalUrl:
    if not _SCHEME.match(text):
        if _OPAQUE.match(text):
            return CanonicalUrl(text, None, False)
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
    host = _ascii_host(parts.hostname or "")
    if not host:
        return CanonicalUrl(text, None, False)
    host = _ip(host) or host
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and _DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{netloc}:{port}"
    path = _escapes(parts.path) or "/"
    canonical = urlunsplit((scheme, netloc, path, _query(parts.query), ""))
    domain = registrable_domain(host)
    return CanonicalUrl(canonical, domain, domain in SHORTENER_DOMAINS or host in SHORTENER_DOMAINS)
