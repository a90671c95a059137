"""The lean parts of the page path: one write per response, headers and query read from the scope,
timestamps, and the page statement kept per partner and filters.

Each is checked against what it replaces (Starlette's parsing, ``datetime.strftime``, the statement
built afresh) or, for the transport, on real sockets and a real ``rrm serve``.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.requests import Request

from rrm.frameworks.tlp import TLP
from rrm.share.taxii.access import Partner
from rrm.share.taxii.http1 import CoalescingTransport
from rrm.share.taxii.routes import _header, _query_of
from rrm.share.taxii.store import Filters, _page_query, _page_statement, format_timestamp
from taxii_fixtures import COLLECTION, MEDIA, Node, build_node, serve

OBJECTS = f"/api1/collections/{COLLECTION}/objects/"


# --- one write per response ---------------------------------------------------------------------------

async def _pair() -> tuple[asyncio.Transport, asyncio.StreamReader, asyncio.StreamWriter]:
    """A real TCP connection on localhost: the server side's transport, and the client's streams."""
    accepted: asyncio.Future[asyncio.Transport] = asyncio.get_running_loop().create_future()

    class Side(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            accepted.set_result(transport)

    server = await asyncio.get_running_loop().create_server(Side, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    transport = await accepted
    server.close()
    return transport, reader, writer


def test_the_writes_of_one_turn_reach_the_transport_together_and_in_order() -> None:
    async def scenario() -> None:
        transport, reader, writer = await _pair()
        coalescing = CoalescingTransport(transport, asyncio.get_running_loop())
        coalescing.write(b"HTTP/1.1 200 OK\r\n\r\n")
        coalescing.write(b"")
        coalescing.writelines([b"body ", bytearray(b"one")])
        # held until the end of this turn: the transport has seen nothing yet
        assert coalescing.get_write_buffer_size() == len(b"HTTP/1.1 200 OK\r\n\r\nbody one")
        assert not coalescing.is_closing()  # everything else is the transport's
        assert coalescing.get_extra_info("peername") == transport.get_extra_info("peername")
        await asyncio.sleep(0)
        assert coalescing.get_write_buffer_size() == transport.get_write_buffer_size()
        received = await reader.readexactly(len(b"HTTP/1.1 200 OK\r\n\r\nbody one"))
        assert received == b"HTTP/1.1 200 OK\r\n\r\nbody one"
        coalescing.write(b"last words")
        coalescing.close()  # sends what is held, then closes
        assert await reader.read() == b"last words"
        writer.close()

    asyncio.run(scenario())


def test_abort_drops_the_held_writes() -> None:
    async def scenario() -> None:
        transport, reader, writer = await _pair()
        coalescing = CoalescingTransport(transport, asyncio.get_running_loop())
        coalescing.write(b"never sent")
        coalescing.abort()
        await asyncio.sleep(0)  # the flush scheduled for this turn finds nothing
        try:
            received = await reader.read()
        except ConnectionResetError:  # a reset or a clean end: either way nothing arrived
            received = b""
        assert received == b""
        writer.close()

    asyncio.run(scenario())


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Node:
    return build_node(tmp_path_factory.mktemp("http1") / "ws", count=30)


@pytest.fixture(scope="module")
def base(node: Node) -> Iterator[str]:
    yield from serve(node.workspace, workers=1)


def _raw(base: str, requests: bytes) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(requests)
        received = bytearray()
        while chunk := sock.recv(65536):
            received.extend(chunk)
    return bytes(received)


def test_pipelined_keep_alive_and_closing_requests_are_answered_whole_and_in_order(base: str, node: Node) -> None:
    head = (f"Host: x\r\nAuthorization: Bearer {node.keys['CA']}\r\nAccept: {MEDIA}\r\n").encode()
    requests = (b"GET " + OBJECTS.encode() + b"?limit=2 HTTP/1.1\r\n" + head + b"\r\n"
                + b"GET /api1/collections/nope/objects/ HTTP/1.1\r\n" + head + b"\r\n"
                + b"GET " + OBJECTS.encode() + b"?limit=1000 HTTP/1.1\r\n" + head + b"Connection: close\r\n\r\n")
    received = _raw(base, requests)
    responses = []
    rest = received
    while rest:
        header, _, rest = rest.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in header.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        responses.append((header.split(b"\r\n")[0], rest[:length]))
        rest = rest[length:]
    assert [status for status, _ in responses] == [b"HTTP/1.1 200 OK", b"HTTP/1.1 404 Not Found",
                                                   b"HTTP/1.1 200 OK"]
    assert responses[0][1].startswith(b'{"more":true,"next":')
    assert responses[1][1] == b'{"title":"Collection not found","http_status":"404"}'
    assert len(responses[2][1]) > 10_000 and responses[2][1].endswith(b"]}")


# --- headers and query parameters read as Starlette reads them ------------------------------------------

_QUERIES = [b"", b"limit=5", b"limit=5&limit=7", b"match[type]=indicator&match[type]=malware,tool",
            b"match%5Bid%5D=a&next=s1&next=s2", b"added_after=&limit=", b"a=1&&b&=x&match[version]=all",
            b"next=%E2%82%AC&match[spec_version]=2.1", b"match[type]=a+b&added_after=2026-11-01T00%3A00%3A00Z"]


@pytest.mark.parametrize("query", _QUERIES)
def test_the_query_is_read_as_starlette_reads_it(query: bytes) -> None:
    request = Request({"type": "http", "method": "GET", "path": "/", "query_string": query, "headers": []})
    params = request.query_params
    try:
        found = _query_of(request)
    except Exception as exc:  # a bad limit: the same error either way
        assert params.get("limit") is not None
        assert "limit" in str(getattr(exc, "description", ""))
        return
    assert found.added_after == params.get("added_after")
    assert found.next == params.get("next")
    assert found.ids == params.getlist("match[id]")
    assert found.types == params.getlist("match[type]")
    assert found.versions == params.getlist("match[version]")
    assert found.spec_versions == params.getlist("match[spec_version]")
    assert found.limit == (int(params["limit"]) if "limit" in params else None)


def test_a_header_is_read_as_starlette_reads_it() -> None:
    raw = [(b"accept", b"a"), (b"authorization", b"Bearer \xe9one"), (b"authorization", b"Bearer two")]
    request = Request({"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": raw})
    for name in ("accept", "authorization", "x-missing"):
        assert _header(request, name.encode()) == request.headers.get(name)


# --- timestamps and the page statement ------------------------------------------------------------------

def test_timestamps_are_formatted_as_datetime_formats_them() -> None:
    rng = random.Random(5)
    values = [0, 1, -1, 999_999, 1_000_000, 1_764_374_400_123_456, -62_135_596_800_000_000]
    values += [rng.randrange(-10**15, 4 * 10**15) for _ in range(5000)]
    for microseconds in values:
        expected = datetime.fromtimestamp(microseconds / 1_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert format_timestamp(microseconds) == expected, microseconds


def test_the_page_statement_is_kept_per_partner_and_filters_but_not_for_long_filters(tmp_path: Path) -> None:
    partner, narrower = Partner("P", "p", TLP.AMBER), Partner("P", "p", TLP.GREEN)
    first = _page_query("?", COLLECTION, partner, Filters(), None, 10, 100)
    assert first[1][-2:] == (10, 101) and first[0].count("?") == len(first[1])
    assert _page_query("?", COLLECTION, partner, Filters(), None, None, 5)[1][-1] == 6
    # a narrowed agreement is another partner value: another statement, with fewer open levels
    assert _page_query("?", COLLECTION, narrower, Filters(), None, 10, 100)[1] != first[1]
    before = _page_statement.cache_info().currsize
    many = Filters(ids=tuple(f"indicator--{n}" for n in range(50)))
    sql, params = _page_query("?", COLLECTION, partner, many, None, 10, 100)
    assert sql.count("?") == len(params) and "indicator--49" in params
    assert _page_statement.cache_info().currsize == before
