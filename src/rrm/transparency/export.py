"""Export ads and donations as CSV or JSON (one file per table in a folder, or one JSON document)."""

from __future__ import annotations

import json
from pathlib import Path

from rrm._duckdb import sql_path
from rrm.errors import InputError
from rrm.transparency.store import VIEWS, MoneyStore

__all__ = ["export"]


def export(store: MoneyStore, fmt: str, out: Path) -> list[Path]:
    """``csv``: ``OUT/ads.csv`` and ``OUT/donations.csv``; ``json``: one file ``OUT`` with both lists."""
    if fmt not in {"csv", "json"}:
        raise InputError(f"export format must be csv or json, not {fmt!r}", field="--format")
    with store.connect(read_only=True) as db:
        db.execute(VIEWS)
        if fmt == "csv":
            out.mkdir(parents=True, exist_ok=True)
            written = []
            for name, query in (("ads", "SELECT * EXCLUDE (extra) FROM ads"), ("donations", "SELECT * FROM donations_v")):
                target = out / f"{name}.csv"
                db.execute(f"COPY ({query} ORDER BY source, source_line) TO {sql_path(target)} (HEADER, DELIMITER ',')")
                written.append(target)
            return written
        document = {}
        for name, query in (("ads", "SELECT * FROM ads"), ("donations", "SELECT * FROM donations_v")):
            cursor = db.execute(f"{query} ORDER BY source, source_line")
            names = [d[0] for d in cursor.description]
            document[name] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, default=str, ensure_ascii=False, indent=1), encoding="utf-8")
    return [out]
