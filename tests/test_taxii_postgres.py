"""The TAXII node on PostgreSQL (``RRM_TAXII_DATABASE_URL``) as on SQLite: the same pages, TLP and delivery log.

A real PostgreSQL cluster is started by the tests (``cases_pg.postgres_fixture``, shared through ``conftest.py``); each test gets a
database of its own.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cases_pg import PostgresCluster
from rrm.share.taxii.store import Filters
from rrm.web.app import create_app
from taxii_fixtures import COLLECTION, MEDIA, Node, build_node

OBJECTS = f"/api1/collections/{COLLECTION}/objects/"


@pytest.fixture(name="node", params=["sqlite", "postgresql"])
def node_fixture(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Node:
    """A node on a SQLite file, and the same node on a PostgreSQL database of its own."""
    if request.param == "postgresql":
        postgres: PostgresCluster = request.getfixturevalue("postgres")
        database = "rrm_taxii_" + uuid.uuid4().hex[:12]
        postgres.execute(f"CREATE DATABASE {database}")
        monkeypatch.setenv("RRM_TAXII_DATABASE_URL", postgres.url(database))
    else:
        monkeypatch.delenv("RRM_TAXII_DATABASE_URL", raising=False)
    node = build_node(tmp_path / "ws", count=30)
    assert node.store.engine.dialect.name == request.param
    return node


def _ids(body: dict[str, object]) -> set[str]:
    return {str(o["id"]) for o in body.get("objects", [])}  # type: ignore[union-attr]


def test_pages_tlp_and_the_delivery_log(node: Node) -> None:
    with TestClient(create_app(node.workspace)) as client:
        seen: set[str] = set()
        query = "?limit=7"
        while True:
            response = client.get(OBJECTS + query, headers={"Authorization": f"Bearer {node.keys['NGO']}",
                                                            "Accept": MEDIA})
            assert response.status_code == 200, response.text
            body = response.json()
            assert not seen & _ids(body)
            seen |= _ids(body)
            if not body["more"]:
                break
            query = f"?limit=7&next={body['next']}"
        red = client.get(OBJECTS, headers={"Authorization": f"Bearer {node.keys['DE']}", "Accept": MEDIA}).json()
        refused = client.get(OBJECTS, headers={"Authorization": f"Bearer {node.keys['OUT']}", "Accept": MEDIA})
    # NGO may read up to GREEN: the markings and the 30 GREEN indicators; never AMBER, RED or unmarked ones
    names = {o["name"] for o in node.objects if o["id"] in seen and o["type"] == "indicator"}
    assert names == {f"Link-farm domain {n}" for n in range(1, 31)}
    assert "Link-farm domain 2000" in {o.get("name") for o in red["objects"]}  # RED, named recipient DE
    assert refused.status_code == 404  # no rights on the collection: not even told that it exists
    logged = node.store.deliveries("NGO")
    assert sum(len(d["objects"]) for d in logged) == len(seen)


def test_page_text_equals_page(node: Node) -> None:
    partner = node.store.partner_by_key(node.keys["CA"])
    assert partner is not None
    access = node.store.access(partner, COLLECTION)
    for filters, limit in ((Filters(), 5), (Filters(types=("indicator",)), 100), (Filters(added_after=0), None)):
        page = node.store.page(access, COLLECTION, filters, limit, None)
        text = node.store.page_text(access, COLLECTION, filters, limit, None)
        assert json.loads(f"[{text.objects}]") == [json.loads(r.body) for r in page.rows]
        assert (text.count, text.more, text.next) == (len(page.rows), page.more, page.next)
