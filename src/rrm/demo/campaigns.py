"""Planted foreign campaigns: groups of accounts acting together in the ways documented operations do.

Each kind is a function registered in ``CAMPAIGN_KINDS``; each campaign also posts some ordinary
cover chatter, so its accounts are not trivially told apart by what they post alone.

- ``retweet-ring``: two core accounts post; the others reshare within seconds to a few minutes,
  and pile onto the period's viral posts too.
- ``copy-paste``: the same message, lightly edited (synonyms, mentions, emoji, links), within minutes.
- ``copypasta``: the same message word for word, mention included, within minutes: what exact co-text
  matching (and the coordination-network-toolkit's co-tweet network) finds. Not in the default scenario.
- ``link-farm``: the same look-alike-domain URLs, with varying tracking parameters and shorteners.
- ``hashtag-push``: a rare hashtag sequence pushed in bursts of a quarter of an hour.
- ``reply-swarm``: replies mentioning one well-followed target within minutes of each of its posts.

Copy-paste and hashtag-push posts sometimes carry a shared image link (``pbs.twimg.com/media/...``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rrm.demo import vocabulary as v
from rrm.demo.accounts import Ints, snowflakes
from rrm.demo.posts import NONE, PostChunk, list_cell
from rrm.demo.text import chatter, short_code, tracked_variants
from rrm.demo.world import World
from rrm.errors import InputError

__all__ = ["CAMPAIGN_KINDS", "Campaign", "PlantedPosts", "ViralPosts", "check_kinds", "plant"]


@dataclass(frozen=True)
class Campaign:
    """One planted campaign: its accounts and the objects it pushed (posts, URLs, hashtags, targets)."""

    campaign_id: str
    kind: str
    account_ids: tuple[str, ...]
    objects: tuple[str, ...]


@dataclass(frozen=True)
class ViralPosts:
    """The period's viral posts, for rings to pile onto."""

    post_ids: Ints
    authors: Ints
    seconds: Ints
    texts: list[str]


@dataclass
class PlantedPosts:
    """Posts of one campaign as they are drawn, before they become a ``PostChunk``."""

    authors: list[int] = field(default_factory=list)
    seconds: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    reply_post: list[int] = field(default_factory=list)
    reply_author: list[int] = field(default_factory=list)
    retweet_post: list[int] = field(default_factory=list)
    retweet_author: list[int] = field(default_factory=list)
    fixed_ids: list[int] = field(default_factory=list)  # ids drawn in advance (posts others react to), else NONE

    def add(
        self, author: int, second: int, text: str, *, hashtags: str = "", urls: str = "", mentions: str = "",
        reply: tuple[int, int] = (NONE, NONE), retweet: tuple[int, int] = (NONE, NONE), post_id: int = NONE,
    ) -> None:
        self.authors.append(author)
        self.seconds.append(second)
        self.texts.append(text)
        self.hashtags.append(hashtags)
        self.urls.append(urls)
        self.mentions.append(mentions)
        self.reply_post.append(reply[0])
        self.reply_author.append(reply[1])
        self.retweet_post.append(retweet[0])
        self.retweet_author.append(retweet[1])
        self.fixed_ids.append(post_id)

    def chunk(self, sequence: int) -> PostChunk:
        n = len(self.authors)
        seconds = np.array(self.seconds, dtype=np.int64)
        ids = snowflakes(seconds, sequence + np.arange(n, dtype=np.int64))
        fixed = np.array(self.fixed_ids, dtype=np.int64)
        ids = np.where(fixed != NONE, fixed, ids)
        return PostChunk(
            post_id=ids, author=np.array(self.authors, dtype=np.int64), seconds=seconds, text=self.texts,
            hashtags=self.hashtags, urls=self.urls, mentions=self.mentions,
            reply_post=np.array(self.reply_post, dtype=np.int64), reply_author=np.array(self.reply_author, dtype=np.int64),
            quote_post=np.full(n, NONE, dtype=np.int64), retweet_post=np.array(self.retweet_post, dtype=np.int64),
            retweet_author=np.array(self.retweet_author, dtype=np.int64), likes=np.zeros(n, dtype=np.int64),
        )


