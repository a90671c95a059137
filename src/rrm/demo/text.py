"""Text, links and hashtags for generated posts, drawn in bulk from a random generator."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from rrm.demo import vocabulary as v

__all__ = ["article_url", "chatter", "link_variants", "short_code", "tracked_variants", "zipf"]

_BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_PUNCT = (".", "!", "", "?", "...", ".", "")


def zipf(n: int, exponent: float = 1.1) -> npt.NDArray[np.float64]:
    """Probabilities of ``n`` items by Zipf's law (the first is the most popular)."""
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    result: npt.NDArray[np.float64] = weights / weights.sum()
    return result


def short_code(key: int, length: int = 7) -> str:
    """A code such as link shorteners and image hosts use for ``key``: the same key always gives the same code."""
    value = int.from_bytes(hashlib.blake2b(str(key).encode(), digest_size=16).digest(), "big")
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 62)
        chars.append(_BASE62[digit])
    return "".join(chars)


def chatter(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` ordinary, varied posts: a remark about a topic, or a few loose words, sometimes an emoji."""
    shaped = (rng.random(n) < 0.6).tolist()
    opener = rng.integers(0, len(v.OPENERS), n).tolist()
    subject = rng.integers(0, len(v.SUBJECTS), n).tolist()
    comment = rng.integers(0, len(v.COMMENTS), n).tolist()
    count = rng.integers(2, 9, n).tolist()
    words = rng.integers(0, len(v.WORDS), (n, 8)).tolist()
    emoji = rng.integers(0, len(v.EMOJI), n).tolist()
    punct = rng.integers(0, len(_PUNCT), n).tolist()
    out = []
    words_list, emoji_list, punct_list = v.WORDS, v.EMOJI, _PUNCT
    for i in range(n):
        loose = " ".join([words_list[j] for j in words[i][: count[i]]])
        if shaped[i]:
            text = f"{v.OPENERS[opener[i]]} {v.SUBJECTS[subject[i]]} {v.COMMENTS[comment[i]]}{punct_list[punct[i]]} {loose}"
        else:
            text = loose.capitalize() + punct_list[punct[i]]
        e = emoji_list[emoji[i]]
        out.append(f"{text} {e}" if e else text)
    return out


def article_url(domain: str, section: str, date: str, slug: Sequence[str], article_id: int) -> str:
    """A news article's address, as outlets write them."""
    return f"https://www.{domain}/{section}/{date.replace('-', '/')}/{'-'.join(slug)}-{article_id}"


def link_variants(
    rng: np.random.Generator, url: str, key: int, n: int, *, tracking: float, shortened: float
) -> list[str]:
    """``n`` ways of writing ``url``: as is, with tracking parameters, or through a shortener (one code per shortener)."""
    draw = rng.random(n).tolist()
    params = rng.integers(0, len(v.TRACKING_SOURCES), n).tolist()
    shortener = rng.integers(0, len(v.SHORTENERS), n).tolist()
    out = []
    for d, p, s in zip(draw, params, shortener, strict=True):
        if d < shortened:
            out.append(f"https://{v.SHORTENERS[s]}/{short_code(key * 7 + s)}")
        elif d < shortened + tracking:
            out.append(f"{url}?{v.TRACKING_SOURCES[p]}")
        else:
            out.append(url)
    return out


_SOURCES = ("twitter", "tw", "social", "share", "x", "t.co")


def tracked_variants(rng: np.random.Generator, url: str, key: int, n: int, *, shortened: float) -> list[str]:
    """``n`` ways of writing ``url`` as a link farm does: bare, with fresh standard tracking parameters
    (``utm_*``, ``fbclid``: canonicalisation removes them), or through a shortener (one code per shortener)."""
    draw = rng.random(n).tolist()
    sources = rng.integers(0, len(_SOURCES), n).tolist()
    codes = rng.integers(0, 2**62, n).tolist()
    shortener = rng.integers(0, len(v.SHORTENERS), n).tolist()
    out = []
    for d, src, code, s in zip(draw, sources, codes, shortener, strict=True):
        if d < shortened:
            out.append(f"https://{v.SHORTENERS[s]}/{short_code(key * 7 + s)}")
        elif d < shortened + 0.35:
            out.append(f"{url}?utm_source={_SOURCES[src]}&utm_medium=social&utm_campaign={short_code(code, 6)}")
        elif d < shortened + 0.55:
            out.append(f"{url}?fbclid={short_code(code, 22)}")
        else:
            out.append(url)
    return out
