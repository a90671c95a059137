"""From raw batches to the normalised model: one vectorised pass, in DuckDB and Arrow.

``Normaliser.normalise_all`` streams the raw batches of an input through one DuckDB query (planned
once); fields stored as given bypass DuckDB and are put back beside its rows by position.

Times are parsed as unix seconds or milliseconds, ISO 8601, or the format's own strptime patterns,
and must fall between ``EARLIEST`` and a day after now. A record without a post id, an account id
or a readable time is rejected with the field named. URLs, hashtags and mentions the format does not
give are taken from the text; URLs are canonicalised once per distinct value.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rrm._duckdb import arrow_reader, arrow_table, connect, sql_string
from rrm.corpus.formats.base import RawBatch, RawColumn, Rejection, excerpt
from rrm.corpus.schema import ACCOUNT_SCHEMA, LIST_FIELDS, POST_SCHEMA, RAW_FIELDS
from rrm.corpus.urls import canonicalise

__all__ = ["EARLIEST", "NormalisedBatch", "Normaliser"]

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_SCALARS = [f for f in RAW_FIELDS if f not in LIST_FIELDS]
_UTC = pa.timestamp("us", tz="UTC")
_URL_IN_TEXT = r"""https?://[^\s<>"'\)\]\}]*[^\s<>"'\)\]\}.,;:!?…]"""
_HASHTAG_IN_TEXT = r"[#＃]([\p{L}\p{N}_]+)"
_MENTION_IN_TEXT = r"(?:^|[^A-Za-z0-9_.])@([A-Za-z0-9_]{1,50})"
_LIST_TOKENS = r"""[^\[\]'",\s]+"""
_IN_TEXT = {
    "urls": (_URL_IN_TEXT, 0, "://"),
    "hashtags": (_HASHTAG_IN_TEXT, 1, "#"),
    "mentions": (_MENTION_IN_TEXT, 1, "@"),
}
"""For each list field found in text: the pattern, its group, and a marker without which the text has none
(a cheap ``contains`` test spares the regular expression on most texts)."""
_EMPTY_LIST = "[]::VARCHAR[]"
_ISO_SHAPED = "{value} LIKE '____-__-%'"
"""A text with the shape of an ISO 8601 date (characters 5 and 8 are '-'): ``LIKE`` tests it in half the time of
two ``substr``, and the query tests it once per value."""
_TRIMMED = frozenset(
    {"platform", "post_id", "account_id", "handle", "created_at", "kind", "lang", "reshare_of_post",
     "reshare_of_account", "reply_to_post", "reply_to_account", "quote_of_post", "account_created_at",
     "followers", "following"}
)
"""Identifiers, times and counts lose surrounding blanks; texts are kept exactly as written."""
_PASSED = ("post_id", "account_id", "handle", "display_name", "text", "reshare_of_post", "reshare_of_account",
           "reply_to_post", "reply_to_account", "quote_of_post", "profile_text", "location")
"""Fields stored as given (empty meaning absent; a handle loses its leading '@'): they bypass DuckDB, whose output
would copy their strings."""
_TAG_MARKS = {"hashtags": "#＃", "mentions": "@"}
"""List fields stored lower-cased, without these leading characters, each value once per post (in Arrow: as
DuckDB lambdas and ``list_distinct`` they took half the normalising query's time)."""
_FLAGS = {
    "_reshare": ("reshare_of_post", "reshare_of_account"),
    "_quote": ("quote_of_post",),
    "_reply": ("reply_to_post", "reply_to_account"),
}
"""Flags computed from passed fields to find the kind of a post that does not say it."""
_NO_URL = r"^[A-Za-z0-9_-]*$"
"""A value that cannot be a URL and that ``canonicalise`` gives back as it is (see ``_url_columns``)."""
_BLANKS = " \u00a0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B)) + "\u202f\u205f\u3000"
"""The characters SQL ``trim`` removes (Unicode space separators), trimmed in Arrow, which does it faster."""


@dataclass(frozen=True)
class NormalisedBatch:
    posts: pa.Table
    accounts: pa.Table
    rejections: list[Rejection]