@dataclass(frozen=True)
class _Plan:
    world: World
    rng: np.random.Generator
    members: Ints
    sequence: int
    viral: ViralPosts
    posts: PlantedPosts

    def joiners(self, low: float = 0.6, high: float = 0.95) -> list[int]:
        """The members who take part in one action (most of them)."""
        share = self.rng.uniform(low, high)
        chosen = self.members[self.rng.random(len(self.members)) < share]
        picked: list[int] = (chosen if len(chosen) >= 2 else self.members[:2]).tolist()
        return picked

    def start_time(self) -> int:
        """When an action starts: like anyone's posts, in the diurnal rhythm, early enough to finish."""
        second = int(self.world.times(self.rng, 1)[0])
        return min(second, self.world.end - 3_600)

    def delays(self, n: int, mean: float, cap: float) -> list[int]:
        drawn: list[int] = np.minimum(self.rng.exponential(mean, n) + self.rng.uniform(1, 10, n), cap).astype(np.int64).tolist()
        return drawn

    def ids(self, seconds: int, offset: int) -> int:
        """An id for a post others will react to, drawn apart from the chunk's own ids."""
        return int(snowflakes(np.array([seconds]), np.array([self.sequence + 500_000 + offset]))[0])


def _cover(plan: _Plan) -> None:
    """A few ordinary posts per member, so the accounts look like people when taken one by one."""
    counts = plan.rng.integers(2, 7, len(plan.members))
    authors = np.repeat(plan.members, counts)
    seconds = plan.world.times(plan.rng, len(authors)).tolist()
    for author, second, text in zip(authors.tolist(), seconds, chatter(plan.rng, len(authors)), strict=True):
        plan.posts.add(author, second, text)


def _handle(world: World, row: int) -> str:
    return str(world.accounts.handles[row])


def _retweet_ring(plan: _Plan) -> tuple[str, ...]:
    world, rng, posts = plan.world, plan.rng, plan.posts
    core = plan.members[:2].tolist()
    ring = plan.members[2:]
    waves = max(3, 4 * world.config.days)
    pushed = []
    for wave in range(waves):
        author = core[wave % 2]
        t0 = plan.start_time()
        post_id = plan.ids(t0, wave)
        teaser = v.CAMPAIGN_TEASERS[int(rng.integers(len(v.CAMPAIGN_TEASERS)))]
        text = f"{teaser}: {chatter(rng, 1)[0]}"
        posts.add(author, t0, text, post_id=post_id)
        pushed.append(str(post_id))
        handle = _handle(world, author)
        account_id = str(world.accounts.ids[author])
        share = rng.uniform(0.7, 1.0)
        joiners = [m for m in ring.tolist() if rng.random() < share] or ring[:2].tolist()
        for member, delay in zip(joiners, plan.delays(len(joiners), 45, 300), strict=True):
            posts.add(member, t0 + delay, f"RT @{handle}: {text}", mentions=list_cell([account_id]),
                      retweet=(post_id, author))
    # piling onto viral posts: the crowd is there anyway, the ring is minutes apart
    for i in range(len(plan.viral.post_ids)):
        if rng.random() < 0.5:
            continue
        t0 = int(plan.viral.seconds[i]) + int(rng.integers(600, 4 * 3_600))
        author = int(plan.viral.authors[i])
        handle = _handle(world, author)
        joiners = plan.joiners(0.5, 0.9)
        for member, delay in zip(joiners, plan.delays(len(joiners), 60, 420), strict=True):
            posts.add(member, min(t0 + delay, world.end - 1), f"RT @{handle}: {plan.viral.texts[i]}",
                      mentions=list_cell([str(world.accounts.ids[author])]),
                      retweet=(int(plan.viral.post_ids[i]), author))
    return tuple(pushed)


