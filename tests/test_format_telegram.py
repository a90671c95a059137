"""Telegram Desktop exports: channel result.json and full account exports, read message by message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rrm.cli.app import app
from rrm.corpus import CorpusStore, ingest
from rrm.corpus.formats import detect, get_format
from rrm.errors import FormatMismatchError, MappingError

CHANNEL_ID = 1712345678


def _message(mid: int, unix: int, text: object, **extra: Any) -> dict[str, Any]:
    """A message as Telegram Desktop writes it: local time in ``date``, unix time as a string."""
    entities = text if isinstance(text, list) else [{"type": "plain", "text": text}]
    return {
        "id": mid, "type": "message", "date": "2024-03-01T12:00:00", "date_unixtime": str(unix),
        "from": "Voice of Truth", "from_id": f"channel{CHANNEL_ID}", "text": text,
        "text_entities": [e if isinstance(e, dict) else {"type": "plain", "text": e} for e in entities], **extra,
    }


def channel_export(messages: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A small but realistic channel export: posts with entities, a forward, a reply, a photo, a service message."""
    base = 1709294400  # 2024-03-01T12:00:00Z
    default = [
        {"id": 1, "type": "service", "date": "2024-03-01T11:59:00", "date_unixtime": str(base - 60),
         "actor": "Voice of Truth", "actor_id": f"channel{CHANNEL_ID}", "action": "create_channel",
         "title": "Voice of Truth", "text": "", "text_entities": []},
        _message(2, base, ["Read ", {"type": "text_link", "text": "this", "href": "https://pravda-news.example/a?utm_medium=tg"},
                           " ", {"type": "hashtag", "text": "#Moldova"}, " via ", {"type": "mention", "text": "@newsbot"}]),
        _message(3, base + 30, ["Mirror: ", {"type": "link", "text": "https://mirror.example/a"}],
                 forwarded_from="Patriot Channel", photo="photos/photo_1@01-03-2024_12-00-30.jpg",
                 width=1280, height=720),
        _message(4, base + 90, "Plain words #notatag", reply_to_message_id=2, edited="2024-03-01T12:05:00",
                 edited_unixtime=str(base + 300)),
    ]
    return {"name": "Voice of Truth", "type": "public_channel", "id": CHANNEL_ID,
            "messages": default if messages is None else messages}


