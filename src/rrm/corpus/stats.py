"""What the corpus holds: counts, time span and the most frequent domains, hashtags and accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rrm.corpus.store import CorpusStore

__all__ = ["CorpusStats", "corpus_stats"]


@dataclass(frozen=True)
class CorpusStats:
    posts: int
    accounts: int
    batches: int
    rejected: int
    platforms: tuple[tuple[str, int], ...]
    kinds: tuple[tuple[str, int], ...]
    first_post: datetime | None
    last_post: datetime | None
    top_domains: tuple[tuple[str, int], ...]
    top_hashtags: tuple[tuple[str, int], ...]
    top_accounts: tuple[tuple[str, str, int], ...]
    version: str


def corpus_stats(store: CorpusStore, top: int = 10) -> CorpusStats:
    batches = store.batches()
    with store.connect() as db:
        posts, accounts, first, last = db.execute(
            "SELECT count(*), count(DISTINCT (platform, account_id)), min(created_at), max(created_at) FROM posts"
        ).fetchone() or (0, 0, None, None)

        def counts(sql: str) -> tuple[tuple[str, int], ...]:
            return tuple((str(name), int(n)) for name, n in db.execute(sql, [top]).fetchall())

        platforms = counts("SELECT platform, count(*) AS n FROM posts GROUP BY 1 ORDER BY n DESC, 1 LIMIT ?")
        kinds = counts("SELECT kind, count(*) AS n FROM posts GROUP BY 1 ORDER BY n DESC, 1 LIMIT ?")
        domains = counts(
            "SELECT d, count(*) AS n FROM (SELECT unnest(domains) AS d FROM posts) GROUP BY 1 ORDER BY n DESC, 1 LIMIT ?"
        )
        hashtags = counts(
            "SELECT h, count(*) AS n FROM (SELECT unnest(hashtags) AS h FROM posts) GROUP BY 1 ORDER BY n DESC, 1 LIMIT ?"
        )
        top_accounts = tuple(
            (str(p), str(a), int(n))
            for p, a, n in db.execute(
                "SELECT platform, account_id, count(*) AS n FROM posts GROUP BY 1, 2 ORDER BY n DESC, 1, 2 LIMIT ?", [top]
            ).fetchall()
        )
    return CorpusStats(
        posts=int(posts), accounts=int(accounts), batches=len(batches), rejected=sum(b.rejected for b in batches),
        platforms=platforms, kinds=kinds, first_post=first, last_post=last, top_domains=domains,
        top_hashtags=hashtags, top_accounts=top_accounts, version=store.version(),
    )