class Normaliser:
    """Turns raw batches of one input into normalised posts and account observations."""

    def __init__(self, platform: str, time_formats: tuple[str, ...], batch_id: str, source: str) -> None:
        self.platform = platform
        self.time_formats = time_formats
        self.batch_id = batch_id
        self.source = source
        self._db = _normalising_database().cursor()
        self._db.execute("SET TimeZone = 'UTC'")  # a setting of each connection: texts without an offset are UTC
        self._latest = datetime.now(UTC) + timedelta(days=1)

    def close(self) -> None:
        self._db.close()

    def _time(self, value: str, number: str, iso_shaped: str) -> str:
        """SQL parsing the trimmed text ``value`` to a TIMESTAMP in UTC (without a time zone: ``_complete``
        marks the column as UTC in Arrow); ``number`` is its value as a DOUBLE (NULL when not a number),
        ``iso_shaped`` whether it has the shape of an ISO 8601 date (``_ISO_SHAPED``).

        ISO 8601 first where the text has its shape (cheap, and never a number): the plain forms
        without an offset by an exact pattern, the others by a cast that applies their offset; then unix
        seconds or milliseconds; then the format's own patterns, before a cast, which would read
        '10/1/17 19:58' as the year 10. Only texts with an offset or a zone go through TIMESTAMPTZ,
        whose calendar arithmetic (ICU) took half the time of the whole parse when every text did.
        """
        # by length, so that a pattern is rarely tried in vain: a failed try_strptime costs twenty times a success
        plain = (f"CASE WHEN length({value}) = 10 THEN try_strptime({value}, '%Y-%m-%d') "
                 f"WHEN length({value}) = 19 THEN try_strptime({value}, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S']) END")
        iso = f"timezone('UTC', TRY_CAST({value} AS TIMESTAMPTZ))"
        patterns = ", ".join(sql_string(p) for p in self.time_formats)
        zoned = any("%z" in p or "%Z" in p for p in self.time_formats)
        own = (
            (f"timezone('UTC', try_strptime({value}, [{patterns}])::TIMESTAMPTZ)" if zoned
             else f"try_strptime({value}, [{patterns}])")
            if patterns else None
        )
        return (
            f"CASE WHEN {value} IS NULL THEN NULL "
            f"WHEN {iso_shaped} THEN coalesce({plain}, {iso}{f', {own}' if own else ''}) "
            f"WHEN {number} IS NOT NULL THEN "
            f"CASE WHEN abs({number}) < 1e11 THEN make_timestamp(CAST({number} * 1000000 AS BIGINT)) "
            f"WHEN abs({number}) < 1e14 THEN make_timestamp(CAST({number} / 1000 * 1000000 AS BIGINT)) END "
            f"ELSE {f'coalesce({own}, {iso})' if own else iso} END"
        )

    @staticmethod
    def _number(value: str, iso_shaped: str) -> str:
        """The DOUBLE of a time written as unix seconds or milliseconds; not tried on ISO-shaped texts."""
        return f"CASE WHEN {iso_shaped} THEN NULL ELSE TRY_CAST({value} AS DOUBLE) END"

    def _raw_table(self, batch: RawBatch) -> pa.Table:
        arrays: dict[str, pa.Array] = {"_line": pa.array(batch.lines, pa.int64())}
        for name in RAW_FIELDS:
            values = batch.columns.get(name)
            if values is not None:
                arrays[name] = _raw_array(values, as_list=name in LIST_FIELDS)
                if name in _TRIMMED:
                    arrays[name] = pc.utf8_trim(arrays[name], _BLANKS)
        return pa.table(arrays)

    def _list_expr(self, name: str, raw: pa.Table) -> str:
        """The values of list field ``name``: as given, else (when empty or absent) found in the text."""
        found = self._from_text(name, raw)
        if name not in raw.column_names:
            return found
        if pa.types.is_list(raw.schema.field(name).type):
            given = f"list_filter(list_transform(raw.{name}, lambda x: trim(x)), lambda x: x IS NOT NULL AND x <> '')"
        else:
            given = (f"CASE WHEN raw.{name} IS NULL OR raw.{name} = '' THEN {_EMPTY_LIST} "
                     f"ELSE regexp_extract_all(raw.{name}, {sql_string(_LIST_TOKENS)}) END")
        if found == _EMPTY_LIST:
            return given
        return f"coalesce(nullif({given}, {_EMPTY_LIST}), {found})"

    def _from_text(self, name: str, raw: pa.Table) -> str:
        if "text" not in raw.column_names or name not in _IN_TEXT:
            return _EMPTY_LIST
        pattern, group, marker = _IN_TEXT[name]
        markers = " OR ".join(f"contains(raw.text, {sql_string(m)})" for m in ([marker, "＃"] if marker == "#" else [marker]))
        found = f"regexp_extract_all(raw.text, {sql_string(pattern)}, {group})"
        return f"CASE WHEN {markers} THEN {found} ELSE {_EMPTY_LIST} END"

    def normalise(self, batch: RawBatch) -> NormalisedBatch:
        """One raw batch, normalised (one DuckDB query; ``normalise_all`` plans one query for many batches)."""
        if len(batch) == 0:
            return NormalisedBatch(POST_SCHEMA.empty_table(), ACCOUNT_SCHEMA.empty_table(), list(batch.rejections))
        raw = self._raw_table(batch)
        self._db.register("raw", raw)
        try:
            computed = arrow_table(self._db, self._query(raw))
        finally:
            self._db.unregister("raw")
        return self._complete(computed, self._passed(raw), list(batch.rejections))

    def normalise_all(self, batches: Iterable[RawBatch], batch_size: int) -> Iterator[NormalisedBatch]:
        """The raw batches of one input, normalised as they come, in chunks of about ``batch_size`` records.

        Consecutive batches with the same columns go through one DuckDB query, which DuckDB plans once
        and reads as a stream (planning costs tens of milliseconds, as much as normalising thousands of
        records). An error raised while reading ``batches`` is raised again here, once the records
        read before it are normalised.
        """
        source = iter(batches)
        held: list[RawBatch] = []
        while True:
            first = held.pop() if held else next(source, None)
            if first is None:
                return
            if len(first) == 0:
                yield NormalisedBatch(POST_SCHEMA.empty_table(), ACCOUNT_SCHEMA.empty_table(), list(first.rejections))
                continue
            yield from self._normalise_run(first, source, held, batch_size)

    def _normalise_run(
        self, first: RawBatch, source: Iterator[RawBatch], held: list[RawBatch], batch_size: int
    ) -> Iterator[NormalisedBatch]:
        """``first`` and the batches after it with the same raw columns, through one query; the first batch
        with other columns is left in ``held``."""
        raw = self._raw_table(first)
        passed: deque[pa.Table] = deque()
        rejections: list[Rejection] = list(first.rejections)
        failure: list[BaseException] = []

        def stream() -> Iterator[pa.RecordBatch]:
            table = raw
            try:
                while True:
                    passed.append(self._passed(table))
                    yield from table.to_batches()
                    batch = next(source, None)
                    while batch is not None and len(batch) == 0:
                        rejections.extend(batch.rejections)
                        batch = next(source, None)
                    if batch is None:
                        return
                    rejections.extend(batch.rejections)
                    table = self._raw_table(batch)
                    if table.schema != raw.schema:
                        held.append(RawBatch(batch.columns, batch.lines, []))
                        return
            except GeneratorExit:
                raise
            except BaseException as error:  # raised again by the consumer, with its own type (ReadAgain...)
                failure.append(error)

        self._db.register("raw", pa.RecordBatchReader.from_batches(raw.schema, stream()))
        try:
            results = arrow_reader(self._db, self._query(raw), batch_size)
            try:
                for computed in results:
                    rows = pa.Table.from_batches([computed])
                    taken = _take(passed, rows.num_rows)
                    found, rejections[:] = list(rejections), []
                    yield self._complete(rows, taken, found)
            finally:
                results.close()
        finally:
            self._db.unregister("raw")
        if failure:
            raise failure[0]
        if rejections:
            yield NormalisedBatch(POST_SCHEMA.empty_table(), ACCOUNT_SCHEMA.empty_table(), list(rejections))

    def _passed(self, raw: pa.Table) -> pa.Table:
        """The fields that bypass DuckDB, with the line and the raw time (for the quarantine)."""
        missing = pa.nulls(raw.num_rows, pa.string())
        columns = {name: _empty_as_null(raw.column(name)) if name in raw.column_names else missing
                   for name in (*_PASSED, "created_at")}
        columns["handle"] = pc.utf8_ltrim(columns["handle"], "@")
        columns["_raw_time"] = columns.pop("created_at")
        columns["_line"] = raw.column("_line")
        return pa.table(columns)

    def _query(self, raw: pa.Table) -> str:
        """The normalising query over the table ``raw`` (of ``_raw_table``), row for row, in the same order."""
        scalars = ",\n".join(
            f"nullif(raw.{name}, '') AS {name}" if name in raw.column_names else f"NULL::VARCHAR AS {name}"
            for name in _SCALARS
            if name not in _PASSED
        )
        flags = ",\n".join(
            f"{' OR '.join(_given(name, raw) for name in names)} AS {flag}" for flag, names in _FLAGS.items()
        ) + f", NOT {_given('post_id', raw)} AS _no_post_id, NOT {_given('account_id', raw)} AS _no_account_id"
        lists = ",\n".join(
            f"coalesce({self._list_expr(name, raw)}, []::VARCHAR[]) AS {name}" for name in LIST_FIELDS if name != "urls"
        )
        urls = f"coalesce({self._list_expr('urls', raw)}, []::VARCHAR[])"
        earliest = EARLIEST.replace(tzinfo=None).isoformat()
        latest = self._latest.replace(tzinfo=None).isoformat()
        return f"""
        WITH l AS (SELECT raw._line AS _check_line, {scalars}, {urls} AS urls, {lists}, {flags} FROM raw),
        i AS (SELECT l.*, {_ISO_SHAPED.format(value='l.created_at')} AS created_iso,
                     {_ISO_SHAPED.format(value='l.account_created_at')} AS account_created_iso FROM l),
        n AS (SELECT i.*, {self._number('i.created_at', 'i.created_iso')} AS created_num,
                     {self._number('i.account_created_at', 'i.account_created_iso')} AS account_created_num FROM i),
        t AS (SELECT n.*, {self._time('n.created_at', 'n.created_num', 'n.created_iso')} AS created_ts,
                     {self._time('n.account_created_at', 'n.account_created_num', 'n.account_created_iso')}
                     AS account_created_ts FROM n)
        SELECT t._check_line, coalesce(t.platform, {sql_string(self.platform)}) AS platform,
               t.created_ts AS created_at,
               coalesce(t.kind, CASE WHEN t._reshare THEN 'reshare' WHEN t._quote THEN 'quote'
                                     WHEN t._reply THEN 'reply' ELSE 'post' END) AS kind,
               lower(t.lang) AS lang,
               t.urls,
               t.hashtags, t.mentions,
               t.domains, t.media_hashes,
               t.account_created_ts AS account_created_at,
               TRY_CAST(t.followers AS DOUBLE)::BIGINT AS followers,
               TRY_CAST(t.following AS DOUBLE)::BIGINT AS following,
               CASE WHEN t._no_post_id THEN 'post_id'
                    WHEN t._no_account_id THEN 'account_id'
                    WHEN t.created_ts IS NULL OR t.created_ts < TIMESTAMP '{earliest}'
                         OR t.created_ts > TIMESTAMP '{latest}' THEN 'created_at'
               END AS _problem
        FROM t
        """

    def _complete(self, computed: pa.Table, passed: pa.Table, rejections: list[Rejection]) -> NormalisedBatch:
        """The query's rows beside the fields that bypassed it; rejected records split off."""
        # never expected (the query is a projection, run by one thread), but checked, as it costs nothing
        if computed.num_rows != passed.num_rows or not pc.all(pc.equal(computed.column("_check_line"),
                                                                       passed.column("_line"))).as_py():
            raise RuntimeError(f"normalising {self.source}: DuckDB's rows are not in the order of the input")
        columns = {name: computed.column(name) for name in computed.column_names if name != "_check_line"}
        for name in ("created_at", "account_created_at"):  # UTC already (``_time``): only the type says so now
            columns[name] = columns[name].cast(_UTC)
        columns.update({name: passed.column(name) for name in passed.column_names})
        table = pa.table(columns)
        problem = table.column("_problem")
        bad_mask = pc.is_valid(problem)
        if pc.any(bad_mask).as_py():
            rejections.extend(self._rejections(table.filter(bad_mask)))
            table = table.filter(pc.invert(bad_mask))
        return NormalisedBatch(self._posts(table), self._accounts(table), rejections)

    def _rejections(self, bad: pa.Table) -> list[Rejection]:
        found = []
        for row in bad.select(["_line", "_problem", "_raw_time", "post_id"]).to_pylist():
            field = row["_problem"]
            if field == "created_at" and row["_raw_time"] is not None:
                reason = f"unreadable or out-of-range time {excerpt(row['_raw_time'])!r}"
            else:
                reason = f"missing required field {field}"
            found.append(Rejection(self.source, row["_line"], field, reason, excerpt(row["post_id"] or "")))
        return found

    def _posts(self, table: pa.Table) -> pa.Table:
        canonical, shortened, derived = _url_columns(table.column("urls"))
        domains = _distinct_sorted(table.column("domains"), derived)
        columns = {name: table.column(name) for name in POST_SCHEMA.names if name in table.column_names}
        for name, marks in _TAG_MARKS.items():
            columns[name] = _distinct_sorted(table.column(name), transform=_tag_normaliser(marks))
        columns["urls_canonical"] = canonical
        columns["shortened_urls"] = shortened
        columns["domains"] = domains
        columns["batch_id"] = pa.repeat(pa.scalar(self.batch_id, pa.string()), table.num_rows)
        columns["source_line"] = table.column("_line")
        return pa.table([columns[name] for name in POST_SCHEMA.names], schema=POST_SCHEMA)

    def _accounts(self, table: pa.Table) -> pa.Table:
        """One account observation per post; the store keeps the latest per account and batch."""
        columns = {name: table.column(name) for name in ACCOUNT_SCHEMA.names if name in table.column_names}
        columns["observed_at"] = table.column("created_at")
        columns["batch_id"] = pa.repeat(pa.scalar(self.batch_id, pa.string()), table.num_rows)
        return pa.table([columns[name] for name in ACCOUNT_SCHEMA.names], schema=ACCOUNT_SCHEMA)


