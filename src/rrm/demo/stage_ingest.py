"""Demo stage 10: ingest the generated scenario and summarise the corpus.

The posts file is ingested once: when the corpus already holds a batch with the file's sha256, the
stage says so instead of ingesting it again.
"""

from __future__ import annotations

from collections import Counter

from rrm.corpus import corpus_stats, ingest
from rrm.demo.pipeline import DemoContext, StageResult, register_stage

__all__ = ["run"]


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def run(context: DemoContext) -> StageResult:
    scenario, config, store = context.scenario, context.config, context.store
    kinds = Counter(c.kind for c in scenario.campaigns)
    lines = [
        f"Generated {_plural(len(scenario.posts), 'post')} by {_plural(len(scenario.accounts), 'account')} over "
        f"{_plural(config.days, 'day')} (seed {config.seed}), with {_plural(len(scenario.campaigns), 'planted campaign')} "
        f"({', '.join(f'{n} {k}' for k, n in kinds.items())}) of {_plural(len(scenario.labels), 'account')}.",
    ]
    report = ingest(store, [str(context.files.posts)], format_name="x-io-archive")
    if report.failures:
        raise report.failures[0]
    for skipped in report.skipped:
        lines.append(f"Already in the corpus as batch {skipped.batch_id}: not ingested again.")
    for batch in report.batches:
        lines.append(
            f"Ingested batch {batch.batch_id} ({batch.format}): {batch.records_read:,} read, {batch.stored:,} stored, "
            f"{batch.duplicates:,} duplicate, {batch.rejected:,} rejected."
        )
    stats = corpus_stats(store, top=5)
    lines.append(
        f"Corpus: {_plural(stats.posts, 'post')} by {_plural(stats.accounts, 'account')} in "
        f"{_plural(stats.batches, 'batch').replace('batchs', 'batches')}, version {stats.version}."
    )
    if stats.first_post and stats.last_post:
        lines.append(f"From {stats.first_post:%Y-%m-%d %H:%M} to {stats.last_post:%Y-%m-%d %H:%M} UTC.")
    lines.append("Kinds: " + ", ".join(f"{k} {n:,}" for k, n in stats.kinds))
    lines.append("Top hashtags: " + ", ".join(f"#{h} {n:,}" for h, n in stats.top_hashtags))
    lines.append("Top domains: " + ", ".join(f"{d} {n:,}" for d, n in stats.top_domains))
    return StageResult(
        "Scenario and ingest", tuple(lines), (context.files.posts, context.files.labels, store.root)
    )


register_stage("ingest", 10, run)
