"""Exporting the corpus for other tools: Parquet (Spark, pandas, R arrow) and CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from rrm._duckdb import sql_path
from rrm.corpus.store import CorpusStore

__all__ = ["ExportFormat", "export_posts"]

ExportFormat = Literal["parquet", "csv"]


def export_posts(store: CorpusStore, target: Path, fmt: ExportFormat = "parquet") -> int:
    """Write every post to ``target`` (list columns as ``a|b`` strings in CSV); returns the number written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    quoted = sql_path(target)
    with store.connect() as db:
        if fmt == "parquet":
            db.execute(f"COPY (SELECT * FROM posts ORDER BY created_at) TO {quoted} (FORMAT parquet, COMPRESSION zstd)")
        else:
            columns = db.execute("SELECT * FROM posts LIMIT 0").description or []
            lists = {"urls", "urls_canonical", "shortened_urls", "domains", "hashtags", "mentions", "media_hashes"}
            select = ", ".join(f"array_to_string({c[0]}, '|') AS {c[0]}" if c[0] in lists else c[0] for c in columns)
            db.execute(f"COPY (SELECT {select} FROM posts ORDER BY created_at) TO {quoted} (FORMAT csv, HEADER)")
        row = db.execute("SELECT count(*) FROM posts").fetchone()
    return int(row[0]) if row else 0
