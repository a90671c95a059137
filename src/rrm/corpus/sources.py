"""Opening untrusted inputs: plain files, ``.gz`` files, ``.zip`` members and http(s) URLs.

Every stream is read incrementally and guarded: a compressed input that expands past
``MAX_EXPANSION_RATIO`` times its stored size (and past ``EXPANSION_FLOOR`` bytes) is refused as a
probable decompression bomb, and a download larger than ``MAX_DOWNLOAD_BYTES`` is refused. Zip
members are checked twice: from the sizes the archive declares, before anything is read, and while
they are read, since declared sizes are written by whoever made the archive. Zip archives are
expanded one level only: a zip inside a zip is not opened.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol, cast

from isal import igzip, isal_zlib

from rrm.errors import ArchiveLimitError, InputError

if TYPE_CHECKING:
    import httpx

__all__ = [
    "EXPANSION_FLOOR",
    "MAX_DOWNLOAD_BYTES",
    "MAX_EXPANSION_RATIO",
    "Fetch",
    "InputSource",
    "download",
    "expand_inputs",
]

MAX_EXPANSION_RATIO = 200
EXPANSION_FLOOR = 256 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 1024 * 1024 * 1024
SNIFF_BYTES = 64 * 1024

Fetch = Callable[[str, Path], Path]
"""Downloads a URL into a folder and returns the file: ``download``, or a test's stand-in."""


class _Decompressing(Protocol):
    """What ``igzip.GzipFile`` and ``zipfile.ZipExtFile`` offer the guard."""

    def read(self, size: int = -1, /) -> bytes: ...

    def seekable(self) -> bool: ...

    def seek(self, offset: int, whence: int = ..., /) -> int: ...

    def tell(self) -> int: ...

    def close(self) -> None: ...


_ISAL_ERROR = cast("type[Exception]", isal_zlib.error)  # python-isal's stubs declare an instance; it is the class
_GUNZIP = cast("Callable[..., gzip.GzipFile]", igzip.IGzipFile)
"""``gzip.GzipFile`` on ISA-L's inflate (python-isal, a subclass with the same errors): 1 million posts (323 MB)
decompress in 0.46 s against 1.4 to 1.7 s. Its constructor has no type hints, hence the cast."""
_CORRUPT = (zipfile.BadZipFile, gzip.BadGzipFile, EOFError, zlib.error, _ISAL_ERROR)


class _ExpansionGuard(io.RawIOBase):
    """Counts decompressed bytes and refuses to go past the allowed expansion of ``stored_size``."""

    def __init__(self, inner: _Decompressing, stored_size: int, name: str) -> None:
        self._inner = inner
        self._limit = max(EXPANSION_FLOOR, stored_size * MAX_EXPANSION_RATIO)
        self._name = name
        self._seen = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._inner.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._seen = self._inner.seek(offset, whence)
        return self._seen

    def tell(self) -> int:
        return self._inner.tell()

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(buffer))
        except _CORRUPT as exc:
            raise InputError(f"corrupt compressed data: {exc}", source=self._name) from exc
        self._seen += len(data)
        if self._seen > self._limit:
            raise ArchiveLimitError(
                f"expands to more than {self._limit:,} bytes (over {MAX_EXPANSION_RATIO}x its stored size); "
                "refused as a probable decompression bomb",
                source=self._name,
            )
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