def _edit(rng: np.random.Generator, message: str) -> str:
    words = message.split(" ")
    for i, word in enumerate(words):
        key = word.strip(".,!?").lower()
        if key in v.SYNONYMS and rng.random() < 0.35:
            options = v.SYNONYMS[key]
            words[i] = word.replace(word.strip(".,!?"), options[int(rng.integers(len(options)))])
    text = " ".join(words)
    if rng.random() < 0.2:
        text = text.rstrip("!.") + "!!"
    if rng.random() < 0.15:
        text = text.upper()
    emoji = v.EMOJI[int(rng.integers(len(v.EMOJI)))]
    return f"{text} {emoji}" if emoji else text


def _copy_paste(plan: _Plan) -> tuple[str, ...]:
    world, rng, posts = plan.world, plan.rng, plan.posts
    targets = rng.choice(world.celebrities, 3, replace=False).tolist()
    messages = max(3, 3 * world.config.days)
    domain = v.CAMPAIGN_DOMAINS[int(rng.integers(len(v.CAMPAIGN_DOMAINS)))]
    image = f"https://pbs.twimg.com/media/{short_code(plan.sequence + 17, 15)}.jpg"
    pushed = []
    for m in range(messages):
        template = v.COPY_PASTE_MESSAGES[(m + int(rng.integers(len(v.COPY_PASTE_MESSAGES)))) % len(v.COPY_PASTE_MESSAGES)]
        t0 = plan.start_time()
        link = f"https://{domain}/article/{short_code(plan.sequence + m, 6)}"
        pushed.append(template)
        joiners = plan.joiners(0.5, 0.9)
        for member, delay in zip(joiners, plan.delays(len(joiners), 180, 1_200), strict=True):
            target = targets[int(rng.integers(len(targets)))]
            text = _edit(rng, template.format(m="@" + _handle(world, target)))
            urls: list[str] = []
            if rng.random() < 0.4:
                urls.append(tracked_variants(rng, link, plan.sequence + m, 1, shortened=0.2)[0])
            if rng.random() < 0.3:
                urls.append(image)
            if urls:
                text = f"{text} {' '.join(urls)}"
            posts.add(member, t0 + delay, text, urls=list_cell(urls), mentions=list_cell([str(world.accounts.ids[target])]))
    return (*dict.fromkeys(pushed), image)


def _copypasta(plan: _Plan) -> tuple[str, ...]:
    world, rng, posts = plan.world, plan.rng, plan.posts
    pushed = []
    for m in range(max(3, 3 * world.config.days)):
        template = v.COPY_PASTE_MESSAGES[(m + int(rng.integers(len(v.COPY_PASTE_MESSAGES)))) % len(v.COPY_PASTE_MESSAGES)]
        target = int(rng.choice(world.celebrities))
        text = template.format(m="@" + _handle(world, target))
        pushed.append(text)
        t0 = plan.start_time()
        joiners = plan.joiners(0.5, 0.9)
        for member, delay in zip(joiners, plan.delays(len(joiners), 180, 1_200), strict=True):
            posts.add(member, t0 + delay, text, mentions=list_cell([str(world.accounts.ids[target])]))
    return tuple(dict.fromkeys(pushed))


def _link_farm(plan: _Plan) -> tuple[str, ...]:
    world, rng, posts = plan.world, plan.rng, plan.posts
    count = max(3, 2 * world.config.days)
    pushed = []
    for k in range(count):
        domain = v.CAMPAIGN_DOMAINS[int(rng.integers(len(v.CAMPAIGN_DOMAINS)))]
        section = v.NEWS_SECTIONS[int(rng.integers(len(v.NEWS_SECTIONS)))]
        slug = "-".join(v.WORDS[int(j)] for j in rng.integers(0, len(v.WORDS), 5))
        url = f"https://{domain}/{section}/{slug}-{int(rng.integers(10_000, 99_999))}.html"
        pushed.append(url)
        t0 = plan.start_time()
        joiners = plan.joiners()
        links = tracked_variants(rng, url, plan.sequence + k, len(joiners), shortened=0.2)
        for member, delay, link in zip(joiners, plan.delays(len(joiners), 90, 600), links, strict=True):
            teaser = v.CAMPAIGN_TEASERS[int(rng.integers(len(v.CAMPAIGN_TEASERS)))]
            words = " ".join(v.WORDS[int(j)] for j in rng.integers(0, len(v.WORDS), int(rng.integers(0, 4))))
            posts.add(member, t0 + delay, f"{teaser} {words} {link}".replace("  ", " "), urls=list_cell([link]))
    return tuple(pushed)


