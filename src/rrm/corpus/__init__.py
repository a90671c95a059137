"""The corpus: ingest formats into one normalised model of posts and accounts, stored as Parquet."""

from rrm.corpus.export import export_posts
from rrm.corpus.ingest import IngestReport, SkippedInput, ingest, ingest_source
from rrm.corpus.schema import ACCOUNT_SCHEMA, POST_SCHEMA, Account, Post
from rrm.corpus.stats import CorpusStats, corpus_stats
from rrm.corpus.store import BatchRecord, CorpusStore, QuarantinedRecord
from rrm.corpus.urls import CanonicalUrl, canonicalise, registrable_domain

__all__ = [
    "ACCOUNT_SCHEMA",
    "POST_SCHEMA",
    "Account",
    "BatchRecord",
    "CanonicalUrl",
    "CorpusStats",
    "CorpusStore",
    "IngestReport",
    "Post",
    "QuarantinedRecord",
    "SkippedInput",
    "canonicalise",
    "corpus_stats",
    "export_posts",
    "ingest",
    "ingest_source",
    "registrable_domain",
]
