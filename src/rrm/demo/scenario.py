"""Generated social-media scenarios with planted campaigns, for demonstrations, tests and benchmarks.

A scenario is an organic background (heavy-tailed activity, a diurnal rhythm, news links, viral
posts, a televised debate's hashtags, replies and mentions) with foreign campaigns planted in it
(see ``rrm.demo.campaigns``). Posts are written as an X Information Operations archive CSV
(``x-io-archive``), which ``rrm ingest`` reads; the ground truth (which accounts belong to which
campaign) goes to a separate CSV.

    config = ScenarioConfig(seed=7)
    scenario = generate_scenario(config)
    files = scenario.write(folder)          # posts CSV + labels CSV
    write_posts(ScenarioConfig(organic_accounts=250_000, posts_target=5_000_000), path)  # streamed

The same configuration always gives the same bytes, whether generated in memory or streamed.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import IO

import numpy as np

from rrm.demo.accounts import AccountTable
from rrm.demo.campaigns import Campaign, ViralPosts, check_kinds, plant
from rrm.demo.organic import organic_chunk, viral_chunk, viral_sizes
from rrm.demo.posts import ARCHIVE_HEADER, AccountCells, PostChunk, archive_lines, archive_rows
from rrm.demo.world import ScenarioConfig, World, build_world
from rrm.errors import InputError

__all__ = [
    "LABELS_HEADER",
    "Campaign",
    "Scenario",
    "ScenarioConfig",
    "ScenarioFiles",
    "generate_scenario",
    "load_labels",
    "write_posts",
]

CHUNK_POSTS = 100_000
LABELS_HEADER = ("platform", "account_id", "campaign_id", "campaign_kind")
PLATFORM = "twitter"
_VIRAL_SEQUENCE = 0
_CAMPAIGN_SEQUENCE = 16 << 20
_ORGANIC_SEQUENCE = 64 << 20


@dataclass(frozen=True)
class ScenarioFiles:
    posts: Path
    labels: Path


def config_digest(config: ScenarioConfig) -> str:
    """A short name for a configuration: files of different scenarios never share a name."""
    return hashlib.sha256(repr(astuple(config)).encode()).hexdigest()[:8]


class _Parts:
    """The world, the viral posts and the campaigns: what every chunk of organic posts comes after."""

    def __init__(self, config: ScenarioConfig) -> None:
        check_kinds(config.campaign_kinds)
        self.world: World = build_world(config)
        sizes = viral_sizes(self.world, np.random.default_rng([config.seed, 1]))
        self.viral = viral_chunk(self.world, np.random.default_rng([config.seed, 1, 1]), sizes, _VIRAL_SEQUENCE)
        n = len(sizes)
        viral = ViralPosts(self.viral.post_id[:n], self.viral.author[:n], self.viral.seconds[:n], self.viral.text[:n])
        planted = [
            plant(self.world, i, viral, _CAMPAIGN_SEQUENCE + (i << 20)) for i in range(len(config.campaign_kinds))
        ]
        self.campaigns = tuple(c for c, _ in planted)
        self.planted = [chunk for _, chunk in planted]
        self.organic_posts = self._organic_posts(config)

    def _organic_posts(self, config: ScenarioConfig) -> int:
        fixed = len(self.viral) + sum(len(c) for c in self.planted)
        if config.posts_target is not None:
            return max(0, config.posts_target - fixed)
        return max(0, int(config.organic_accounts * config.days * config.posts_per_account_day) - len(self.viral))

    def chunks(self) -> Iterator[PostChunk]:
        yield self.viral
        total = self.organic_posts
        count = -(-total // CHUNK_POSTS)
        for k in range(count):
            size = total // count + (1 if k < total % count else 0)
            rng = np.random.default_rng([self.world.config.seed, 3, k])
            yield organic_chunk(self.world, rng, size, _ORGANIC_SEQUENCE + k * (CHUNK_POSTS * 2))
        yield from self.planted


@dataclass(frozen=True, eq=False)
class Scenario:
    """A generated scenario held in memory: accounts, posts and the planted campaigns."""

    config: ScenarioConfig
    accounts: AccountTable
    posts: PostChunk
    campaigns: tuple[Campaign, ...]

    @property
    def labels(self) -> dict[str, str]:
        """``"twitter:<account_id>"`` → ``"<campaign_id>:<kind>"`` for every planted account."""
        return {f"{PLATFORM}:{a}": f"{c.campaign_id}:{c.kind}" for c in self.campaigns for a in c.account_ids}

    @property
    def name(self) -> str:
        return f"scenario-seed{self.config.seed}-{config_digest(self.config)}"

    def rows(self) -> Iterator[tuple[str, ...]]:
        """The posts as archive rows, in ``ARCHIVE_HEADER`` order."""
        return archive_rows(self.posts, self.accounts)

    def write(self, folder: Path, *, compress: bool = False) -> ScenarioFiles:
        """Write the posts (``<name>.csv`` or ``.csv.gz``) and the labels (``<name>-labels.csv``) into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        posts = folder / f"{self.name}.csv{'.gz' if compress else ''}"
        with _open_text(posts) as handle:
            csv.writer(handle, lineterminator="\n").writerow(ARCHIVE_HEADER)
            handle.writelines(archive_lines(self.posts, AccountCells(self.accounts)))
        labels = folder / f"{self.name}-labels.csv"
        write_labels(self.campaigns, labels)
        return ScenarioFiles(posts, labels)


