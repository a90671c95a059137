"""TAXII 2.1 conformance of the RRM node, endpoint by endpoint, filter by filter, error by error.

These tests speak HTTP to the application in-process (FastAPI's TestClient); ``test_taxii_client.py``
drives a real uvicorn server with the ``taxii2-client`` library. Written so that another server can
be checked by pointing the same requests at it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from stix2validator import validate_instance

from rrm.frameworks.tlp import TLP
from rrm.web.app import create_app
from taxii_fixtures import COLLECTION, MEDIA, OTHER, Node, build_node, indicator

ROOT = "/api1"
OBJECTS = f"{ROOT}/collections/{COLLECTION}/objects/"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Node:
    return build_node(tmp_path_factory.mktemp("taxii") / "ws")


@pytest.fixture(scope="module")
def client(node: Node) -> Iterator[TestClient]:
    with TestClient(create_app(node.workspace)) as test_client:
        yield test_client


def headers(node: Node, partner: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {node.keys[partner]}", "Accept": MEDIA, **extra}


def all_objects(client: TestClient, node: Node, partner: str, path: str = OBJECTS, **params: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    query = dict(params)
    while True:
        response = client.get(path, headers=headers(node, partner), params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        found += body.get("objects", [])
        if not body["more"]:
            return found
        query["next"] = body["next"]


# --- discovery, API root, collections ------------------------------------------------------------

def test_discovery_and_api_root(client: TestClient, node: Node) -> None:
    discovery = client.get("/taxii2/", headers=headers(node, "CA"))
    assert discovery.status_code == 200
    assert discovery.headers["content-type"] == MEDIA
    assert discovery.json()["api_roots"] == ["http://testserver/api1/"]
    root = client.get(f"{ROOT}/", headers=headers(node, "CA")).json()
    assert root["versions"] == [MEDIA] and root["max_content_length"] > 0


def test_collections_show_only_what_the_partner_may_use(client: TestClient, node: Node) -> None:
    listed = client.get(f"{ROOT}/collections/", headers=headers(node, "NGO")).json()["collections"]
    assert [(c["id"], c["can_read"], c["can_write"]) for c in listed] == [(COLLECTION, True, False)]
    assert client.get(f"{ROOT}/collections/", headers=headers(node, "OUT")).json() == {}
    single = client.get(f"{ROOT}/collections/{COLLECTION}/", headers=headers(node, "CA")).json()
    assert single["can_write"] is True and single["media_types"] == ["application/stix+json;version=2.1"]


# --- objects, TLP ----------------------------------------------------------------------------------

def test_tlp_is_enforced_on_every_object(client: TestClient, node: Node) -> None:
    def names(partner: str) -> set[str]:
        return {o.get("name", o["type"]) for o in all_objects(client, node, partner) if o["type"] == "indicator"}

    ngo, ca, de = names("NGO"), names("CA"), names("DE")
    assert len(ngo) == 25  # GREEN only: no AMBER, no unmarked (treated as AMBER), no RED
    assert "Link-farm domain 1000" in ca and "Link-farm domain 3000" in ca
    assert "Link-farm domain 2001" in ca  # AMBER+STRICT, CA is a named recipient
    assert "Link-farm domain 2000" not in ca  # RED for DE only
    assert "Link-farm domain 2000" in de and "Link-farm domain 2001" not in de


def test_every_object_served_passes_the_stix_validator(client: TestClient, node: Node) -> None:
    served = all_objects(client, node, "DE")
    assert {o["id"] for o in served if o["type"] == "marking-definition"}  # TLP 2.0 definitions included
    for obj in served:
        result = validate_instance(obj)
        assert result.is_valid, (obj["id"], [str(e) for e in result.errors])


def test_paging_with_limit_and_next_is_complete_and_ordered(client: TestClient, node: Node) -> None:
    paged = all_objects(client, node, "CA", limit="4")
    whole = client.get(OBJECTS, headers=headers(node, "CA")).json()["objects"]
    assert [o["id"] for o in paged] == [o["id"] for o in whole]
    first = client.get(OBJECTS, headers=headers(node, "CA"), params={"limit": "4"})
    assert first.json()["more"] is True and len(first.json()["objects"]) == 4
    assert first.headers["X-TAXII-Date-Added-First"] < first.headers["X-TAXII-Date-Added-Last"]


def test_filters(client: TestClient, node: Node) -> None:
    one = node.objects[6]["id"]
    assert [o["id"] for o in all_objects(client, node, "CA", **{"match[id]": one})] == [one]
    types = {o["type"] for o in all_objects(client, node, "CA", **{"match[type]": "marking-definition"})}
    assert types == {"marking-definition"}
    assert all_objects(client, node, "CA", **{"match[spec_version]": "2.0"}) == []
    page = client.get(OBJECTS, headers=headers(node, "CA"), params={"limit": "3"})
    last_added = page.headers["X-TAXII-Date-Added-Last"]
    after = all_objects(client, node, "CA", added_after=last_added)
    assert len(after) == len(all_objects(client, node, "CA")) - 3


def test_versions_first_last_all_and_specific(client: TestClient, node: Node) -> None:
    original = indicator(5000, TLP.GREEN, modified="2026-11-02T00:00:00.000Z")
    newer = indicator(5000, TLP.GREEN, modified="2026-11-03T00:00:00.000Z")
    post = client.post(OBJECTS, headers=headers(node, "CA", **{"Content-Type": MEDIA}),
                       content=json.dumps({"objects": [original, newer]}))
    assert post.status_code == 202 and post.json()["success_count"] == 2
    path = f"{ROOT}/collections/{COLLECTION}/objects/{original['id']}/"
    assert [o["modified"] for o in all_objects(client, node, "NGO", path)] == ["2026-11-03T00:00:00.000Z"]
    first = all_objects(client, node, "NGO", path, **{"match[version]": "first"})
    assert [o["modified"] for o in first] == ["2026-11-02T00:00:00.000Z"]
    assert len(all_objects(client, node, "NGO", path, **{"match[version]": "all"})) == 2
    exact = all_objects(client, node, "NGO", path, **{"match[version]": "2026-11-02T00:00:00.000Z"})
    assert len(exact) == 1
    versions = client.get(path + "versions/", headers=headers(node, "NGO")).json()
    assert versions["versions"] == ["2026-11-02T00:00:00.000Z", "2026-11-03T00:00:00.000Z"]
    manifest = client.get(f"{ROOT}/collections/{COLLECTION}/manifest/", headers=headers(node, "NGO"),
                          params={"match[id]": original["id"]}).json()
    assert [m["version"] for m in manifest["objects"]] == ["2026-11-03T00:00:00.000Z"]


def test_status_and_idempotent_add(client: TestClient, node: Node) -> None:
    obj = indicator(6000, TLP.GREEN)
    for _ in range(2):
        response = client.post(OBJECTS, headers=headers(node, "WRITER", **{"Content-Type": MEDIA}),
                               content=json.dumps({"objects": [obj]}))
        assert response.status_code == 202
    status = client.get(f"{ROOT}/status/{response.json()['id']}/", headers=headers(node, "WRITER")).json()
    assert status["status"] == "complete" and status["success_count"] == 1
    found = all_objects(client, node, "CA", **{"match[id]": obj["id"], "match[version]": "all"})
    assert len(found) == 1


def test_delete_removes_every_version(client: TestClient, node: Node) -> None:
    obj = indicator(7000, TLP.GREEN)
    client.post(OBJECTS, headers=headers(node, "CA", **{"Content-Type": MEDIA}), content=json.dumps({"objects": [obj]}))
    path = f"{ROOT}/collections/{COLLECTION}/objects/{obj['id']}/"
    assert client.delete(path, headers=headers(node, "NGO")).status_code == 403
    assert client.delete(path, headers=headers(node, "CA")).status_code == 200
    assert client.get(path, headers=headers(node, "CA")).status_code == 404


# --- errors ----------------------------------------------------------------------------------------

def test_401_without_or_with_wrong_credentials(client: TestClient, node: Node) -> None:
    for auth in ({}, {"Authorization": "Bearer rrm_wrong"}, {"Authorization": "Basic bm90OmJhc2U2NA=="},
                 {"Authorization": "Basic %%%"}):
        response = client.get(OBJECTS, headers={"Accept": MEDIA, **auth})
        assert response.status_code == 401
        assert response.headers["content-type"] == MEDIA
        assert response.json()["http_status"] == "401"
        assert "objects" not in response.text


def test_basic_authentication(client: TestClient, node: Node) -> None:
    token = base64.b64encode(b"ngo-analyst:correct horse battery staple").decode()
    response = client.get(OBJECTS, headers={"Authorization": f"Basic {token}", "Accept": MEDIA})
    assert response.status_code == 200
    wrong = base64.b64encode(b"ngo-analyst:wrong").decode()
    assert client.get(OBJECTS, headers={"Authorization": f"Basic {wrong}", "Accept": MEDIA}).status_code == 401


def test_404_hides_whether_a_collection_exists(client: TestClient, node: Node) -> None:
    hidden = client.get(f"{ROOT}/collections/{OTHER}/objects/", headers=headers(node, "CA"))
    missing = client.get(f"{ROOT}/collections/00000000-0000-0000-0000-000000000000/objects/",
                         headers=headers(node, "CA"))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_403_without_the_right(client: TestClient, node: Node) -> None:
    post = client.post(OBJECTS, headers=headers(node, "NGO", **{"Content-Type": MEDIA}),
                       content=json.dumps({"objects": [indicator(8000, TLP.GREEN)]}))
    assert post.status_code == 403
    assert client.get(OBJECTS, headers=headers(node, "WRITER")).status_code == 403


def test_406_for_another_media_type(client: TestClient, node: Node) -> None:
    for accept in ("application/json", "application/taxii+json;version=2.0", "text/html"):
        response = client.get(OBJECTS, headers=headers(node, "CA", Accept=accept))
        assert response.status_code == 406, accept


def test_415_for_another_content_type(client: TestClient, node: Node) -> None:
    response = client.post(OBJECTS, headers=headers(node, "CA", **{"Content-Type": "application/json"}),
                           content=json.dumps({"objects": []}))
    assert response.status_code == 415


@pytest.mark.parametrize(
    "payload",
    [
        b"{not json",
        json.dumps({"objects": "nope"}).encode(),
        json.dumps({"objects": [{"type": "indicator", "id": "indicator--not-a-uuid"}]}).encode(),
        json.dumps({"objects": [{"type": "weapon", "id": "weapon--6f2d1a38-0a7b-4f3e-9a52-2b1c4a8e9d10"}]}).encode(),
        json.dumps({"objects": [{"type": "indicator", "spec_version": "2.1",
                                 "id": "indicator--6f2d1a38-0a7b-4f3e-9a52-2b1c4a8e9d10"}]}).encode(),
        b'{"objects": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}",
    ],
    ids=["malformed-json", "not-an-envelope", "bad-id", "unknown-type", "missing-properties", "deep-nesting"],
)
def test_422_and_nothing_partial_stored(client: TestClient, node: Node, payload: bytes) -> None:
    good = indicator(9000, TLP.GREEN)
    if payload.startswith(b'{"objects": [{'):
        envelope = json.loads(payload)
        envelope["objects"].insert(0, good)  # a valid object first: it must not be kept either
        payload = json.dumps(envelope).encode()
    response = client.post(OBJECTS, headers=headers(node, "CA", **{"Content-Type": MEDIA}), content=payload)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == MEDIA and response.json()["title"]
    assert all_objects(client, node, "CA", **{"match[id]": good["id"]}) == []


def test_413_for_an_oversized_payload(client: TestClient, node: Node) -> None:
    big = b'{"objects": [], "padding": "' + b"x" * (11 * 1024 * 1024) + b'"}'
    response = client.post(OBJECTS, headers=headers(node, "CA", **{"Content-Type": MEDIA}), content=big)
    assert response.status_code == 413


def test_400_for_bad_filters(client: TestClient, node: Node) -> None:
    for params in ({"added_after": "yesterday"}, {"limit": "-1"}, {"next": "garbage"},
                   {"match[version]": "not-a-date"}):
        assert client.get(OBJECTS, headers=headers(node, "CA"), params=params).status_code == 400, params


def test_deliveries_are_logged(node: Node, client: TestClient, tmp_path: Path) -> None:
    client.get(OBJECTS, headers=headers(node, "DE"), params={"match[id]": indicator(2000, None)["id"]})
    logged = node.store.deliveries("DE")
    assert logged and logged[-1]["objects"][0][2] == "RED"
