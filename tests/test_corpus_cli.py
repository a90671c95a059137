"""The corpus commands end to end: ingest, batches, quarantine, stats and export, through the real CLI."""

from __future__ import annotations

import csv
import hashlib
import http.server
import json
import threading
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from rrm.cli.app import app
from rrm.corpus import CorpusStore

HEADER = "message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n"
T0 = 1_606_451_170

runner = CliRunner()


def rrm(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "250", "NO_COLOR": "1"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def rrm_json(*args: str, exit_code: int = 0) -> object:
    code, output = rrm(*args, "--json")
    assert code == exit_code, output
    return json.loads(output)


def cnt_file(path: Path, ids: range, extra: str = "") -> Path:
    rows = "".join(
        f"{i},{i % 3},user_{i % 3},,,post {i} #Tag{i % 2} https://Example.com/{i}?utm_source=x,{T0 + i},\n" for i in ids
    )
    path.write_text(HEADER + rows + extra)
    return path


@pytest.fixture
def ws(tmp_path: Path) -> str:
    return str(tmp_path / "ws")


def post_count(ws: str) -> int:
    stats = rrm_json("corpus", "stats", "-w", ws)
    assert isinstance(stats, dict)
    return int(stats["posts"])


# --- idempotency and provenance ------------------------------------------------------------------


def test_the_same_file_twice_stores_each_post_once(ws: str, tmp_path: Path) -> None:
    """The second time the file is skipped, unread; with --force it is read and every post is a duplicate."""
    path = cnt_file(tmp_path / "a.csv", range(1, 51))
    first = rrm_json("ingest", str(path), "-w", ws)
    second = rrm_json("ingest", str(path), "-w", ws)
    forced = rrm_json("ingest", str(path), "-w", ws, "--force")
    assert isinstance(first, dict) and isinstance(second, dict) and isinstance(forced, dict)
    assert [(b["stored"], b["duplicates"]) for b in first["batches"]] == [(50, 0)]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert second == {"batches": [], "failures": [],
                      "skipped": [{"source": str(path), "sha256": digest, "batch_id": first["batches"][0]["batch_id"]}]}
    assert [(b["stored"], b["duplicates"]) for b in forced["batches"]] == [(0, 50)]
    assert post_count(ws) == 50
    code, out = rrm("ingest", str(path), "-w", ws)
    assert code == 0
    assert "already ingested" in out and first["batches"][0]["batch_id"] in out and "--force" in out


def test_overlapping_files_never_duplicate_a_post(ws: str, tmp_path: Path) -> None:
    a = cnt_file(tmp_path / "a.csv", range(1, 61))
    b = cnt_file(tmp_path / "b.csv", range(41, 101))
    report = rrm_json("ingest", str(a), str(b), "-w", ws)
    assert isinstance(report, dict)
    assert [(x["stored"], x["duplicates"]) for x in report["batches"]] == [(60, 0), (40, 20)]
    with _store(ws).connect() as db:
        rows = db.execute("SELECT count(*), count(DISTINCT (platform, post_id)) FROM posts").fetchone()
    assert rows == (100, 100)


def _store(ws: str) -> CorpusStore:
    from rrm.workspace import Workspace

    return CorpusStore(Workspace.resolve(ws))


def test_batches_record_the_provenance_of_each_input(ws: str, tmp_path: Path) -> None:
    path = cnt_file(tmp_path / "a.csv", range(1, 11), extra="11,only-two\n")
    before = datetime.now(UTC)
    rrm("ingest", str(path), "-w", ws)
    rrm("ingest", str(path), "-w", ws, "--force")
    batches = rrm_json("corpus", "batches", "-w", ws)
    assert isinstance(batches, list) and len(batches) == 2
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    for batch, (stored, duplicates) in zip(batches, [(10, 0), (0, 10)], strict=True):
        assert batch["source"] == str(path)
        assert batch["sha256"] == digest
        assert batch["format"] == "cnt"
        assert (batch["input_bytes"], batch["settings"]) == (path.stat().st_size, '{"map":{},"platform":null}')
        assert (batch["records_read"], batch["stored"], batch["duplicates"], batch["rejected"]) == (11, stored, duplicates, 1)
        finished = datetime.fromisoformat(batch["finished_at"])
        assert before - timedelta(seconds=1) <= datetime.fromisoformat(batch["started_at"]) <= finished
        assert finished <= datetime.now(UTC)
    assert batches[0]["batch_id"] != batches[1]["batch_id"]

    code, table = rrm("corpus", "batches", "-w", ws)
    assert code == 0
    assert batches[0]["batch_id"] in table and digest[:12] in table and "a.csv" in table


def test_quarantine_lists_file_line_field_and_reason(ws: str, tmp_path: Path) -> None:
    path = cnt_file(tmp_path / "q.csv", range(1, 4), extra="4,u4,user_4,,,text,yesterday,\n5,short\n")
    code, output = rrm("ingest", str(path), "-w", ws)
    assert code == 0
    assert "rrm corpus quarantine" in output
    records = rrm_json("corpus", "quarantine", "-w", ws)
    assert isinstance(records, list)
    assert [(r["source"], r["line"], r["field"]) for r in records] == [(str(path), 5, "created_at"), (str(path), 6, None)]
    assert records[0]["reason"] == "unreadable or out-of-range time 'yesterday'"
    assert records[1]["reason"] == "expected 8 columns, found 2"
    code, table = rrm("corpus", "quarantine", "-w", ws)
    assert code == 0
    assert "yesterday" in table and "expected 8 columns, found 2" in table

    only = rrm_json("corpus", "quarantine", "-w", ws, "--batch", records[0]["batch_id"], "--limit", "1")
    assert isinstance(only, list) and len(only) == 1


def test_terminal_control_sequences_in_adversary_text_are_neutralised(ws: str, tmp_path: Path) -> None:
    hostile = "\x1b]0;owned\x07\x1b[2J\u202etxt.exe"
    path = cnt_file(tmp_path / "evil.csv", range(1, 3), extra=f"3,{hostile}\n")  # excerpt: the raw record
    rrm("ingest", str(path), "-w", ws)
    code, table = rrm("corpus", "quarantine", "-w", ws)
    assert code == 0
    assert "\x1b" not in table and "\u202e" not in table and "\x07" not in table
    assert "\\x1b]0;owned" in table  # shown, as visible codes


def test_format_detection_and_a_contradicting_format(ws: str, tmp_path: Path) -> None:
    path = cnt_file(tmp_path / "a.csv", range(1, 4))
    code, output = rrm("ingest", str(path), "-w", ws, "--format", "x-io-archive")
    assert code == 2
    assert f"{path}: does not look like x-io-archive: missing columns" in " ".join(output.split())
    assert _store(ws).batches() == []
    assert post_count(ws) == 0
    report = rrm_json("ingest", str(path), "-w", ws)
    assert isinstance(report, dict) and report["batches"][0]["format"] == "cnt"


def test_an_unknown_format_name(ws: str, tmp_path: Path) -> None:
    code, output = rrm("ingest", str(cnt_file(tmp_path / "a.csv", range(1, 3))), "-w", ws, "--format", "nope")
    assert code == 2
    assert "Error: unknown format 'nope'; known formats:" in output


def test_formats_are_listed(ws: str) -> None:
    formats = rrm_json("formats")
    assert isinstance(formats, dict)
    assert {"cnt", "coortweet", "coortweet-multi", "fivethirtyeight-ira", "x-io-archive"} <= set(formats)


# --- stats and export ------------------------------------------------------------------------


def test_stats(ws: str, tmp_path: Path) -> None:
    rrm("ingest", str(cnt_file(tmp_path / "a.csv", range(1, 31), extra="31,x\n")), "-w", ws)
    stats = rrm_json("corpus", "stats", "-w", ws, "--top", "2")
    assert isinstance(stats, dict)
    assert (stats["posts"], stats["accounts"], stats["batches"], stats["rejected"]) == (30, 3, 1, 1)
    assert stats["platforms"] == [["twitter", 30]]
    assert stats["kinds"] == [["post", 30]]
    assert datetime.fromisoformat(stats["first_post"]) == datetime.fromtimestamp(T0 + 1, UTC)
    assert datetime.fromisoformat(stats["last_post"]) == datetime.fromtimestamp(T0 + 30, UTC)
    assert stats["top_domains"] == [["example.com", 30]]
    assert stats["top_hashtags"] == [["tag0", 15], ["tag1", 15]]
    assert len(stats["top_accounts"]) == 2
    assert stats["top_accounts"][0][2] == 10
    code, text = rrm("corpus", "stats", "-w", ws)
    assert code == 0
    assert "30 posts by 3 accounts in 1 batches (1 records rejected)" in text


def test_stats_of_an_empty_corpus(ws: str) -> None:
    stats = rrm_json("corpus", "stats", "-w", ws)
    assert isinstance(stats, dict)
    assert (stats["posts"], stats["accounts"], stats["first_post"], stats["top_domains"]) == (0, 0, None, [])


def _exported_rows(ws: str) -> list[dict[str, object]]:
    with _store(ws).connect() as db:
        cursor = db.execute("SELECT * FROM posts ORDER BY created_at")
        names = [d[0] for d in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_export_parquet_reads_back_the_same_posts(ws: str, tmp_path: Path) -> None:
    rrm("ingest", str(cnt_file(tmp_path / "a.csv", range(1, 21))), "-w", ws)
    target = tmp_path / "out" / "posts.parquet"
    code, output = rrm("corpus", "export", str(target), "-w", ws)
    assert code == 0
    assert "wrote 20 posts" in output
    table = pq.read_table(target)
    assert table.num_rows == 20
    assert table.to_pylist() == _exported_rows(ws)
    assert table.column("urls_canonical").to_pylist()[0] == ["https://example.com/1"]


def test_export_csv_reads_back_the_same_posts(ws: str, tmp_path: Path) -> None:
    tricky = '"quoted, with comma and\nnewline"'
    extra = f"21,u9,user_9,,,{tricky},{T0 + 21},https://a.example/x https://b.example/y\n"
    rrm("ingest", str(cnt_file(tmp_path / "a.csv", range(1, 21), extra=extra)), "-w", ws)
    target = tmp_path / "posts.csv"
    code, _ = rrm("corpus", "export", str(target), "-w", ws, "--format", "csv")
    assert code == 0
    with target.open(newline="", encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    expected = _exported_rows(ws)
    assert len(exported) == len(expected) == 21
    for got, want in zip(exported, expected, strict=True):
        assert got["post_id"] == want["post_id"]
        assert got["text"] == want["text"]
        assert got["urls_canonical"] == "|".join(want["urls_canonical"])  # type: ignore[arg-type]
        assert datetime.fromisoformat(got["created_at"]) == want["created_at"]
    last = exported[-1]
    assert last["text"] == "quoted, with comma and\nnewline"
    assert last["urls"] == "https://a.example/x|https://b.example/y"


# --- URLs: downloaded from a server the test starts ------------------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    folder = tmp_path / "site"
    folder.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_ingest_from_a_url(ws: str, tmp_path: Path, server: str) -> None:
    site = tmp_path / "site"
    cnt_file(site / "posts.csv", range(1, 6))
    with zipfile.ZipFile(site / "more.zip", "w") as archive:
        archive.writestr("x.csv", HEADER + f"6,u1,user_1,,,hi,{T0},\n")
        archive.writestr("y.csv", HEADER + f"7,u1,user_1,,,hi,{T0},\n")
    report = rrm_json("ingest", f"{server}/posts.csv", f"{server}/missing.csv", f"{server}/more.zip", "-w", ws, exit_code=2)
    assert isinstance(report, dict)
    assert [(b["source"], b["stored"]) for b in report["batches"]] == [
        (f"{server}/posts.csv", 5),
        (f"{server}/more.zip!x.csv", 1),
        (f"{server}/more.zip!y.csv", 1),
    ]
    assert report["failures"] == [f"{server}/missing.csv: the server answered HTTP 404"]
    staging = Path(ws) / "corpus" / "staging"
    assert [p.name for p in staging.iterdir() if p.name != "duckdb-tmp"] == []  # downloads are removed


def test_map_without_format_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "posts.csv"
    data.write_text("id,user,time\n1,2,1606451170\n")
    result = CliRunner().invoke(app, ["ingest", str(data), "--map", "post_id=id", "-w", str(tmp_path / "ws")])
    assert result.exit_code == 2
    assert "--map describes the columns of a named format" in result.output
