"""URL canonicalisation and registrable domains: offline, and safe on garbage."""

from __future__ import annotations

import random
import re
import string

import pytest

from rrm.corpus.normalise import _NO_URL
from rrm.corpus.urls import CanonicalUrl, canonicalise, registrable_domain


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTPS://WWW.BBC.CO.UK/News", "https://www.bbc.co.uk/News"),  # scheme and host lower-cased, path kept
        ("https://example.com:443/a", "https://example.com/a"),  # default ports dropped
        ("http://example.com:80", "http://example.com/"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),  # other ports kept
        ("https://example.com/a#section-2", "https://example.com/a"),  # fragments dropped
        ("https://example.com/a?utm_source=tw&utm_Medium=x&id=7", "https://example.com/a?id=7"),
        ("https://example.com/?fbclid=IwAR0&gclid=abc&q=1", "https://example.com/?q=1"),
        ("https://example.com/?UTM_CAMPAIGN=x", "https://example.com/"),
        ("https://example.com/?b=2&a=1&a=3", "https://example.com/?b=2&a=1&a=3"),  # order and repeats kept
        ("https://example.com/search?q=a+b&flag", "https://example.com/search?q=a+b&flag"),
        ("https://example.com/%7euser/a%2fb", "https://example.com/~user/a%2Fb"),  # RFC 3986 6.2.2
        ("https://example.com/a b", "https://example.com/a%20b"),
        ("https://user:secret@example.com/", "https://example.com/"),  # credentials never stored
        ("https://example.com./x", "https://example.com/x"),
        ("www.example.com/path", "http://www.example.com/path"),
        ("//cdn.example.com/x.js", "http://cdn.example.com/x.js"),
        ("  https://example.com/x  ", "https://example.com/x"),
    ],
)
def test_canonical_form(url: str, canonical: str) -> None:
    assert canonicalise(url).canonical == canonical


def test_the_same_link_written_two_ways_is_one_url() -> None:
    a = canonicalise("HTTPS://Example.COM:443/story?utm_source=twitter#comments")
    b = canonicalise("https://example.com/story?fbclid=IwAR1234")
    assert a == b
    assert a.domain == "example.com"


@pytest.mark.parametrize("url", ["https://bit.ly/3xYz", "http://t.co/AbCdEf", "https://youtu.be/dQw4w9WgXcQ", "https://t.me/s/x"])
def test_shorteners_are_kept_unresolved_and_flagged(url: str) -> None:
    result = canonicalise(url)
    assert result.shortener
    assert result.canonical == url  # never resolved: that would contact the adversary's infrastructure


def test_shortener_tracking_parameters_are_still_removed() -> None:
    result = canonicalise("https://bit.ly/AbC?utm_source=tw")
    assert (result.canonical, result.shortener) == ("https://bit.ly/AbC", True)


def test_a_lookalike_of_a_shortener_is_not_one() -> None:
    assert not canonicalise("https://bit.ly.example.com/x").shortener
    assert not canonicalise("https://notbit.ly/x").shortener


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("news.bbc.co.uk", "bbc.co.uk"),
        ("bbc.co.uk", "bbc.co.uk"),
        ("www.gov.uk", "www.gov.uk"),  # gov.uk is itself a public suffix
        ("someone.github.io", "someone.github.io"),  # private suffix: each user is a registrant
        ("a.b.someone.github.io", "someone.github.io"),
        ("WWW.Example.COM", "example.com"),
        ("example.com.", "example.com"),
        ("co.uk", None),  # a public suffix has no registrable domain
        ("github.io", None),
        ("localhost", None),
        ("", None),
        ("...", None),
        ("münchen.de", "xn--mnchen-3ya.de"),  # IDN: always the ASCII form, whichever way it was written
        ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
        ("192.0.2.1", "192.0.2.1"),  # an address is its own domain
        ("2001:db8::1", "2001:db8::1"),
        ("[2001:DB8::1]", "2001:db8::1"),
        ("127.000.0.1", None),  # not an address, and no DNS name either
        ("exa mple.com", None),
        ("a" * 64 + ".com", None),  # a DNS label has at most 63 characters
    ],
)
def test_registrable_domain(host: str, domain: str | None) -> None:
    assert registrable_domain(host) == domain


def test_international_names() -> None:
    result = canonicalise("http://MÜNCHEN.de/straße")
    assert result.canonical == "http://xn--mnchen-3ya.de/stra%C3%9Fe"
    assert result.domain == "xn--mnchen-3ya.de"
    assert canonicalise("http://xn--mnchen-3ya.de/stra%c3%9fe").canonical == result.canonical
    # IDNA 2008 keeps ß: fußball.de and fussball.de are different registrations
    assert canonicalise("https://fußball.de/").domain == "xn--fuball-cta.de"
    assert canonicalise("https://fussball.de/").domain == "fussball.de"


def test_ipv6_hosts() -> None:
    result = canonicalise("http://[2001:DB8:0::1]:8080/x")
    assert result.canonical == "http://[2001:db8::1]:8080/x"
    assert result.domain == "2001:db8::1"
    assert canonicalise("https://[::1]:443/").canonical == "https://[::1]/"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not a url",
        "mailto:someone@example.com",
        "javascript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "http://[::1",  # unclosed IPv6 literal
        "http://example.com:99999/",  # port out of range
        "http://",
        "http:///path-only",
        "\x00\x1b[31m",
        "https://" + "a" * 100_000,
        "localhost:8000/x",
    ],
)
def test_garbage_never_raises_and_gets_no_domain(text: str) -> None:
    result = canonicalise(text)
    assert result.domain is None
    assert not result.shortener
    assert isinstance(result.canonical, str)


def test_hostless_urls_are_not_turned_into_web_addresses() -> None:
    assert canonicalise("mailto:someone@example.com").canonical == "mailto:someone@example.com"


def test_canonicalisation_is_idempotent() -> None:
    for url in ("HTTPS://Example.com:443/a%7e/b c?utm_x=1&q=%c3%a9#f", "http://münchen.de/ß?x=1&y", "https://bit.ly/x"):
        once = canonicalise(url).canonical
        assert canonicalise(once).canonical == once


def test_a_value_the_normaliser_takes_for_no_url_is_its_own_canonical_form() -> None:
    """``rrm.corpus.normalise`` skips ``canonicalise`` for values matching ``_NO_URL`` (URL ids); it must agree."""
    rng = random.Random(7)
    values = ["", "23678", "localhost", "a-b_c", "-", *(
        "".join(rng.choice(string.printable) for _ in range(rng.randint(1, 12))) for _ in range(5000)
    )]
    for value in values:
        if re.fullmatch(_NO_URL.strip("^$"), value):
            assert canonicalise(value) == CanonicalUrl(value, None, False)