_database_lock = threading.Lock()
_database: duckdb.DuckDBPyConnection | None = None


def _normalising_database() -> duckdb.DuckDBPyConnection:
    """The in-memory DuckDB database the normalisers of this process query, each through a connection of its own
    (``cursor``). Made once: a new database costs 15 to 30 ms, as much as normalising 10,000 records, for
    every input of a folder of small files.
    """
    global _database
    with _database_lock:
        if _database is None:
            database = connect()
            # one thread: the ingest already runs its stages in parallel, and DuckDB's threads cost more CPU per post
            database.execute("SET threads = 1")
            _database = database
        return _database


def _distinct_sorted(
    *lists: pa.ChunkedArray | pa.ListArray, transform: Callable[[pa.Array], pa.Array] | None = None
) -> pa.ListArray:
    """Per row, the distinct non-null values of several list columns of the same length, sorted (binary order),
    after ``transform`` (of all the values at once) when given.

    The values are numbered by their rank among the distinct values, so that one sort of 64-bit integers
    (row, rank) orders and deduplicates them all: a third of the time of Arrow's group-by and sort.
    """
    combined = [values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values for values in lists]
    rows = len(combined[0])
    parents = np.concatenate([np.asarray(pc.list_parent_indices(values), dtype=np.int64) for values in combined])
    flat = pa.concat_arrays([values.flatten().cast(pa.string()) for values in combined])
    if transform is not None:
        flat = transform(flat)
    if flat.null_count:
        present = np.asarray(pc.is_valid(flat), dtype=bool)
        parents, flat = parents[present], flat.filter(pa.array(present))
    encoded = pc.dictionary_encode(flat)
    distinct = encoded.dictionary
    by_value = np.asarray(pc.sort_indices(distinct), dtype=np.int64)
    rank = np.empty(by_value.size, dtype=np.int64)
    rank[by_value] = np.arange(by_value.size, dtype=np.int64)
    width = max(by_value.size, 1)
    keys = parents * width + rank[np.asarray(encoded.indices, dtype=np.int64)]
    if keys.size > 1 and not (keys[1:] > keys[:-1]).all():  # already in order and distinct when rows hold one value
        keys = np.unique(keys)
    counts = np.bincount(keys // width, minlength=rows)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    values = distinct.take(pa.array(by_value[keys % width]))
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values)