def _write(path: Path, export: object) -> Path:
    path.write_text(json.dumps(export, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def _posts(store: CorpusStore, columns: str) -> list[tuple[Any, ...]]:
    with store.connect() as db:
        return db.execute(f"SELECT {columns} FROM posts ORDER BY source_line").fetchall()


def test_channel_export(store: CorpusStore, tmp_path: Path) -> None:
    path = _write(tmp_path / "result.json", channel_export())
    report = ingest(store, [str(path)])
    assert [(b.format, b.records_read, b.stored, b.rejected) for b in report.batches] == [("telegram", 3, 3, 0)]
    rows = _posts(store, "platform, post_id, account_id, display_name, kind, text, reshare_of_account, reply_to_post, "
                         "urls_canonical, hashtags, mentions, created_at::VARCHAR, source_line")
    assert rows == [
        ("telegram", f"{CHANNEL_ID}/2", f"channel{CHANNEL_ID}", "Voice of Truth", "post", "Read this #Moldova via @newsbot",
         None, None, ["https://pravda-news.example/a"], ["moldova"], ["newsbot"], "2024-03-01 12:00:00+00", 2),
        ("telegram", f"{CHANNEL_ID}/3", f"channel{CHANNEL_ID}", "Voice of Truth", "reshare",
         "Mirror: https://mirror.example/a", "Patriot Channel", None, ["https://mirror.example/a"], [], [],
         "2024-03-01 12:00:30+00", 3),
        ("telegram", f"{CHANNEL_ID}/4", f"channel{CHANNEL_ID}", "Voice of Truth", "reply", "Plain words #notatag",
         None, f"{CHANNEL_ID}/2", [], ["notatag"], [], "2024-03-01 12:01:30+00", 4),
    ]


def test_post_ids_stay_apart_across_channels_and_full_exports(store: CorpusStore, tmp_path: Path) -> None:
    other = channel_export([_message(2, 1709294400, "same id, other channel")])
    other["id"], other["name"] = 1700000001, "Other"
    group = {"name": "Chat", "type": "private_supergroup", "id": 1700000002, "messages": [
        _message(2, 1709294500, "hello", **{"from": "Ann", "from_id": "user42"}),
    ]}
    full = {"about": "export", "personal_information": {"user_id": 7, "first_name": "Me"},
            "chats": {"about": "chats", "list": [channel_export(), other, group]}}
    path = _write(tmp_path / "result.json", full)
    report = ingest(store, [str(path)], format_name="telegram")
    assert report.stored == 5
    rows = _posts(store, "post_id, account_id")
    assert (f"{CHANNEL_ID}/2", f"channel{CHANNEL_ID}") in rows
    assert ("1700000001/2", f"channel{CHANNEL_ID}") in rows
    assert ("1700000002/2", "user42") in rows


def test_old_exports_without_from_id_use_the_channel(store: CorpusStore, tmp_path: Path) -> None:
    message = _message(5, 1709294400, "old style")
    del message["from_id"], message["text_entities"]
    path = _write(tmp_path / "result.json", channel_export([message]))
    ingest(store, [str(path)], format_name="telegram")
    assert _posts(store, "post_id, account_id, text, urls") == [(f"{CHANNEL_ID}/5", f"channel{CHANNEL_ID}", "old style", [])]


def test_bad_messages_are_quarantined_and_the_rest_kept(store: CorpusStore, tmp_path: Path) -> None:
    no_time = _message(6, 0, "no time")
    del no_time["date"], no_time["date_unixtime"]
    messages = [
        _message(2, 1709294400, "fine"),
        "not an object",
        no_time,
        _message(7, 1709294460, "also fine", id=None),
        _message(8, 1709294520, "fine too"),
    ]
    path = _write(tmp_path / "result.json", channel_export(messages))
    report = ingest(store, [str(path)], format_name="telegram")
    assert report.stored == 2
    assert [r[0] for r in _posts(store, "post_id")] == [f"{CHANNEL_ID}/2", f"{CHANNEL_ID}/8"]
    assert sorted((q.line, q.field, q.reason) for q in store.quarantine()) == [
        (2, None, "a message must be a JSON object"),
        (3, "created_at", "missing required field created_at"),
        (4, "post_id", "missing required field post_id"),
    ]


def test_truncated_export_keeps_the_messages_before_the_damage(store: CorpusStore, tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    text = json.dumps(channel_export(), indent=1)
    cut = text.index('"id": 4')
    path.write_text(text[:cut] + '"id": 4, "text": "broken')
    report = ingest(store, [str(path)], format_name="telegram")
    assert report.stored == 2
    [rejection] = store.quarantine()
    assert rejection.line == 4
    assert rejection.reason.startswith("invalid JSON after message 3; the rest of the file was not read")


def test_chat_id_after_the_messages_is_reported(store: CorpusStore, tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text('{"name": "x", "messages": [' + json.dumps(_message(1, 1709294400, "hi")) + '], "id": 5}')
    report = ingest(store, [str(path)], format_name="telegram")
    assert report.stored == 0
    assert [(q.line, q.field, q.reason) for q in store.quarantine()] == [
        (1, "id", "the chat's id must come before its messages")
    ]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[1, 2, 3]", "a JSON array, not an export object with 'messages'"),
        ('{"data": [{"id": "1", "text": "x"}]}', "no 'messages' list"),
        ("id,user,time\n1,2,3\n", "not readable JSON before any message"),
    ],
)
def test_other_shapes_are_refused(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "result.json"
    path.write_text(content)
    with pytest.raises(FormatMismatchError, match="does not look like telegram: " + problem):
        list(get_format("telegram").read(path.open("rb"), str(path), 100))


def test_a_mapping_is_refused() -> None:
    with pytest.raises(MappingError, match=r"^field 'post_id': the telegram format takes no --map \(only csv and jsonl do\)"):
        get_format("telegram", {"post_id": "id"})


def test_detection(tmp_path: Path) -> None:
    head = json.dumps(channel_export(), indent=1).encode()[:2000]
    assert detect(head, "result.json").name == "telegram"


def test_cli(tmp_path: Path) -> None:
    path = _write(tmp_path / "result.json", channel_export())
    workspace = str(tmp_path / "ws")
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", str(path), "--format", "telegram", "--workspace", workspace])
    assert result.exit_code == 0, result.output
    assert "telegram" in result.output
    stats = runner.invoke(app, ["corpus", "stats", "--workspace", workspace, "--json"])
    assert json.loads(stats.output)["posts"] == 3