def generate_scenario(config: ScenarioConfig) -> Scenario:
    """The scenario of ``config``, in memory (use ``write_posts`` for millions of posts)."""
    parts = _Parts(config)
    return Scenario(config, parts.world.accounts, PostChunk.concat(list(parts.chunks())), parts.campaigns)


@contextmanager
def _open_text(path: Path) -> Iterator[IO[str]]:
    """A text file for writing; gzip (with no timestamp, so equal content gives equal bytes) for ``.gz``."""
    if path.suffix == ".gz":
        with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="",
                                                   compresslevel=5) as packed:
            text = io.TextIOWrapper(packed, encoding="utf-8", newline="")
            yield text
            text.flush()
            text.detach()
    else:
        with path.open("w", encoding="utf-8", newline="") as handle:
            yield handle


def write_posts(config: ScenarioConfig, path: Path, *, labels: Path | None = None) -> int:
    """Stream the scenario's posts to ``path`` (gzip when it ends in ``.gz``) in bounded memory; the number of posts.

    The organic posts are drawn and written ``CHUNK_POSTS`` at a time, so millions of posts take
    the memory of one chunk. ``labels``, when given, receives the ground truth.
    """
    parts = _Parts(config)
    written = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with _open_text(path) as handle:
        csv.writer(handle, lineterminator="\n").writerow(ARCHIVE_HEADER)
        cells = AccountCells(parts.world.accounts)
        for chunk in parts.chunks():
            handle.writelines(archive_lines(chunk, cells))
            written += len(chunk)
    if labels is not None:
        write_labels(parts.campaigns, labels)
    return written


def write_labels(campaigns: tuple[Campaign, ...], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(LABELS_HEADER)
        for c in campaigns:
            writer.writerows((PLATFORM, account, c.campaign_id, c.kind) for account in c.account_ids)


def load_labels(path: Path) -> dict[str, str]:
    """Read a labels CSV: ``"<platform>:<account_id>"`` → ``"<campaign_id>:<kind>"``."""
    labels: dict[str, str] = {}
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None or tuple(h.strip() for h in header) != LABELS_HEADER:
                raise InputError(f"expected the header {','.join(LABELS_HEADER)}", source=str(path), line=1)
            for line, row in enumerate(reader, start=2):
                if not row:
                    continue
                if len(row) != len(LABELS_HEADER):
                    raise InputError(f"expected 4 columns, found {len(row)}", source=str(path), line=line)
                platform, account, campaign, kind = (cell.strip() for cell in row)
                for name, value in zip(LABELS_HEADER, (platform, account, campaign, kind), strict=True):
                    if not value:
                        raise InputError("is empty", source=str(path), line=line, field=name)
                labels[f"{platform}:{account}"] = f"{campaign}:{kind}"
    except csv.Error as exc:
        raise InputError(f"unreadable CSV: {exc}", source=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text: {exc.reason}", source=str(path)) from exc
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=str(path)) from exc
    return labels
