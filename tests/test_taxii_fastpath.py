"""The hot paths: object and manifest pages past FastAPI's routing, and the delivery log in its own file.

``TaxiiFastPath`` must answer exactly as the FastAPI routes do (status, body, headers), for pages and
for every error; the delivery log must be complete while the objects' file is never written by a read.
"""

from __future__ import annotations

import base64
import contextlib
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from rrm.frameworks.tlp import TLP
from rrm.share.taxii.deliveries import Delivery, DeliveryLog
from rrm.share.taxii.fastpath import TaxiiFastPath
from rrm.share.taxii.store import Filters, TaxiiStore, deliveries_path
from rrm.web.app import create_app, taxii_database_url
from taxii_fixtures import COLLECTION, MEDIA, OTHER, Node, build_node

OBJECTS = f"/api1/collections/{COLLECTION}/objects/"
MANIFEST = f"/api1/collections/{COLLECTION}/manifest/"
NOT_HERE = 599  # what the stand-in for FastAPI answers


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Node:
    return build_node(tmp_path_factory.mktemp("fast") / "ws", count=8)


async def not_here(scope: Scope, _receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": NOT_HERE, "headers": []})
    await send({"type": "http.response.body", "body": b""})


@pytest.fixture(scope="module")
def fast(node: Node) -> Iterator[TestClient]:
    """Only the fast path, in front of an application that answers 599 to whatever reaches it."""
    yield TestClient(TaxiiFastPath(not_here, node.store))  # no lifespan: the stand-in has none


@pytest.fixture(scope="module")
def routed(node: Node) -> Iterator[TestClient]:
    """The FastAPI routes alone."""
    with TestClient(create_app(node.workspace, fast_path=False)) as client:
        yield client


def _headers(node: Node, partner: str | None, accept: str = MEDIA) -> dict[str, str]:
    found = {"Accept": accept}
    if partner == "basic":
        found["Authorization"] = "Basic " + base64.b64encode(b"ngo-analyst:correct horse battery staple").decode()
    elif partner is not None:
        found["Authorization"] = f"Bearer {node.keys[partner]}"
    return found


CASES = [
    ("CA", OBJECTS, {}, MEDIA),
    ("CA", OBJECTS, {"limit": "3"}, MEDIA),
    ("DE", OBJECTS, {"limit": "4", "next": "s3"}, MEDIA),
    ("NGO", OBJECTS, {"match[type]": "indicator,malware", "match[version]": "all"}, MEDIA),
    ("basic", OBJECTS, {"added_after": "2026-01-01T00:00:00.000Z"}, MEDIA),
    ("CA", MANIFEST, {"limit": "2"}, MEDIA),
    ("DE", MANIFEST, {"match[id]": "indicator--nope"}, MEDIA),
    (None, OBJECTS, {}, MEDIA),  # 401
    ("CA", OBJECTS, {}, "application/json"),  # 406
    ("WRITER", OBJECTS, {}, MEDIA),  # 403
    ("OUT", OBJECTS, {}, MEDIA),  # 404: may not see it
    ("CA", f"/api1/collections/{OTHER}/manifest/", {}, MEDIA),  # 404
    ("CA", "/api1/collections/no-such/objects/", {}, MEDIA),  # 404
    ("CA", OBJECTS, {"limit": "0"}, MEDIA),  # 400
    ("CA", OBJECTS, {"next": "bogus"}, MEDIA),  # 400
    ("CA", MANIFEST, {"added_after": "yesterday"}, MEDIA),  # 400
    ("CA", OBJECTS, {"match[version]": "not-a-time"}, MEDIA),  # 400
]


@pytest.mark.parametrize(("partner", "path", "params", "accept"), CASES)
def test_the_fast_path_answers_as_the_routes_do(fast: TestClient, routed: TestClient, node: Node, partner: str | None,
                                                path: str, params: dict[str, str], accept: str) -> None:
    quick = fast.get(path, params=params, headers=_headers(node, partner, accept))
    slow = routed.get(path, params=params, headers=_headers(node, partner, accept))
    assert quick.status_code != NOT_HERE
    assert (quick.status_code, quick.content) == (slow.status_code, slow.content)
    assert dict(quick.headers) == dict(slow.headers)


@pytest.mark.parametrize(("method", "path"), [
    ("HEAD", OBJECTS), ("POST", OBJECTS), ("GET", "/taxii2/"), ("GET", f"/api1/collections/{COLLECTION}/"),
    ("GET", f"{OBJECTS}indicator--x/"), ("GET", OBJECTS.rstrip("/")), ("GET", f"/api2/collections/{COLLECTION}/objects/"),
    ("GET", "/api1/collections/a/b/objects/"),
])
def test_everything_else_goes_on_to_fastapi(fast: TestClient, node: Node, method: str, path: str) -> None:
    assert fast.request(method, path, headers=_headers(node, "CA")).status_code == NOT_HERE


def test_the_application_serves_pages_through_the_fast_path(node: Node) -> None:
    app = create_app(node.workspace)
    assert any(m.cls is TaxiiFastPath for m in app.user_middleware)
    with TestClient(app) as client:
        assert client.get(OBJECTS, headers=_headers(node, "CA")).status_code == 200
        assert "/api1/collections/{collection_id}/manifest/" in client.get("/openapi.json").json()["paths"]


def test_the_delivery_log_has_a_file_of_its_own_and_reads_never_write_the_objects_file(tmp_path: Path) -> None:
    node = build_node(tmp_path / "ws", count=3)
    database = taxii_database_url(node.workspace).removeprefix("sqlite:///")
    watcher = sqlite3.connect(database)
    before = watcher.execute("PRAGMA data_version").fetchone()[0]
    with TestClient(create_app(node.workspace)) as client:
        for _ in range(3):
            assert client.get(OBJECTS, headers=_headers(node, "CA")).status_code == 200
            assert client.get(MANIFEST, headers=_headers(node, "DE")).status_code == 200
    # another connection's commit to the objects' file would have changed data_version
    assert watcher.execute("PRAGMA data_version").fetchone()[0] == before
    assert watcher.execute("SELECT count(*) FROM taxii_deliveries").fetchone()[0] == 0
    watcher.close()
    log = deliveries_path(database)
    assert log == Path(database).with_name("taxii.deliveries.sqlite")
    with sqlite3.connect(log) as db:
        assert [r[0] for r in db.execute("SELECT partner_id FROM taxii_deliveries ORDER BY id")] == ["CA"] * 3
    assert [d["partner"] for d in TaxiiStore(taxii_database_url(node.workspace)).deliveries()] == ["CA"] * 3


def test_a_change_by_another_process_reaches_a_reader_connection_at_once(tmp_path: Path) -> None:
    """The access epoch is read again only when ``PRAGMA data_version`` says the file changed."""
    node = build_node(tmp_path / "ws", count=1)
    serving = TaxiiStore(taxii_database_url(node.workspace))
    admin = TaxiiStore(taxii_database_url(node.workspace))
    first = serving.access_epoch()
    assert serving.access_epoch() == first and serving.partner_by_key(node.keys["CA"]) is not None
    admin.revoke_key(node.keys["CA"])
    assert serving.access_epoch() == first + 1
    assert serving.partner_by_key(node.keys["CA"]) is None
    serving.close()
    admin.close()


@pytest.mark.parametrize("partner", ["CA", "NGO", "DE"])
@pytest.mark.parametrize(("filters", "limit", "after"), [
    (Filters(), None, None), (Filters(), 4, None), (Filters(), 4, "s6"), (Filters(versions=("all",)), 3, None),
    (Filters(types=("indicator",)), 5, "s2"), (Filters(added_after=0), 1000, None),
    (Filters(added_after=2**62), None, None), (Filters(), 10, "s999999"),
])
def test_page_text_holds_the_rows_of_page(node: Node, partner: str, filters: Filters, limit: int | None,
                                          after: str | None) -> None:
    found = node.store.partner_by_key(node.keys[partner])
    assert found is not None
    access = node.store.access(found, COLLECTION)
    page = node.store.page(access, COLLECTION, filters, limit, after)
    text = node.store.page_text(access, COLLECTION, filters, limit, after)
    assert text.count == len(page.rows)
    assert json.loads(f"[{text.objects}]") == [json.loads(r.body) for r in page.rows]
    assert json.loads(text.served) == [[r.object_id, r.version, r.tlp] for r in page.rows]
    assert (text.more, text.next) == (page.more, page.next)
    if page.rows:
        assert (text.first_added, text.last_added) == (page.rows[0].date_added, page.rows[-1].date_added)


def test_being_named_as_a_recipient_is_exact(tmp_path: Path) -> None:
    """A RED object for "DE" goes to DE only: not to a partner "de", nor to one whose id contains it."""
    node = build_node(tmp_path / "ws", count=1)
    for other in ("de", "D", "XDE"):
        node.store.add_partner(other, other, TLP.RED)
        node.store.grant(other, COLLECTION)
        key = node.store.issue_api_key(other)
        with TestClient(create_app(node.workspace)) as client:
            body = client.get(OBJECTS, headers={"Authorization": f"Bearer {key}", "Accept": MEDIA}).json()
        assert "DE" not in {r for o in body["objects"] for r in o.get("x_rrm_recipients", [])}
        assert len(body["objects"]) == len(node.objects) - 2  # all but the RED (DE) and AMBER+STRICT (CA) ones


def test_the_log_writer_never_checkpoints_and_a_thread_of_its_own_does(tmp_path: Path) -> None:
    store = TaxiiStore(f"sqlite:///{tmp_path / 'taxii.sqlite'}")
    log = DeliveryLog(store.deliveries_engine, checkpoint_every=0.05)
    entries = [Delivery(f"2026-11-01T00:00:{n:02d}.000000Z", "CA", COLLECTION, [(f"indicator--{n}", "v", "GREEN")])
               for n in range(3)]
    for entry in entries:
        log.record(entry)
    assert log._connection is not None
    assert log._connection.cursor().execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    in_file = f"file:{tmp_path / 'taxii.deliveries.sqlite'}?immutable=1"  # the database file, not its WAL
    deadline = time.monotonic() + 10
    while True:
        with contextlib.closing(sqlite3.connect(in_file, uri=True)) as db:
            try:
                copied = db.execute("SELECT count(*) FROM taxii_deliveries").fetchone()[0]
            except sqlite3.DatabaseError:  # not even the table is in the file yet, or a checkpoint is writing
                copied = 0  # it (read as immutable, a page may be caught half written): read again
        if copied == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert copied == 3
    log.close()
    store.close()


def test_a_large_batch_is_written_in_several_statements_in_order(tmp_path: Path) -> None:
    store = TaxiiStore(f"sqlite:///{tmp_path / 'taxii.sqlite'}")
    log = DeliveryLog(store.deliveries_engine)
    batch = [Delivery("2026-11-01T00:00:00.000000Z", "CA", COLLECTION, f'[["indicator--{n}","v","GREEN"]]')
             for n in range(450)]
    log._write(batch)  # one batch, as the writer would commit it: 450 rows, more than one INSERT holds
    assert [d["objects"][0][0] for d in store.deliveries("CA")] == [f"indicator--{n}" for n in range(450)]
    log.close()
    store.close()
