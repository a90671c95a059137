"""The organic background: what ordinary people post, and the crowds that look coordinated but are not.

A chunk holds originals, and the reshares, replies and quotes they draw (the popular accounts draw
most). Some originals link to the news events of the period within hours of publication, written
with or without tracking parameters and shorteners; some join the hashtags of the televised debate
while it is on. Viral posts are reshared by thousands over hours: a crowd sharing the same thing is
not a campaign.
"""

from __future__ import annotations

import numpy as np

from rrm.demo import vocabulary as v
from rrm.demo.accounts import Ints, snowflakes
from rrm.demo.posts import NONE, PostChunk, list_cell
from rrm.demo.text import article_url, chatter, link_variants, zipf
from rrm.demo.world import World

__all__ = ["RESHARE_SHARE", "organic_chunk", "viral_chunk", "viral_sizes"]

RESHARE_SHARE, REPLY_SHARE, QUOTE_SHARE = 0.38, 0.12, 0.03
_HASHTAG_P = zipf(len(v.HASHTAGS), 1.1)


def _none(n: int) -> Ints:
    return np.full(n, NONE, dtype=np.int64)


def _append(texts: list[str], rows: Ints, extras: list[str]) -> None:
    for row, extra in zip(rows.tolist(), extras, strict=True):
        texts[row] = f"{texts[row]} {extra}"


def _originals(world: World, rng: np.random.Generator, n: int) -> tuple[Ints, Ints, list[str], list[str], list[str], list[str]]:
    """Authors, times, texts, hashtags, urls and mentions of ``n`` original posts."""
    authors = rng.choice(world.organic, n, p=world.activity).astype(np.int64)
    seconds = world.times(rng, n)
    texts = chatter(rng, n)
    hashtags, urls, mentions = [""] * n, [""] * n, [""] * n
    draw = rng.random(n)

    # news: links to the period's stories in the hours after they break
    news = np.flatnonzero(draw < 0.10)
    if len(news) and world.events:
        weights = np.array([e.weight for e in world.events])
        picked = rng.choice(len(world.events), len(news), p=weights / weights.sum())
        for e in np.unique(picked).tolist():
            rows = news[picked == e]
            event = world.events[e]
            origin = np.full(len(rows), event.seconds, dtype=np.int64)
            seconds[rows] = world.fold(rng, origin + rng.exponential(2.5 * 3_600, len(rows)).astype(np.int64), origin)
            links = link_variants(rng, event.url, event.key, len(rows), tracking=0.3, shortened=0.15)
            for row, link in zip(rows.tolist(), links, strict=True):
                urls[row] = list_cell([link])
            _append(texts, rows, links)

    # the long tail of links
    tail = np.flatnonzero((draw >= 0.10) & (draw < 0.18))
    if len(tail):
        domains = rng.choice(len(v.NEWS_DOMAINS), len(tail), p=zipf(len(v.NEWS_DOMAINS), 0.8)).tolist()
        sections = rng.integers(0, len(v.NEWS_SECTIONS), len(tail)).tolist()
        slugs = rng.integers(0, len(v.WORDS), (len(tail), 3)).tolist()
        ids = rng.integers(1_000_000, 9_999_999, len(tail)).tolist()
        days = np.datetime_as_string(seconds[tail].astype("datetime64[s]"), unit="D").tolist()
        links = [
            article_url(v.NEWS_DOMAINS[d], v.NEWS_SECTIONS[s], day, [v.WORDS[j] for j in slug], i)
            for d, s, day, slug, i in zip(domains, sections, days, slugs, ids, strict=True)
        ]
        for row, link in zip(tail.tolist(), links, strict=True):
            urls[row] = list_cell([link])
        _append(texts, tail, links)

    # the televised debate: everyone uses the same hashtags in the same 90 minutes
    debate = np.flatnonzero((draw >= 0.18) & (draw < 0.22))
    if len(debate):
        minutes = world.debate_minutes * 60
        seconds[debate] = world.debate_start + (rng.beta(1.5, 2.0, len(debate)) * minutes).astype(np.int64)
        tags = rng.integers(0, len(v.DEBATE_HASHTAGS), len(debate)).tolist()
        for row, t in zip(debate.tolist(), tags, strict=True):
            hashtags[row] = list_cell(list(v.DEBATE_HASHTAGS[t]))
        _append(texts, debate, [" ".join("#" + h for h in v.DEBATE_HASHTAGS[t]) for t in tags])

    # everyday hashtags
    tagged = np.flatnonzero((rng.random(n) < 0.22) & ~((draw >= 0.18) & (draw < 0.22)))
    if len(tagged):
        first = rng.choice(len(v.HASHTAGS), len(tagged), p=_HASHTAG_P).tolist()
        second = rng.choice(len(v.HASHTAGS), len(tagged), p=_HASHTAG_P).tolist()
        two = (rng.random(len(tagged)) < 0.3).tolist()
        chosen = [[v.HASHTAGS[a]] + ([v.HASHTAGS[b]] if t and b != a else []) for a, b, t in zip(first, second, two, strict=True)]
        for row, tags_ in zip(tagged.tolist(), chosen, strict=True):
            hashtags[row] = list_cell(tags_)
        _append(texts, tagged, [" ".join("#" + h for h in tags_) for tags_ in chosen])

    # mentions of well-known accounts
    mentioning = np.flatnonzero(rng.random(n) < 0.08)
    if len(mentioning):
        named = rng.choice(world.organic, len(mentioning), p=world.popularity)
        handles = world.accounts.handles[named].tolist()
        ids = world.accounts.ids[named].tolist()
        for row, handle, account in zip(mentioning.tolist(), handles, ids, strict=True):
            texts[row] = f"@{handle} {texts[row]}"
            mentions[row] = list_cell([account])
    return authors, seconds, texts, hashtags, urls, mentions


