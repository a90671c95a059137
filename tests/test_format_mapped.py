"""Any CSV or JSON Lines through a --map mapping: field names, required fields and columns checked."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rrm.cli.app import app
from rrm.corpus import CorpusStore, ingest
from rrm.corpus.formats import get_format
from rrm.corpus.formats.mapped import JsonRecord, iter_json, resolve_path, text_value
from rrm.errors import FormatMismatchError, MappingError

CSV_MAP = {"post_id": "id", "account_id": "user", "created_at": "time", "text": "body"}


def _posts(store: CorpusStore, columns: str) -> list[tuple[Any, ...]]:
    with store.connect() as db:
        return db.execute(f"SELECT {columns} FROM posts ORDER BY source_line").fetchall()


def test_csv_with_a_mapping(store: CorpusStore, tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text(
        "id,user,time,body,extra\n"
        "1,alice,2024-05-06T10:00:00Z,see https://a.example/x #One,ignored\n"
        "2,bob,1715000000,plain,\n"
        "3,carol,not a time,bad time,\n"
        "4,dave\n"
        ",erin,2024-05-06T11:00:00Z,no id,\n"
        "6,frank,2024-05-06T12:00:00Z,\"multi\nline\",x\n"
    )
    report = ingest(store, [str(path)], format_name="csv", options=dict(CSV_MAP), platform="forum")
    assert [(b.format, b.stored, b.rejected) for b in report.batches] == [("csv", 3, 3)]
    assert _posts(store, "platform, post_id, account_id, created_at::VARCHAR, text, urls, hashtags") == [
        ("forum", "1", "alice", "2024-05-06 10:00:00+00", "see https://a.example/x #One", ["https://a.example/x"], ["one"]),
        ("forum", "2", "bob", "2024-05-06 12:53:20+00", "plain", [], []),
        ("forum", "6", "frank", "2024-05-06 12:00:00+00", "multi\nline", [], []),
    ]
    assert sorted((q.line, q.field) for q in store.quarantine()) == [(4, "created_at"), (5, None), (6, "post_id")]


def test_csv_delimiter_and_time_format(store: CorpusStore, tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("id;user;time;tags\n1;alice;06/05/2024 10:30;[Wahl, EU]\n")
    options = {"post_id": "id", "account_id": "user", "created_at": "time", "hashtags": "tags",
               "delimiter": ";", "time_format": "%d/%m/%Y %H:%M"}
    ingest(store, [str(path)], format_name="csv", options=options)
    assert _posts(store, "created_at::VARCHAR, list_sort(hashtags)") == [("2024-05-06 10:30:00+00", ["eu", "wahl"])]


@pytest.mark.parametrize(
    ("options", "message", "field"),
    [
        ({**CSV_MAP, "txet": "body"}, "unknown field 'txet' in the mapping for csv; fields are platform, post_id", "txet"),
        ({"post_id": "id", "text": "body"},
         "the mapping for csv must name the column of account_id, created_at (--map account_id=COLUMN "
         "--map created_at=COLUMN)", "account_id"),
        ({**CSV_MAP, "delimiter": ";;"}, "the delimiter must be one character (or 'tab'), got ';;'", "delimiter"),
    ],
)
def test_bad_mappings_are_refused_before_reading(options: dict[str, str], message: str, field: str) -> None:
    with pytest.raises(MappingError) as caught:
        get_format("csv", options)
    assert caught.value.message.startswith(f"field {field!r}: {message}")
    assert caught.value.field == field


def test_mapped_columns_absent_from_the_header(store: CorpusStore, tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("id,author,time\n1,alice,2024-05-06T10:00:00Z\n")
    options = {**CSV_MAP, "handle": "screen_name"}
    report = ingest(store, [str(path)], format_name="csv", options=options)
    [failure] = report.failures
    assert isinstance(failure, MappingError)
    assert failure.message == (
        f"{path}, line 1, field 'account_id': mapped columns 'user' (for account_id), 'body' (for text), "
        "'screen_name' (for handle) not in the header"
    )
    assert report.batches == []


JSONL_MAP = {"post_id": "id", "account_id": "user.id", "handle": "user.name", "created_at": "ts",
             "urls": "links.url", "hashtags": "tags", "reshare_of_post": "shared.0", "followers": "user.stats.followers"}


def _json_lines() -> list[str]:
    return [
        json.dumps({"id": 1, "user": {"id": 10, "name": "@Alice", "stats": {"followers": 5}}, "ts": 1715000000,
                    "links": [{"url": "https://a.example/1"}, {"url": "https://b.example/2"}], "tags": ["Wahl"],
                    "shared": ["99", "98"]}),
        '{"id": 2, "user": {"id": 11}, "ts": "2024-05-06T10:00:00Z"',
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": 3, "user": {"id": 12, "name": "carol"}, "ts": "2024-05-06T11:00:00+02:00", "tags": "x y"}),
        json.dumps({"id": 4, "user": "flat", "ts": "2024-05-06T11:00:00Z"}),
        "",
        json.dumps({"id": True, "user": {"id": 13}, "ts": "2024-05-06T12:00:00Z", "extra": {"deep": [1, 2]}}),
    ]


def test_jsonl_with_dotted_paths(store: CorpusStore, tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(_json_lines()) + "\n")
    report = ingest(store, [str(path)], format_name="jsonl", options=dict(JSONL_MAP))
    assert [(b.format, b.stored, b.rejected) for b in report.batches] == [("jsonl", 3, 3)]
    assert _posts(store, "post_id, account_id, handle, created_at::VARCHAR, urls, list_sort(hashtags), reshare_of_post, kind, "
                         "source_line") == [
        ("1", "10", "Alice", "2024-05-06 12:53:20+00", ["https://a.example/1", "https://b.example/2"], ["wahl"], "99",
         "reshare", 1),
        ("3", "12", "carol", "2024-05-06 09:00:00+00", [], ["x", "y"], None, "post", 4),
        ("true", "13", None, "2024-05-06 12:00:00+00", [], [], None, "post", 7),
    ]
    assert sorted((q.line, q.field, q.reason) for q in store.quarantine()) == [
        (2, None, "invalid JSON: the line ends inside the record"),
        (3, None, "expected a JSON object, found list"),
        (5, "account_id", "missing required field account_id"),
    ]
    with store.connect() as db:
        assert db.execute("SELECT followers FROM accounts WHERE account_id = '10'").fetchone() == (5,)


def test_jsonl_path_found_in_no_record_is_a_mapping_error(store: CorpusStore, tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(_json_lines()) + "\n")
    options = {**JSONL_MAP, "account_id": "usr.id"}
    report = ingest(store, [str(path)], format_name="jsonl", options=options)
    [failure] = report.failures
    assert isinstance(failure, MappingError)
    assert failure.message == f"{path}, field 'account_id': no record of the first 4 has the path 'usr.id' (for account_id)"


def test_jsonl_refuses_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text("id,user\n1,2\n")
    with pytest.raises(FormatMismatchError, match="does not look like jsonl: line 1 starts with 'id,user'"):
        list(get_format("jsonl", dict(JSONL_MAP)).read(path.open("rb"), str(path), 10))


def test_resolve_path() -> None:
    record = {"a": {"b": [{"c": 1}, {"c": [2, 3]}, {"d": 4}]}, "e": [5, 6]}
    assert resolve_path(record, ("a", "b", "c")) == [1, 2, 3]
    assert resolve_path(record, ("e", "-1")) == 6
    assert resolve_path(record, ("e", "7")) is None
    assert resolve_path(record, ("a", "x", "y")) is None
    assert resolve_path(record, ("e", "0", "z")) is None


def test_text_value() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    assert text_value(deep) == "(nested too deeply to show)"
    assert [text_value(v) for v in (None, "a", True, 3, 1.5, {"k": ["é"]})] == [None, "a", "true", "3", "1.5", '{"k":["é"]}']


def _scan(data: bytes) -> list[object]:
    fmt = get_format("jsonl", dict(JSONL_MAP))
    return [(r.line, r.value) if isinstance(r, JsonRecord) else (r.line, r.reason) for r in
            iter_json(io.BytesIO(data), "s", fmt)]


def test_json_scanner_layouts_and_recovery() -> None:
    pretty = b'{\n "id": 1,\n "t": "a } \\" ["\n}\n{\n "id": 2,\n "s": "cut\n "q": 1\n}\n{\n "id": 3\n}\n'
    assert _scan(pretty) == [
        (1, {"id": 1, "t": 'a } " ['}), (5, "invalid JSON: unterminated string on line 7"),
        (8, "unexpected text outside a JSON record"), (10, {"id": 3}),
    ]
    assert _scan(b'[\n {"id": 1},\n {"id": 2}, 7,\n {"id": 3}]') == [
        (2, {"id": 1}), (3, {"id": 2}), (3, "unexpected text outside a JSON record"), (4, {"id": 3}),
    ]
    assert _scan(b'\xef\xbb\xbf{"id": 1}\n{"id": 2, "x": {\n') == [(1, {"id": 1}), (2, "invalid JSON: the line ends inside the record")]
    deep = b'{"a": ' + b"[" * 50_000 + b"]" * 50_000 + b"}\n"
    assert _scan(deep + b'{"id": 9}\n') == [(1, "invalid JSON: nested too deeply"), (2, {"id": 9})]
    assert _scan(b'{"id": "\xff"}\n') == [(1, "invalid JSON: invalid UTF-8")]


def test_cli_csv_mapping(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("id\tuser\ttime\n1\talice\t2024-05-06T10:00:00Z\n")
    workspace = str(tmp_path / "ws")
    runner = CliRunner()
    args = ["ingest", str(path), "--format", "csv", "--map", "post_id=id", "--map", "account_id=user",
            "--map", "created_at=time", "--map", "delimiter=tab", "--workspace", workspace, "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert [(b["format"], b["stored"]) for b in json.loads(result.output)["batches"]] == [("csv", 1)]
    bad = runner.invoke(app, ["ingest", str(path), "--format", "csv", "--map", "post_id=id", "--workspace", workspace])
    assert bad.exit_code == 2
    assert "Error: field 'account_id': the mapping for csv must name the column of account_id, created_at" \
        in " ".join(bad.output.split())


def test_cli_jsonl_mapping(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(_json_lines()) + "\n")
    workspace = str(tmp_path / "ws")
    args = ["ingest", str(path), "--format", "jsonl", "--workspace", workspace, "--json"]
    for field, column in JSONL_MAP.items():
        args += ["--map", f"{field}={column}"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert [(b["format"], b["stored"], b["rejected"]) for b in json.loads(result.output)["batches"]] == [("jsonl", 3, 3)]


TIME_SHAPES = [
    "2024-05-06 10:30:00",  # the plain forms are parsed by exact patterns, the others by a cast
    "2024-05-06T10:30:00",
    "2024-05-06",
    "2024-05-06T10:30:00+02:00",
    "2024-05-06 10:30:00Z",
    "2024-05-06T10:30:00.123456Z",
    "2024-05-06 10:30:00.5",
    "2024-05-06 23:30:00-05",
    "2024-5-6 1:2:3",
    "1715000000",
    "1715000000.25",
    "1715000000123",
]


def test_every_shape_of_time_is_read_as_the_instant_it_names(store: CorpusStore, tmp_path: Path) -> None:
    path = tmp_path / "times.csv"
    path.write_text("id,user,time,account_since\n" + "".join(
        f"{i},u{i},{shape},{shape}\n" for i, shape in enumerate(TIME_SHAPES)
    ))
    options = {**CSV_MAP, "account_created_at": "account_since"}
    options.pop("text")
    ingest(store, path, format_name="csv", options=options)  # one path, as a notebook gives it
    with store.connect() as db:
        rows = db.execute("SELECT p.post_id, epoch_us(p.created_at), epoch_us(a.account_created_at) "
                          "FROM posts p JOIN accounts a USING (platform, account_id) ORDER BY p.source_line").fetchall()
    expected = []
    for i, shape in enumerate(TIME_SHAPES):
        if shape.replace(".", "").isdigit():
            number = float(shape)
            seconds = number if number < 1e11 else number / 1000
        else:
            padded = "-".join(part.zfill(2) for part in shape[:8].split("-")) if shape == "2024-5-6 1:2:3" else shape
            when = datetime.fromisoformat("2024-05-06 01:02:03" if shape == "2024-5-6 1:2:3" else padded)
            seconds = (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
        expected.append((str(i), round(seconds * 1_000_000), round(seconds * 1_000_000)))
    assert rows == expected


def test_hashtags_and_mentions_are_lower_cased_once_each_in_order(store: CorpusStore, tmp_path: Path) -> None:
    path = tmp_path / "tags.csv"
    path.write_text("id,user,time,body,handle\n"
                    "1,u1,2024-05-06T10:00:00Z,#Zeta #alpha #ZETA ＃Mid @Bob @bob @Al_1 x@notamention,@@Someone\n")
    ingest(store, [path], format_name="csv", options={**CSV_MAP, "handle": "handle"})
    assert _posts(store, "hashtags, mentions, handle") == [(["alpha", "mid", "zeta"], ["al_1", "bob"], "Someone")]


def test_times_without_an_offset_are_utc_whatever_the_machines_time_zone(tmp_path: Path) -> None:
    path = tmp_path / "times.csv"
    path.write_text("id,user,time\n1,u1,2024-05-06T10:30:00\n2,u2,2024-05-06 10:30:00.5\n3,u3,06/05/2024 10:30\n")
    options = {"post_id": "id", "account_id": "user", "created_at": "time", "time_format": "%d/%m/%Y %H:%M"}
    script = (
        "import sys; from rrm.corpus import CorpusStore, ingest; from rrm.workspace import Workspace\n"
        "store = CorpusStore(Workspace.resolve(sys.argv[1]).ensure())\n"
        f"ingest(store, [sys.argv[2]], format_name='csv', options={options!r})\n"
        "with store.connect() as db:\n"
        "    print(db.execute('SELECT list(epoch(created_at) ORDER BY post_id) FROM posts').fetchone()[0])\n"
    )
    env = {**os.environ, "TZ": "America/New_York"}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "ws"), str(path)],
                          env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[1714991400.0, 1714991400.5, 1714991400.0]"
