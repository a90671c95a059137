"""FiveThirtyEight's Internet Research Agency tweets (Linvill & Warren), 21 columns.

Copies of this data passed through spreadsheets often have their ids mangled into scientific
notation (``9.06E+17``), which would merge different tweets into one. The exact ids are recovered
from ``article_url`` (``http://twitter.com/<account>/statuses/<tweet>``); a row whose ids are
mangled and cannot be recovered is rejected rather than stored under a wrong id.
"""

from __future__ import annotations

import re

import pyarrow as pa

from rrm.corpus.formats.base import Rejection, excerpt
from rrm.corpus.formats.csv_table import Columns, CsvSpec, CsvTableFormat
from rrm.corpus.formats.registry import register

_STATUS_URL = re.compile(r"twitter\.com/([^/]+)/status(?:es)?/(\d+)")
_EXACT_ID = re.compile(r"^\d+$")
_LANGUAGES = {
    "english": "en", "russian": "ru", "german": "de", "ukrainian": "uk", "french": "fr", "spanish": "es",
    "italian": "it", "arabic": "ar", "portuguese": "pt", "dutch": "nl", "polish": "pl", "turkish": "tr",
    "japanese": "ja", "serbian": "sr", "bulgarian": "bg", "romanian": "ro", "swedish": "sv", "finnish": "fi",
    "norwegian": "no", "estonian": "et", "lithuanian": "lt", "latvian": "lv", "czech": "cs", "farsi (persian)": "fa",
    "chinese": "zh", "korean": "ko", "hindi": "hi", "uzbek": "uz", "kazakh": "kk", "belarusian": "be",
}


def _exact(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and _EXACT_ID.match(value.strip()) else None


def _recover_ids(arrays: Columns, lines: list[int], source: str) -> tuple[Columns, list[int], list[Rejection]]:
    columns = {name: values.to_pylist() for name, values in arrays.items()}
    keep: list[int] = []
    post_ids: list[str] = []
    account_ids: list[str] = []
    rejections: list[Rejection] = []
    for i, (url, tweet, author) in enumerate(
        zip(columns.pop("_article_url"), columns["post_id"], columns["account_id"], strict=True)
    ):
        match = _STATUS_URL.search(url) if isinstance(url, str) else None
        post_id = match.group(2) if match else _exact(tweet)
        account_id = _exact(author) or (match.group(1) if match and match.group(1).isdigit() else None)
        if post_id is None or account_id is None:
            field = "tweet_id" if post_id is None else "external_author_id"
            shown = tweet if post_id is None else author
            rejections.append(
                Rejection(source, lines[i], field, "id mangled (scientific notation) and not recoverable from article_url",
                          excerpt(shown))
            )
            continue
        keep.append(i)
        post_ids.append(post_id)
        account_ids.append(account_id)
    kept = {name: [values[i] for i in keep] for name, values in columns.items()}
    kept["post_id"] = list(post_ids)
    kept["account_id"] = list(account_ids)
    kept["urls"] = [[u for u in (a, b, c) if isinstance(u, str) and u.strip()] for a, b, c in
                    zip(kept.pop("_tco1"), kept.pop("_tco2"), kept.pop("_tco3"), strict=True)]
    kept["lang"] = [_LANGUAGES.get(v.strip().lower(), v) if isinstance(v, str) else v for v in kept["lang"]]
    kept["kind"] = [
        "reshare" if (flag or "").strip() == "1" or (ptype or "").strip().upper() == "RETWEET"
        else "quote" if (ptype or "").strip().upper() == "QUOTE_TWEET" else "post"
        for flag, ptype in zip(kept.pop("_retweet"), kept.pop("_post_type"), strict=True)
    ]
    return {name: pa.array(values) for name, values in kept.items()}, [lines[i] for i in keep], rejections


SPEC = CsvSpec(
    name="fivethirtyeight-ira",
    description="FiveThirtyEight IRA tweets CSV (Linvill & Warren, 21 columns)",
    platform="twitter",
    fields={
        "post_id": "tweet_id",
        "account_id": "external_author_id",
        "handle": "author",
        "text": "content",
        "location": "region",
        "lang": "language",
        "created_at": "publish_date",
        "following": "following",
        "followers": "followers",
        "_retweet": "retweet",
        "_post_type": "post_type",
        "_article_url": "article_url",
        "_tco1": "tco1_step1",
        "_tco2": "tco2_step1",
        "_tco3": "tco3_step1",
    },
    required=("external_author_id", "author", "content", "publish_date", "account_category", "tweet_id", "article_url",
              "tco1_step1", "tco2_step1", "tco3_step1", "retweet", "post_type"),
    time_formats=("%m/%d/%y %H:%M", "%m/%d/%Y %H:%M"),
    prepare=_recover_ids,
)

register(SPEC.name, SPEC.description, lambda options: CsvTableFormat(SPEC))
