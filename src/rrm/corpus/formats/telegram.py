"""Telegram Desktop exports (``result.json``): one channel or group, or a whole account's chats.

A channel export is ``{"name", "type", "id", "messages": [...]}``; a full export nests the same objects
under ``chats.list`` (and ``left_chats.list``). The file is read with an incremental JSON parser, one
message at a time, so its size does not matter. Each message becomes a post of platform ``telegram``:

- ``post_id`` is ``<chat id>/<message id>`` (message ids restart in every chat);
- the account is the sender's ``from_id`` (``channel123``, ``user456``), or the channel itself;
- ``forwarded_from`` (the original's name; ``forwarded_from_id`` where the export has it) makes the
  message a reshare of that account; ``reply_to_message_id`` a reply within the chat;
- links, hashtags and mentions come from the text entities (``link``, ``text_link``, ``hashtag``,
  ``mention``, ``mention_name``); the time from ``date_unixtime``, else ``date``.

Service messages (joins, pins...) are skipped. A record's "line" is its position among the messages
of the file, since the parser does not count lines. Invalid JSON ends the reading there: messages
before it are kept and the rest of the file is reported in the quarantine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import IO, ClassVar

import ijson

from rrm.corpus.formats.base import IngestFormat, RawBatch, Rejection, excerpt
from rrm.corpus.formats.mapped import batched, text_value, without_options
from rrm.corpus.formats.registry import mismatch, register

__all__ = ["TelegramFormat"]

Record = dict[str, object]
_CHAT_PARENTS = ("", "chats.list.item", "left_chats.list.item")
_MESSAGES = {f"{parent}.messages.item".lstrip("."): parent for parent in _CHAT_PARENTS}
_CHAT_TYPE = re.compile(
    r'"type"\s*:\s*"(?:public_channel|private_channel|personal_chat|private_group|private_supergroup|'
    r'public_supergroup|bot_chat|saved_messages)"'
)


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _entities(message: Mapping[str, object]) -> tuple[str | None, list[Mapping[str, object]] | None]:
    """The message text, and its entities when the export gives them."""
    text, entities = message.get("text"), message.get("text_entities")
    parts = entities if isinstance(entities, list) else text if isinstance(text, list) else None
    if parts is None:
        return (text if isinstance(text, str) else None), None
    pieces: list[str] = []
    found: list[Mapping[str, object]] = []
    for part in parts:
        if isinstance(part, str):
            pieces.append(part)
        elif isinstance(part, dict):
            value = part.get("text")
            pieces.append(value if isinstance(value, str) else "")
            found.append(part)
    return "".join(pieces) or None, found


def _message_record(message: Mapping[str, object], chat: Mapping[str, object]) -> Record:
    chat_id = _text(chat.get("id"))
    message_id = _text(message.get("id"))
    is_channel = "channel" in (_text(chat.get("type")) or "")
    sender = _text(message.get("from_id")) or (f"channel{chat_id}" if is_channel and chat_id else None)
    text, entities = _entities(message)
    urls: list[str] = []
    hashtags: list[str] = []
    mentions: list[str] = []
    for entity in entities or []:
        kind, value = entity.get("type"), _text(entity.get("text"))
        if kind == "link" and value:
            urls.append(value)
        elif kind == "text_link" and (href := _text(entity.get("href"))):
            urls.append(href)
        elif kind == "hashtag" and value:
            hashtags.append(value)
        elif kind == "mention" and value:
            mentions.append(value)
        elif kind == "mention_name" and (user := _text(entity.get("user_id"))):
            mentions.append(f"user{user}")
    reply = _text(message.get("reply_to_message_id"))
    forwarded = _text(message.get("forwarded_from_id")) or _text(message.get("forwarded_from"))
    record: Record = {
        "post_id": f"{chat_id}/{message_id}" if message_id else None,
        "account_id": sender,
        "display_name": _text(message.get("from")) or (_text(chat.get("name")) if sender and is_channel else None),
        "created_at": _text(message.get("date_unixtime")) or _text(message.get("date")),
        "text": text,
        "reshare_of_account": forwarded,
        "kind": "reshare" if forwarded else None,
        "reply_to_post": f"{chat_id}/{reply}" if reply else None,
    }
    if entities is not None:
        record.update(urls=urls, hashtags=hashtags, mentions=mentions)
    return record


class TelegramFormat(IngestFormat):
    name: ClassVar[str] = "telegram"
    description: ClassVar[str] = "Telegram Desktop JSON export (result.json of a channel, group or account)"
    platform: ClassVar[str] = "telegram"

    def sniff(self, head: bytes, name: str) -> float:
        text = head.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
        if text[:1] != "{" or '"messages"' not in text:
            return 0.0
        if '"date_unixtime"' in text or _CHAT_TYPE.search(text):
            return 0.95
        return 0.3

    def _messages(self, stream: IO[bytes], source: str) -> Iterator[tuple[int, Record] | Rejection]:
        chat: dict[str, object] = {}
        builder: ijson.ObjectBuilder | None = None
        current = ""
        number = 0
        seen_messages = False
        events = ijson.parse(stream, use_float=True)
        try:
            for prefix, event, value in events:
                if builder is not None:
                    builder.event(event, value)
                    if prefix == current and event == "end_map":
                        number += 1
                        yield from self._one(builder.value, chat, number, source)
                        builder = None
                    continue
                if prefix in _MESSAGES:
                    seen_messages = True
                    if event == "start_map":
                        builder, current = ijson.ObjectBuilder(), prefix
                        builder.event(event, value)
                    elif event != "end_array":
                        number += 1
                        yield Rejection(source, number, None, "a message must be a JSON object", excerpt(text_value(value)))
                elif event == "start_map" and prefix in _CHAT_PARENTS[1:]:
                    chat = {}
                elif event in ("string", "number"):
                    parent, _, key = prefix.rpartition(".")
                    if key in ("id", "name", "type") and parent in _CHAT_PARENTS:
                        chat[key] = value
                elif prefix == "" and event == "start_array":
                    raise mismatch(self, source, "a JSON array, not an export object with 'messages'")
        except ijson.JSONError as exc:
            problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if not seen_messages:
                raise mismatch(self, source, f"not readable JSON before any message ({problem})") from exc
            yield Rejection(source, number + 1, None,
                            f"invalid JSON after message {number}; the rest of the file was not read ({problem})")
            return
        if not seen_messages:
            raise mismatch(self, source, "no 'messages' list (a Telegram export has 'name', 'type', 'id', 'messages')")

    def _one(self, message: object, chat: Mapping[str, object], number: int, source: str) -> Iterator[
        tuple[int, Record] | Rejection
    ]:
        if not isinstance(message, dict):
            return
        if message.get("type", "message") != "message":
            return
        if _text(chat.get("id")) is None:
            yield Rejection(source, number, "id", "the chat's id must come before its messages", excerpt(text_value(message)))
            return
        yield number, _message_record(message, chat)

    def read(self, stream: IO[bytes], source: str, batch_size: int) -> Iterator[RawBatch]:
        return batched(self._messages(stream, source), batch_size)


register(TelegramFormat.name, TelegramFormat.description, without_options(TelegramFormat.name, TelegramFormat))