def _tag_normaliser(marks: str) -> Callable[[pa.Array], pa.Array]:
    """Lower-cases tags and strips the leading ``marks`` ('#' of a hashtag, '@' of a mention)."""

    def normalised(values: pa.Array) -> pa.Array:
        return pc.utf8_lower(pc.utf8_ltrim(values, marks))

    return normalised


def _take(tables: deque[pa.Table], rows: int) -> pa.Table:
    """The first ``rows`` rows of the queued tables, removed from the queue."""
    parts: list[pa.Table] = []
    while rows or not parts:
        head = tables[0]
        if head.num_rows <= rows:
            parts.append(tables.popleft())
            rows -= head.num_rows
        else:
            parts.append(head.slice(0, rows))
            tables[0] = head.slice(rows)
            rows = 0
    return parts[0] if len(parts) == 1 else pa.concat_tables(parts)


def _given(name: str, raw: pa.Table) -> str:
    """SQL true when raw field ``name`` holds a value (is neither absent, NULL nor empty), else false."""
    return f"coalesce(raw.{name} <> '', false)" if name in raw.column_names else "false"


def _empty_as_null(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """``values`` with empty strings made NULL, sharing its buffers (only the validity bitmap is new)."""
    if isinstance(values, pa.ChunkedArray):
        return pa.chunked_array([_empty_as_null(chunk) for chunk in values.chunks], values.type)
    present = pc.fill_null(pc.greater(pc.binary_length(values), 0), False)
    if values.offset or present.offset or not pa.types.is_string(values.type):
        return pc.if_else(present, values, pa.scalar(None, values.type))
    _, offsets, data = values.buffers()
    return pa.StringArray.from_buffers(len(values), offsets, data, present.buffers()[1])


def _raw_array(values: RawColumn, *, as_list: bool) -> pa.Array:
    """Raw values as Arrow strings (or lists of strings), converting in C when they already are."""
    if isinstance(values, pa.Array):
        return values if pa.types.is_string(values.type) or pa.types.is_list(values.type) else values.cast(pa.string())
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        pass
    if as_list:
        try:
            return pa.array(values, pa.list_(pa.string()))
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            return pa.array(
                [None if v is None else [str(x) for x in v] if isinstance(v, list | tuple) else [str(v)] for v in values],
                pa.list_(pa.string()),
            )
    return pa.array([None if v is None else str(v) for v in values], pa.string())


def _url_columns(urls: pa.ChunkedArray) -> tuple[pa.ListArray, pa.ListArray, pa.ListArray]:
    """Canonical URLs (parallel to ``urls``), the shortened ones, and each URL's domain, per post.

    Each distinct URL is canonicalised once, and only when it can be one: a value of letters, digits,
    '_' and '-' alone (the URL ids of CooRTweet's tables) is its own canonical form, with no domain
    (``canonicalise`` gives the same, a hundred times slower). The lists are rebuilt from their offsets.
    """
    combined = urls.combine_chunks()
    offsets = np.asarray(combined.offsets, dtype=np.int64)
    offsets = offsets - offsets[0]
    encoded = pc.dictionary_encode(combined.flatten())
    canonical: list[str | None] = encoded.dictionary.to_pylist()
    domain: list[str | None] = [None] * len(canonical)
    shortened = [False] * len(canonical)
    no_url = np.asarray(pc.match_substring_regex(encoded.dictionary, _NO_URL), dtype=bool)
    for i in np.flatnonzero(~no_url).tolist():
        found = canonicalise(str(canonical[i]))
        canonical[i], domain[i], shortened[i] = found.canonical, found.domain, found.shortener
    indices = encoded.indices
    canonical_flat = pa.array(canonical, pa.string()).take(indices)
    domain_flat = pa.array(domain, pa.string()).take(indices)
    shortener = np.asarray(pa.array(shortened, pa.bool_()).take(indices), dtype=bool)
    list_offsets = pa.array(offsets, pa.int32())
    kept = np.concatenate([[0], np.cumsum(shortener)])[offsets]
    return (
        pa.ListArray.from_arrays(list_offsets, canonical_flat),
        pa.ListArray.from_arrays(pa.array(kept, pa.int32()), canonical_flat.filter(pa.array(shortener))),
        pa.ListArray.from_arrays(list_offsets, domain_flat),
    )
