"""The per-process cache of credentials and rights never outlives a change, and the delivery log stays complete.

Changes are made through a second ``TaxiiStore`` on the same file, as ``rrm taxii ...`` does from
another process while the server runs; the cross-process case runs a real uvicorn with two workers.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from rrm.cli.app import app
from rrm.frameworks.tlp import TLP
from rrm.share.taxii.authcache import EpochCache
from rrm.share.taxii.deliveries import Delivery, DeliveryLog
from rrm.share.taxii.store import TaxiiStore
from rrm.web.app import create_app, taxii_database_url
from rrm.workspace import Workspace
from taxii_fixtures import COLLECTION, MEDIA, Node, build_node, indicator, serve, serve_process

OBJECTS = f"/api1/collections/{COLLECTION}/objects/"


@pytest.fixture()
def node(tmp_path: Path) -> Node:
    return build_node(tmp_path / "ws", count=5)


@pytest.fixture()
def client(node: Node) -> Iterator[TestClient]:
    with TestClient(create_app(node.workspace)) as test_client:
        yield test_client


def other_process_store(node: Node) -> TaxiiStore:
    return TaxiiStore(taxii_database_url(node.workspace))


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Accept": MEDIA}


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Accept": MEDIA}


def test_a_revoked_key_fails_on_the_next_request(node: Node, client: TestClient) -> None:
    for _ in range(3):
        assert client.get(OBJECTS, headers=bearer(node.keys["CA"])).status_code == 200
    admin = other_process_store(node)
    assert admin.revoke_key(node.keys["CA"]) is True
    response = client.get(OBJECTS, headers=bearer(node.keys["CA"]))
    assert response.status_code == 401 and "objects" not in response.text
    assert client.get(OBJECTS, headers=bearer(node.keys["DE"])).status_code == 200  # others unaffected
    assert admin.revoke_credentials("DE") == 1
    assert client.get(OBJECTS, headers=bearer(node.keys["DE"])).status_code == 401
    admin.close()


def test_withdrawn_rights_and_a_lower_agreement_apply_on_the_next_request(node: Node, client: TestClient) -> None:
    def names(key: str) -> set[str]:
        return {o.get("name", "") for o in client.get(OBJECTS, headers=bearer(key)).json()["objects"]}

    amber = indicator(1000, TLP.AMBER)["name"]
    assert amber in names(node.keys["CA"])
    admin = other_process_store(node)
    admin.add_partner("CA", "Partner CA", TLP.GREEN)
    assert amber not in names(node.keys["CA"])
    admin.grant("CA", COLLECTION, read=False, write=False)
    assert client.get(OBJECTS, headers=bearer(node.keys["CA"])).status_code == 404
    admin.grant("CA", COLLECTION, read=True)
    assert client.get(OBJECTS, headers=bearer(node.keys["CA"])).status_code == 200
    admin.close()


def test_a_changed_password_applies_on_the_next_request(node: Node, client: TestClient) -> None:
    old = basic("ngo-analyst", "correct horse battery staple")
    assert client.get(OBJECTS, headers=old).status_code == 200
    assert client.get(OBJECTS, headers=old).status_code == 200  # from the cache
    admin = other_process_store(node)
    admin.set_password("NGO", "ngo-analyst", "a new passphrase")
    assert client.get(OBJECTS, headers=old).status_code == 401
    assert client.get(OBJECTS, headers=basic("ngo-analyst", "a new passphrase")).status_code == 200
    admin.close()


def test_only_verified_logins_are_cached(node: Node) -> None:
    store = node.store
    assert store.partner_by_password("ngo-analyst", "wrong") is None
    assert store.cached_login("ngo-analyst", "wrong") is None
    assert store.cached_login("ngo-analyst", "correct horse battery staple") is None
    partner = store.partner_by_password("ngo-analyst", "correct horse battery staple")
    assert partner is not None and partner.id == "NGO"
    assert store.cached_login("ngo-analyst", "correct horse battery staple") == partner
    assert store.cached_login("ngo-analyst", "correct horse battery stapl") is None


def test_every_change_to_access_moves_the_epoch(node: Node) -> None:
    store = node.store
    seen = [store.access_epoch()]
    for change in (lambda: store.create_collection("new", "New"), lambda: store.add_partner("X", "X", TLP.CLEAR),
                   lambda: store.issue_api_key("X"), lambda: store.set_password("X", "x", "pw"),
                   lambda: store.grant("X", "new"), lambda: store.revoke_credentials("X")):
        change()
        seen.append(store.access_epoch())
    assert seen == sorted(set(seen))


def test_the_cache_is_bounded_and_expires() -> None:
    cache: EpochCache[str] = EpochCache(size=2, ttl=60)
    cache.put("a", "A", 1)
    cache.put("b", "B", 1)
    assert cache.get("a", 1) == "A"  # a is now the most recent
    cache.put("c", "C", 1)
    assert cache.get("b", 1) is None and cache.get("a", 1) == "A" and len(cache) == 2
    assert cache.get("a", 2) is None  # another epoch: gone
    short: EpochCache[str] = EpochCache(ttl=0.01)
    short.put("k", "v", 1)
    time.sleep(0.02)
    assert short.get("k", 1) is None


def read_all(base: str, key: str) -> list[list[tuple[str, str]]]:
    """Every page of the collection, 3 objects a page: the (id, version) of each object served."""
    pages = []
    with httpx.Client(headers=bearer(key), timeout=30) as http:
        params = {"limit": "3"}
        while True:
            body = http.get(base + OBJECTS, params=params).json()
            pages.append([(o["id"], o.get("modified", o.get("created"))) for o in body["objects"]])
            if not body["more"]:
                return pages
            params["next"] = body["next"]


def test_two_workers_log_every_delivery_and_honour_a_revocation(node: Node) -> None:
    """Concurrent readers on two uvicorn workers: each page served is in the log, object by object; then
    a key both workers have cached is revoked, and no request gets through any more."""
    served: list[tuple[str, list[tuple[str, str]]]] = []
    partners = ["CA", "NGO", "DE"] * 8
    for base in serve(node.workspace, workers=2):
        with ThreadPoolExecutor(8) as pool:
            keys = [node.keys[p] for p in partners]
            for partner, pages in zip(partners, pool.map(read_all, [base] * len(keys), keys), strict=True):
                served.extend((partner, objects) for objects in pages if objects)
        logged = node.store.deliveries()
        assert len(logged) == len(served) > 24
        as_served = sorted((p, sorted(objs)) for p, objs in served)
        as_logged = sorted((d["partner"], sorted((o[0], o[1]) for o in d["objects"])) for d in logged)
        assert as_logged == as_served
        assert all(o[2] in {t.name for t in TLP} for d in logged for o in d["objects"])

        with httpx.Client(headers=bearer(node.keys["NGO"]), timeout=30) as http:
            assert all(http.get(base + OBJECTS).status_code == 200 for _ in range(10))
            node.store.revoke_key(node.keys["NGO"])
            statuses = {http.get(base + OBJECTS).status_code for _ in range(10)}
        for _ in range(10):  # new connections too, whichever worker takes them
            statuses.add(httpx.get(base + OBJECTS, headers=bearer(node.keys["NGO"]), timeout=30).status_code)
        assert statuses == {401}


def test_a_delivery_that_cannot_be_logged_is_not_sent(tmp_path: Path) -> None:
    log = DeliveryLog(create_engine(f"sqlite:///{tmp_path / 'no-tables.sqlite'}"))
    delivery = Delivery("2026-11-01T00:00:00.000000Z", "CA", COLLECTION, [("indicator--x", "v", "GREEN")])
    with pytest.raises(OperationalError):
        log.record(delivery)
    with pytest.raises(OperationalError):  # the event loop's way, as the routes wait
        asyncio.run(log.logged(delivery))
    log.close()


def test_closing_the_log_commits_what_is_queued(tmp_path: Path) -> None:
    store = TaxiiStore(f"sqlite:///{tmp_path / 'taxii.sqlite'}")
    log = DeliveryLog(store.engine)
    pending = [log.submit(Delivery(f"2026-11-01T00:00:{n:02d}.000000Z", "CA", COLLECTION,
                                   [(f"indicator--{n}", "v", "GREEN")])) for n in range(50)]
    log.close()
    assert all(f.done() and f.exception() is None for f in pending)
    logged = store.deliveries("CA")
    assert [d["objects"][0][0] for d in logged] == [f"indicator--{n}" for n in range(50)]
    assert json.loads(json.dumps(logged[0]["objects"])) == [["indicator--0", "v", "GREEN"]]
    store.close()


def test_shutdown_closes_the_store_and_a_restart_serves_and_logs_again(node: Node) -> None:
    app = create_app(node.workspace)
    for _ in range(2):  # the second start reuses the store the first shutdown closed
        with TestClient(app) as test_client:
            assert test_client.get(OBJECTS, headers=bearer(node.keys["NGO"])).status_code == 200
    assert len(node.store.deliveries("NGO")) == 2


def test_cli_revoke_withdraws_one_key_or_all(tmp_path: Path) -> None:
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    store = TaxiiStore(taxii_database_url(workspace))
    store.add_partner("DE", "Germany", TLP.AMBER)
    store.add_partner("FR", "France", TLP.AMBER)
    first, second, other = store.issue_api_key("DE"), store.issue_api_key("DE"), store.issue_api_key("FR")
    runner = CliRunner()
    base = ["taxii", "revoke", "--workspace", str(workspace.root)]
    refused = runner.invoke(app, [*base, "DE", "--key", other])  # FR's key cannot be revoked as DE's
    assert refused.exit_code != 0 and "not a key of partner" in refused.output
    assert store.partner_by_key(other) is not None
    one = runner.invoke(app, [*base, "DE", "--json"], env={"RRM_REVOKE_KEY": first})
    assert one.exit_code == 0, one.output
    assert '"revoked": 1' in one.output
    assert store.partner_by_key(first) is None and store.partner_by_key(second) is not None
    everything = runner.invoke(app, [*base, "DE"])
    assert everything.exit_code == 0 and "1 credential(s) of DE withdrawn" in everything.output
    assert store.partner_by_key(second) is None and store.partner_by_key(other) is not None


def _listening_and_connected(pid: int, port: int) -> tuple[set[str], int]:
    """(inodes of the listening sockets, count of established connections) on ``port`` of process ``pid``."""
    inodes = set()
    try:
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # the process ended between the listing of /proc and now (a worker just killed, reaped)
        return set(), 0
    for fd in descriptors:
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    listening: set[str] = set()
    connected = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[9] in inodes:
                if fields[3] == "0A":
                    listening.add(fields[9])
                connected += fields[3] == "01"
    return listening, connected


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads the kernel's socket tables (Linux)")
def test_rrm_serve_gives_each_worker_its_own_socket_and_spreads_connections(node: Node) -> None:
    """``rrm serve --workers 2``: two worker processes, each listening on its own SO_REUSEPORT socket, and
    a burst of keep-alive connections lands on both (all 40 on one has odds of 2**-39)."""
    for base, supervisor in serve_process(node.workspace, workers=2):
        port = int(base.rsplit(":", 1)[1])
        deadline = time.monotonic() + 60
        while True:  # the first worker up answers already; wait for the second one's socket
            children = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
                        and _parent_of(int(p.name)) == supervisor]
            workers = [pid for pid in children if _listening_and_connected(pid, port)[0]]  # not the resource tracker
            if len(workers) >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert len(workers) == 2
        assert _listening_and_connected(supervisor, port) == (set(), 0)  # it holds the port, never listening
        clients = [httpx.Client(headers=bearer(node.keys["CA"]), timeout=30) for _ in range(40)]
        try:
            assert all(c.get(base + OBJECTS).status_code == 200 for c in clients)  # each keeps its connection
            sockets = [_listening_and_connected(pid, port) for pid in workers]
        finally:
            for c in clients:
                c.close()
        (first, _), (second, _) = sockets
        assert len(first) == len(second) == 1 and first != second  # not one socket inherited by both
        assert all(connected > 0 for _, connected in sockets)
        assert sum(connected for _, connected in sockets) == 40
        assert len(node.store.deliveries("CA")) == 40


def _parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _workers_of(supervisor: int, port: int) -> list[int]:
    children = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _parent_of(int(p.name)) == supervisor]
    return [pid for pid in children if _listening_and_connected(pid, port)[0]]


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads the kernel's socket tables (Linux)")
def test_rrm_serve_starts_a_dead_worker_again(node: Node) -> None:
    for base, supervisor in serve_process(node.workspace, workers=2):
        port = int(base.rsplit(":", 1)[1])
        deadline = time.monotonic() + 60
        while len(workers := _workers_of(supervisor, port)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(workers) == 2
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = _workers_of(supervisor, port)
            if len(now) == 2 and workers[0] not in now:
                break
            time.sleep(0.2)
        assert len(now) == 2 and workers[0] not in now and workers[1] in now
        assert all(httpx.get(base + OBJECTS, headers=bearer(node.keys["CA"]), timeout=30).status_code == 200
                   for _ in range(10))