@dataclass(frozen=True)
class InputSource:
    """One logical input: a file, or one member of a zip archive. Reopenable, so it can be sniffed first."""

    name: str
    path: Path
    member: str | None = None

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        """The decompressed content, guarded against decompression bombs and corrupt data."""
        with ExitStack() as stack:
            yield self._open(stack)

    def _open(self, stack: ExitStack) -> IO[bytes]:
        stored = self.path.stat().st_size
        try:
            if self.member is not None:
                archive = stack.enter_context(zipfile.ZipFile(self.path))
                info = archive.getinfo(self.member)
                raw = stack.enter_context(archive.open(info))
                guarded = _ExpansionGuard(raw, max(info.compress_size, 1), self.name)
                return stack.enter_context(io.BufferedReader(guarded, buffer_size=1 << 20))
            handle = stack.enter_context(self.path.open("rb"))
            if not _is_gzip(handle):
                return handle
            inner = stack.enter_context(_GUNZIP(fileobj=handle, mode="rb"))
            return stack.enter_context(io.BufferedReader(_ExpansionGuard(inner, stored, self.name), buffer_size=1 << 20))
        except _CORRUPT as exc:
            raise InputError(f"corrupt compressed data: {exc}", source=self.name) from exc
        except (RuntimeError, NotImplementedError) as exc:
            # zipfile's words for an encrypted member and for a compression method it does not know
            raise InputError(f"cannot read this zip member: {exc}", source=self.name) from exc

    def head(self, size: int = SNIFF_BYTES) -> bytes:
        with self.open() as stream:
            return stream.read(size)

    def size(self) -> int:
        """The size of what ``sha256`` digests: the file as stored; for a member, the size its archive declares
        (untrusted: only a hint of which earlier inputs may be the same, which the digest decides)."""
        if self.member is None:
            return self.path.stat().st_size
        try:
            with zipfile.ZipFile(self.path) as archive:
                return archive.getinfo(self.member).file_size
        except (zipfile.BadZipFile, OSError, KeyError) as exc:
            raise InputError(f"not a readable zip archive: {exc}", source=self.name) from exc

    def sha256(self) -> str:
        """The digest of the bytes as stored (the zip member's content for a member)."""
        digest = hashlib.sha256()
        if self.member is not None:
            with self.open() as stream:
                for chunk in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(chunk)
        else:
            with self.path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
        return digest.hexdigest()


def _is_gzip(handle: IO[bytes]) -> bool:
    magic = handle.read(2)
    handle.seek(0)
    return magic == b"\x1f\x8b"


def _zip_members(path: Path, name: str | None = None) -> list[InputSource]:
    """The members of a zip archive, refused whole when one of them declares a bomb-like size."""
    shown = name or str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = [i for i in archive.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InputError(f"not a readable zip archive: {exc}", source=shown) from exc
    for info in infos:
        if info.file_size > max(EXPANSION_FLOOR, max(info.compress_size, 1) * MAX_EXPANSION_RATIO):
            raise ArchiveLimitError(
                f"member {info.filename!r} declares {info.file_size:,} bytes from {info.compress_size:,} stored; "
                "refused as a probable decompression bomb",
                source=shown,
            )
    return [InputSource(f"{shown}!{i.filename}", path, i.filename) for i in infos]


def download(url: str, folder: Path, transport: httpx.BaseTransport | None = None) -> Path:
    """Fetch ``url`` into ``folder``, refusing anything larger than ``MAX_DOWNLOAD_BYTES``."""
    import httpx  # only here: a tenth of a second of start-up that ingesting files does not need

    folder.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix="download-", delete=False)  # noqa: SIM115
    received = 0
    try:
        with httpx.Client(transport=transport, follow_redirects=True, timeout=30.0) as client, client.stream(
            "GET", url, headers={"User-Agent": "rrm-ingest/0.1"}
        ) as response:
            if response.status_code >= 400:
                raise InputError(f"the server answered HTTP {response.status_code}", source=url)
            for chunk in response.iter_bytes():
                received += len(chunk)
                if received > MAX_DOWNLOAD_BYTES:
                    raise ArchiveLimitError(f"larger than {MAX_DOWNLOAD_BYTES:,} bytes; refused", source=url)
                handle.write(chunk)
    except httpx.HTTPError as exc:
        handle.close()
        Path(handle.name).unlink(missing_ok=True)
        raise InputError(f"cannot fetch: {exc}", source=url) from exc
    except BaseException:
        handle.close()
        Path(handle.name).unlink(missing_ok=True)
        raise
    handle.close()
    return Path(handle.name)


def expand_inputs(targets: list[str], download_folder: Path, fetch: Fetch = download) -> list[InputSource]:
    """The inputs named on a command line: files, folders (every file inside), zip archives, URLs."""
    sources: list[InputSource] = []
    for target in targets:
        if target.startswith(("http://", "https://")):
            fetched = fetch(target, download_folder)
            if zipfile.is_zipfile(fetched):
                sources.extend(_zip_members(fetched, target))
            else:
                sources.append(InputSource(target, fetched))
            continue
        path = Path(target)
        if not path.exists():
            raise InputError("no such file or folder", source=target)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if zipfile.is_zipfile(file):
                sources.extend(_zip_members(file))
            else:
                sources.append(InputSource(str(file), file))
    return sources