def _hashtag_push(plan: _Plan) -> tuple[str, ...]:
    world, rng, posts = plan.world, plan.rng, plan.posts
    picks = rng.choice(len(v.PUSH_WORDS), 5, replace=False).tolist()
    tags = ("".join(v.PUSH_WORDS[i].title() for i in picks[:3]), "".join(v.PUSH_WORDS[i].title() for i in picks[3:]))
    image = f"https://pbs.twimg.com/media/{short_code(plan.sequence + 29, 15)}.jpg"
    bursts = max(2, world.config.days)
    for _ in range(bursts):
        t0 = plan.start_time()
        length = int(rng.integers(600, 1_200))
        for member in plan.joiners():
            for _ in range(int(rng.integers(1, 4))):
                extra = v.HASHTAGS[int(rng.integers(len(v.HASHTAGS)))] if rng.random() < 0.3 else None
                sequence = [*tags, extra] if extra else list(tags)
                body = chatter(rng, 1)[0]
                urls = [image] if rng.random() < 0.25 else []
                text = f"{body} {' '.join('#' + t for t in sequence)}" + (f" {image}" if urls else "")
                posts.add(member, t0 + int(rng.integers(0, length)), text, hashtags=list_cell([t.lower() for t in sequence]),
                          urls=list_cell(urls))
    return (*("#" + t for t in tags), image)


def _reply_swarm(plan: _Plan) -> tuple[str, ...]:
    world, rng, posts = plan.world, plan.rng, plan.posts
    target = int(rng.choice(world.celebrities))
    handle = _handle(world, target)
    account_id = str(world.accounts.ids[target])
    for k in range(max(2, world.config.days)):
        t0 = plan.start_time()
        post_id = plan.ids(t0, k)
        posts.add(target, t0, chatter(rng, 1)[0], post_id=post_id)
        joiners = plan.joiners(0.5, 0.9)
        for member, delay in zip(joiners, plan.delays(len(joiners), 120, 900), strict=True):
            insult = v.SWARM_INSULTS[int(rng.integers(len(v.SWARM_INSULTS)))]
            emoji = v.EMOJI[int(rng.integers(len(v.EMOJI)))]
            posts.add(member, t0 + delay, f"@{handle} {insult} {emoji}".strip(), mentions=list_cell([account_id]),
                      reply=(post_id, target))
    return (f"@{handle}", account_id)


CAMPAIGN_KINDS: dict[str, Callable[[_Plan], tuple[str, ...]]] = {
    "retweet-ring": _retweet_ring,
    "copy-paste": _copy_paste,
    "link-farm": _link_farm,
    "hashtag-push": _hashtag_push,
    "reply-swarm": _reply_swarm,
    "copypasta": _copypasta,
}
"""Every kind of campaign the generator plants, by name."""


def check_kinds(kinds: tuple[str, ...]) -> None:
    for kind in kinds:
        if kind not in CAMPAIGN_KINDS:
            raise InputError(
                f"unknown campaign kind {kind!r} (known: {', '.join(CAMPAIGN_KINDS)})", source="scenario",
                field="campaign_kinds",
            )


def plant(world: World, index: int, viral: ViralPosts, sequence: int) -> tuple[Campaign, PostChunk]:
    """The ``index``-th campaign of the scenario and its posts."""
    kind = world.config.campaign_kinds[index]
    check_kinds((kind,))
    rng = np.random.default_rng([world.config.seed, 2, index])
    members = world.campaign_members[index]
    plan = _Plan(world, rng, members, sequence, viral, PlantedPosts())
    _cover(plan)
    objects = CAMPAIGN_KINDS[kind](plan)
    campaign = Campaign(f"campaign-{index + 1:02d}", kind, tuple(world.accounts.ids[members].tolist()), objects)
    return campaign, plan.posts.chunk(sequence)
