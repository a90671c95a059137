"""``rrm ingest`` killed with SIGKILL at several moments leaves a consistent corpus, and ingesting again is exact.

The ingest runs in a child process through the real command line. The test watches the staging folder
and kills the child when the moment it waits for comes: while chunks are being staged, while the batch
is being committed. Then it opens the store (which recovers) and checks that no partial batch is
visible, that the catalog and the Parquet files agree, and that a second ingest gives the exact totals.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from rrm._duckdb import sql_path
from rrm.corpus import CorpusStore, ingest
from rrm.workspace import Workspace

ROWS = 40_000
CHUNK = 10_000  # the CSV reader stages at least one 4 MB block at a time: this file makes 2 or more chunks
T0 = 1_600_000_000
PADDING = "lorem ipsum dolor sit amet " * 4  # fat rows: several 4 MB blocks from few records


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cnt file big enough to take a few seconds, with ROWS distinct posts and 500 repeated ones."""
    path = tmp_path_factory.mktemp("crash") / "big.csv"
    with path.open("w") as handle:
        handle.write("message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n")
        for i in range(ROWS):
            account = i % 997
            handle.write(f"{i},{account},user_{account},{i // 7 if i % 5 == 0 else ''},,post {i} #t{i % 40} {PADDING} "
                         f"https://site{i % 300}.example.org/p/{i % 1000}?utm_source=x,{T0 + i},\n")
        for i in range(0, 5_000, 10):
            handle.write(f"{i},{i % 997},user_{i % 997},,,repeat {i},{T0 + i},\n")
    return path


def staged(ws: Path, name: str) -> Callable[[], bool]:
    """True once some batch folder under staging holds a file called ``name``."""
    staging = ws / "corpus" / "staging"

    def seen() -> bool:
        return staging.exists() and any(
            (folder / name).exists() for folder in staging.iterdir() if folder.is_dir() and folder.name != "duckdb-tmp"
        )

    return seen


def kill_when(ws: Path, path: Path, moment: Callable[[], bool]) -> bool:
    """Run ``rrm ingest`` and SIGKILL it when ``moment()`` becomes true; False if it finished first."""
    command = [sys.executable, "-c", "from rrm.cli.app import main; main()", "ingest", str(path), "-w", str(ws),
               "--batch-size", str(CHUNK), "--json"]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ | {"CI": ""})
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            if child.poll() is not None:
                assert child.returncode == 0, child.stderr.read() if child.stderr else ""
                return False
            if moment():
                child.send_signal(signal.SIGKILL)
                child.wait()
                return True
            time.sleep(0.002)
        raise AssertionError("the ingest neither finished nor reached the moment")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stderr:
            child.stderr.close()


def assert_consistent(ws: Path) -> int:
    """Open the store as a user would, then check it; returns the number of posts."""
    store = CorpusStore(Workspace.resolve(ws))
    leftovers = [p.name for p in store.staging_dir.iterdir() if p.name != "duckdb-tmp"]
    assert leftovers == [], "recovery left staged work behind"
    batches = {b.batch_id: b for b in store.batches()}
    files = {p.stem: pq.ParquetFile(p).metadata.num_rows for p in store.post_files()}
    assert set(files) == {b for b, record in batches.items() if record.stored}, "Parquet files and catalog disagree"
    for batch_id, rows in files.items():
        assert rows == batches[batch_id].stored
        assert (store.accounts_dir / f"{batch_id}.parquet").exists()
    with duckdb.connect(str(store.root / "catalog.duckdb"), read_only=True) as catalog:
        keys = catalog.execute("SELECT batch_id, count(*) FROM post_hashes GROUP BY 1").fetchall()
        if files:
            posts = ", ".join(sql_path(p) for p in store.post_files())
            unmatched = catalog.execute(
                f"""SELECT count(*) FROM (SELECT hash(platform, post_id) AS h, batch_id FROM read_parquet([{posts}])
                    EXCEPT SELECT h, batch_id FROM post_hashes)"""
            ).fetchall()[0][0]
            assert unmatched == 0, "post_hashes misses posts of the Parquet files"
    assert dict(keys) == files, "post_hashes and Parquet files disagree"
    with store.connect() as db:
        total, distinct = db.execute("SELECT count(*), count(DISTINCT (platform, post_id)) FROM posts").fetchone() or (0, 0)
    assert total == distinct == sum(files.values())
    return int(total)


@pytest.mark.parametrize(
    ("moment", "name"),
    [("staging", f"posts-{0:06d}.parquet"), ("commit", "final-posts.parquet"), ("commit", "final-accounts.parquet")],
)
def test_killed_ingest_leaves_a_consistent_corpus(big_file: Path, tmp_path: Path, moment: str, name: str) -> None:
    ws = tmp_path / "ws"
    killed = kill_when(ws, big_file, staged(ws, name))
    posts = assert_consistent(ws)
    if moment == "staging":
        assert killed, "the ingest finished before its first chunk was seen: make the file bigger"
        assert posts == 0, "a batch killed while staging must not be visible"
    assert posts in (0, ROWS)  # whole or nothing
    store = CorpusStore(Workspace.resolve(ws))
    report = ingest(store, [str(big_file)], batch_size=20_000)
    assert report.failures == []
    assert assert_consistent(ws) == ROWS
    (batch,) = report.batches
    assert batch.records_read == ROWS + 500
    assert batch.stored == ROWS - posts


def test_killed_while_another_batch_is_committed_before(big_file: Path, tmp_path: Path) -> None:
    """A committed batch survives a later crash, and the crashed one is redone without duplicates."""
    ws = tmp_path / "ws"
    small = tmp_path / "small.csv"
    with big_file.open() as source:
        small.write_text("".join(next(source) for _ in range(1_001)))  # header and the first 1,000 posts
    store = CorpusStore(Workspace.resolve(ws))
    assert ingest(store, [str(small)]).batches[0].stored == 1_000
    assert kill_when(ws, big_file, staged(ws, f"posts-{0:06d}.parquet"))
    assert assert_consistent(ws) == 1_000
    report = ingest(CorpusStore(Workspace.resolve(ws)), [str(big_file)], batch_size=20_000)
    assert report.batches[0].stored == ROWS - 1_000
    assert assert_consistent(ws) == ROWS


def test_opening_the_store_leaves_a_running_ingest_alone(big_file: Path, tmp_path: Path) -> None:
    """``rrm corpus stats`` in another terminal must not discard the staged chunks of a live ingest."""
    ws = tmp_path / "ws"
    command = [sys.executable, "-c", "from rrm.cli.app import main; main()", "ingest", str(big_file), "-w", str(ws),
               "--batch-size", str(CHUNK), "--json"]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        seen = staged(ws, f"posts-{0:06d}.parquet")
        while not seen() and child.poll() is None:
            time.sleep(0.002)
        CorpusStore(Workspace.resolve(ws))  # recovery runs while the child is staging
        _, errors = child.communicate(timeout=300)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, errors
    assert assert_consistent(ws) == ROWS


def test_the_catalog_lives_where_the_store_says(tmp_path: Path) -> None:
    store = CorpusStore(Workspace.resolve(tmp_path / "ws"))
    with duckdb.connect() as db:
        db.execute(f"ATTACH {sql_path(store.root / 'catalog.duckdb')} AS c (READ_ONLY)")
        tables = {row[0] for row in db.execute("SELECT table_name FROM information_schema.tables WHERE table_catalog = 'c'")
                  .fetchall()}
    assert {"batches", "quarantine", "post_hashes", "catalog_meta"} <= tables
