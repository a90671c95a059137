"""The eight-column CSV of the QUT coordination-network-toolkit.

``message_id, user_id, username, repost_id, reply_id, message, timestamp, urls``: the toolkit's own
input format, so that its users can bring their files unchanged. ``urls`` is a space-separated list
or a Python-style list.
"""

from __future__ import annotations

from rrm.corpus.formats.csv_table import CsvSpec, CsvTableFormat
from rrm.corpus.formats.registry import register

SPEC = CsvSpec(
    name="cnt",
    description="coordination-network-toolkit 8-column CSV",
    platform="twitter",
    fields={
        "post_id": "message_id",
        "account_id": "user_id",
        "handle": "username",
        "reshare_of_post": "repost_id",
        "reply_to_post": "reply_id",
        "text": "message",
        "created_at": "timestamp",
        "urls": "urls",
    },
    required=("message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls"),
)

register(SPEC.name, SPEC.description, lambda options: CsvTableFormat(SPEC))