def _reactions(
    world: World, rng: np.random.Generator, n: int, origin_authors: Ints, exponent: float
) -> tuple[Ints, Ints]:
    """Which originals ``n`` reactions go to (the followed draw most), and who reacts."""
    weights = (world.accounts.followers[origin_authors] + 1.0) ** exponent
    targets = rng.choice(len(origin_authors), n, p=weights / weights.sum()).astype(np.int64)
    actors = rng.choice(world.organic, n, p=world.activity).astype(np.int64)
    return targets, actors


def organic_chunk(world: World, rng: np.random.Generator, n: int, sequence: int) -> PostChunk:
    """``n`` organic posts; ``sequence`` numbers their ids apart from every other chunk's."""
    n_reshare, n_reply, n_quote = int(n * RESHARE_SHARE), int(n * REPLY_SHARE), int(n * QUOTE_SHARE)
    n_orig = max(1, n - n_reshare - n_reply - n_quote)
    authors, seconds, texts, hashtags, urls, mentions = _originals(world, rng, n_orig)
    ids = snowflakes(seconds, sequence + np.arange(n_orig, dtype=np.int64))
    handles = world.accounts.handles[authors].tolist()
    account_ids = world.accounts.ids[authors].tolist()

    rs_target, rs_actor = _reactions(world, rng, n_reshare, authors, 0.75)
    rs_seconds = world.fold(rng, seconds[rs_target] + rng.lognormal(np.log(1_800), 1.5, n_reshare).astype(np.int64),
                            seconds[rs_target])
    rs_t = rs_target.tolist()
    rs_texts = [f"RT @{handles[t]}: {texts[t]}" for t in rs_t]

    rp_target, rp_actor = _reactions(world, rng, n_reply, authors, 0.9)
    rp_seconds = world.fold(rng, seconds[rp_target] + rng.lognormal(np.log(900), 1.3, n_reply).astype(np.int64),
                            seconds[rp_target])
    rp_t = rp_target.tolist()
    rp_texts = [f"@{handles[t]} {body}" for t, body in zip(rp_t, chatter(rng, n_reply), strict=True)]

    q_target, q_actor = _reactions(world, rng, n_quote, authors, 0.75)
    q_seconds = world.fold(rng, seconds[q_target] + rng.lognormal(np.log(2_400), 1.4, n_quote).astype(np.int64),
                           seconds[q_target])

    react_seconds = np.concatenate([rs_seconds, rp_seconds, q_seconds])
    react_ids = snowflakes(react_seconds, sequence + n_orig + np.arange(len(react_seconds), dtype=np.int64))
    likes = np.floor(np.sqrt(world.accounts.followers[authors]) * rng.lognormal(0, 1, n_orig)).astype(np.int64)
    return PostChunk(
        post_id=np.concatenate([ids, react_ids]),
        author=np.concatenate([authors, rs_actor, rp_actor, q_actor]),
        seconds=np.concatenate([seconds, react_seconds]),
        text=texts + rs_texts + rp_texts + chatter(rng, n_quote),
        hashtags=hashtags + [hashtags[t] for t in rs_t] + [""] * (n_reply + n_quote),
        urls=urls + [urls[t] for t in rs_t] + [""] * (n_reply + n_quote),
        mentions=mentions + [list_cell([account_ids[t]]) for t in rs_t] + [list_cell([account_ids[t]]) for t in rp_t]
        + [""] * n_quote,
        reply_post=np.concatenate([_none(n_orig + n_reshare), ids[rp_target], _none(n_quote)]),
        reply_author=np.concatenate([_none(n_orig + n_reshare), authors[rp_target], _none(n_quote)]),
        quote_post=np.concatenate([_none(n_orig + n_reshare + n_reply), ids[q_target]]),
        retweet_post=np.concatenate([_none(n_orig), ids[rs_target], _none(n_reply + n_quote)]),
        retweet_author=np.concatenate([_none(n_orig), authors[rs_target], _none(n_reply + n_quote)]),
        likes=np.concatenate([likes, np.zeros(len(react_seconds), dtype=np.int64)]),
    )


