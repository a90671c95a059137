"""Ingesting inputs into the corpus: detect the format, stream, normalise, store as one batch per input."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO

from rrm.corpus.formats.base import IngestFormat, RawBatch, ReadAgain
from rrm.corpus.formats.registry import detect, get_format
from rrm.corpus.normalise import Normaliser
from rrm.corpus.pipeline import Prefetched, Writer
from rrm.corpus.sources import Fetch, InputSource, download, expand_inputs
from rrm.corpus.store import BatchRecord, CorpusStore
from rrm.errors import InputError, MappingError

__all__ = ["DEFAULT_BATCH_SIZE", "IngestReport", "Progress", "SkippedInput", "ingest", "ingest_settings", "ingest_source"]

DEFAULT_BATCH_SIZE = 50_000

Progress = Callable[[str, int, int | None, int], None]
"""Called as ``progress(source, bytes_read, total_bytes_or_None, records_read)`` while reading."""


@dataclass(frozen=True)
class SkippedInput:
    """An input not read again: the corpus has a batch of the same bytes, format and settings."""

    source: str
    sha256: str
    batch_id: str  # the batch that holds it


@dataclass(frozen=True)
class IngestReport:
    batches: list[BatchRecord] = field(default_factory=list)
    failures: list[InputError] = field(default_factory=list)
    skipped: list[SkippedInput] = field(default_factory=list)

    @property
    def stored(self) -> int:
        return sum(b.stored for b in self.batches)


class _CountingReader(io.RawIOBase):
    def __init__(self, inner: IO[bytes], on_read: Callable[[int], None]) -> None:
        self._inner = inner
        self._on_read = on_read
        self.count = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._inner.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.count = self._inner.seek(offset, whence)
        return self.count

    def tell(self) -> int:
        return self._inner.tell()

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        readinto = getattr(self._inner, "readinto", None)
        if readinto is not None:  # straight into the caller's buffer: one copy of every byte less
            size = readinto(buffer) or 0
        else:
            data = self._inner.read(len(buffer))
            size = len(data)
            buffer[:size] = data
        self.count += size
        self._on_read(self.count)
        return size


@dataclass(frozen=True)
class _Batch:
    """What the batch of one input is stored with, besides its posts."""

    format: IngestFormat
    digest: Future[str]
    started: datetime
    input_bytes: int
    settings: str


def ingest_settings(platform: str | None = None, options: dict[str, str] | None = None) -> str:
    """What shapes an input's posts besides its bytes and its format (``--platform``, ``--map``), as canonical
    JSON: an input is skipped as already ingested only when these are the same too."""
    return json.dumps({"map": options or {}, "platform": platform}, sort_keys=True, separators=(",", ":"))


def ingest_source(
    store: CorpusStore,
    source: InputSource,
    fmt: IngestFormat | None = None,
    *,
    platform: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    settings: str | None = None,
    force: bool = False,
    known: list[BatchRecord] | None = None,
) -> BatchRecord | SkippedInput:
    """Ingest one input as one batch. Raises ``InputError`` (and stores nothing) when the input as a whole is unusable.

    An input whose bytes, format and ``settings`` (``ingest_settings``; from ``platform`` alone when not
    given) equal those of a committed batch is not read again, unless ``force``: a ``SkippedInput`` says
    which batch holds it. Its digest is computed first only when a committed batch had an input of the
    same size; otherwise it is computed while the input is read. ``known`` (the corpus's batches, as
    ``ingest`` keeps them for its inputs) spares reading them from the catalog.
    """
    head = source.head()
    if not head.strip():
        raise InputError("the input is empty; nothing to ingest", source=source.name)
    chosen = fmt or detect(head, source.name)
    settings = ingest_settings(platform) if settings is None else settings
    input_bytes = source.size()
    known_digest: str | None = None
    if not force:
        earlier, known_digest = _same_input(store, source, chosen.name, input_bytes, settings, known)
        if earlier is not None:
            return SkippedInput(source.name, earlier.sha256, earlier.batch_id)
    started = datetime.now(UTC)
    # the digest is computed while the input is read (hashlib releases the GIL); it is needed at the commit
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rrm-ingest-sha256") as pool:
        digest = pool.submit(source.sha256 if known_digest is None else lambda: known_digest)
        planned = _Batch(chosen, digest, started, input_bytes, settings)
        try:
            return _ingest_batch(store, source, planned, platform, batch_size, progress, speculative=True)
        except ReadAgain:
            # the optimistic reader met an irregular input: its batch is discarded, the exact reader starts over
            return _ingest_batch(store, source, planned, platform, batch_size, progress, speculative=False)


def _same_input(
    store: CorpusStore, source: InputSource, format_name: str, input_bytes: int, settings: str,
    known: list[BatchRecord] | None,
) -> tuple[BatchRecord | None, str | None]:
    """The committed batch of the same bytes, format and settings as ``source``, if any, and the digest of
    ``source`` when it had to be computed to tell (only when a batch had an input of the same size)."""
    batches = store.batches() if known is None else known
    candidates = [b for b in batches if (b.input_bytes, b.format, b.settings) == (input_bytes, format_name, settings)]
    if not candidates:
        return None, None
    digest = source.sha256()
    return next((b for b in candidates if b.sha256 == digest), None), digest


def _ingest_batch(
    store: CorpusStore,
    source: InputSource,
    planned: _Batch,
    platform: str | None,
    batch_size: int,
    progress: Progress | None,
    *,
    speculative: bool,
) -> BatchRecord:
    chosen = planned.format
    total = source.path.stat().st_size if source.member is None else None
    records = 0
    with store.batch(
        source.name, "", chosen.name, planned.started, input_bytes=planned.input_bytes, settings=planned.settings
    ) as writer:
        normaliser = Normaliser(platform or chosen.platform, chosen.time_formats, writer.batch_id, source.name)
        try:
            with source.open() as raw:
                reported = [0]

                def on_read(count: int) -> None:
                    if progress is not None and count - reported[0] >= 1 << 20:
                        reported[0] = count
                        progress(source.name, count, total, records)

                counted = io.BufferedReader(_CountingReader(raw, on_read), buffer_size=1 << 20)
                read = chosen.read_speculative if speculative else chosen.read
                # three stages at once: the next batch is read while this one is normalised and the last written
                with (
                    Prefetched(lambda: read(counted, source.name, batch_size)) as batches,
                    Writer(writer.add) as stage,
                ):
                    def counted_batches() -> Iterator[RawBatch]:
                        nonlocal records
                        for raw_batch in batches:
                            records += len(raw_batch) + len(raw_batch.rejections)
                            yield raw_batch

                    for normalised in normaliser.normalise_all(counted_batches(), batch_size):
                        stage.submit(normalised)
                    stage.finish()
                if progress is not None:
                    progress(source.name, total or reported[0], total, records)
            writer.sha256 = planned.digest.result()
        finally:
            normaliser.close()
    assert writer.record is not None
    return writer.record


def ingest(
    store: CorpusStore,
    targets: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    format_name: str | None = None,
    options: dict[str, str] | None = None,
    platform: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    fetch: Fetch = download,
    force: bool = False,
) -> IngestReport:
    """Ingest files, folders, zip archives and URLs. A bad input is reported and skipped; the others go on.

    Each input (a file, a zip member, a download) is one batch, stored whole or not at all. An input
    that cannot be used at all (missing, empty, unknown format, decompression bomb...) is reported in
    ``failures`` and stores nothing; bad records inside a usable input go to the quarantine. An input the
    corpus already has (the same bytes, format, platform and mapping) is listed in ``skipped`` and not
    read again, unless ``force``. ``targets`` is one path or URL, or a list of them (strings or paths).
    """
    if isinstance(targets, str | os.PathLike):
        targets = [targets]
    if options and not format_name:
        raise MappingError("--map describes the columns of a named format: add --format csv or --format jsonl")
    fmt = get_format(format_name, options) if format_name else None
    batches: list[BatchRecord] = []
    failures: list[InputError] = []
    skipped: list[SkippedInput] = []
    settings = ingest_settings(platform, options)
    known = store.batches()  # one catalog query for all the inputs, and the batches they add
    with store.scratch() as downloads:
        for target in targets:
            try:
                sources = expand_inputs([os.fspath(target)], downloads, fetch)
            except InputError as error:
                failures.append(error)
                continue
            for source in sources:
                try:
                    done = ingest_source(
                        store, source, fmt, platform=platform, batch_size=batch_size, progress=progress,
                        settings=settings, force=force, known=known,
                    )
                except InputError as error:
                    failures.append(error)
                    continue
                if isinstance(done, SkippedInput):
                    skipped.append(done)
                else:
                    batches.append(done)
                    known.append(done)
            for fetched in {s.path for s in sources if s.path.parent == downloads}:
                fetched.unlink(missing_ok=True)
    return IngestReport(batches, failures, skipped)