def viral_sizes(world: World, rng: np.random.Generator) -> list[int]:
    """How many accounts reshare each viral post: one viral post a day, each reshared by up to 4,000."""
    most = min(4_000, int(world.organic * 0.3))
    return [int(most * f) for f in rng.uniform(0.5, 1.0, world.config.days)]


def viral_chunk(world: World, rng: np.random.Generator, sizes: list[int], sequence: int) -> PostChunk:
    """Viral posts by well-followed accounts and their reshares by many accounts over the following hours."""
    n = len(sizes)
    authors = rng.choice(world.celebrities, n).astype(np.int64)
    day = np.arange(n, dtype=np.int64) % world.config.days
    seconds = world.start + day * 86_400 + rng.integers(8 * 3_600, 18 * 3_600, n)
    texts = chatter(rng, n)
    ids = snowflakes(seconds, sequence + np.arange(n, dtype=np.int64))
    resharers = []
    delays = []
    spread = (world.activity[: world.organic] ** 0.5)
    spread /= spread.sum()
    for size in sizes:
        resharers.append(rng.choice(world.organic, size, replace=False, p=spread).astype(np.int64))
        delays.append(rng.lognormal(np.log(2.5 * 3_600), 1.0, size).astype(np.int64) + rng.integers(5, 120, size))
    target = np.repeat(np.arange(n, dtype=np.int64), sizes)
    actors = np.concatenate(resharers) if resharers else np.zeros(0, dtype=np.int64)
    rs_seconds = world.fold(rng, seconds[target] + np.concatenate(delays), seconds[target])
    rs_ids = snowflakes(rs_seconds, sequence + n + np.arange(len(target), dtype=np.int64))
    handles = world.accounts.handles[authors].tolist()
    account_ids = world.accounts.ids[authors].tolist()
    t = target.tolist()
    m = len(target)
    return PostChunk(
        post_id=np.concatenate([ids, rs_ids]), author=np.concatenate([authors, actors]),
        seconds=np.concatenate([seconds, rs_seconds]),
        text=texts + [f"RT @{handles[i]}: {texts[i]}" for i in t],
        hashtags=[""] * (n + m), urls=[""] * (n + m), mentions=[""] * n + [list_cell([account_ids[i]]) for i in t],
        reply_post=_none(n + m), reply_author=_none(n + m), quote_post=_none(n + m),
        retweet_post=np.concatenate([_none(n), ids[target]]), retweet_author=np.concatenate([_none(n), authors[target]]),
        likes=np.concatenate([np.array(sizes, dtype=np.int64) * 3, np.zeros(m, dtype=np.int64)]),
    )
