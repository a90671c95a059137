"""The node against the real ``taxii2-client`` library and ``stix2``'s TAXIICollectionSource, over a real
uvicorn server with two worker processes (``next`` tokens must stay valid whichever process answers)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stix2
from requests import HTTPError
from taxii2client.common import TokenAuth
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from rrm.frameworks.tlp import TLP
from taxii_fixtures import COLLECTION, Node, build_node, indicator, serve


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Node:
    return build_node(tmp_path_factory.mktemp("taxii-client") / "ws", count=230)


@pytest.fixture(scope="module")
def base(node: Node) -> Iterator[str]:
    yield from serve(node.workspace, workers=2)


def test_discovery_api_root_and_collections(base: str, node: Node) -> None:
    server = Server(f"{base}/taxii2/", auth=TokenAuth(node.keys["NGO"]))
    assert server.title == "RRM TAXII 2.1 node"
    root: ApiRoot = server.api_roots[0]
    assert root.versions == ["application/taxii+json;version=2.1"]
    assert [c.id for c in root.collections] == [COLLECTION]
    assert root.collections[0].can_read and not root.collections[0].can_write


def test_paging_with_as_pages_across_two_workers(base: str, node: Node) -> None:
    collection = Collection(f"{base}/api1/collections/{COLLECTION}/", auth=TokenAuth(node.keys["NGO"]))
    pages = [page for page in as_pages(collection.get_objects, per_request=17)]
    ids = [o["id"] for page in pages for o in page.get("objects", [])]
    assert len(pages) > 10
    assert len(ids) == len(set(ids)) == 230 + 5  # the GREEN indicators and the five TLP marking definitions (CLEAR)
    manifest = [m for page in as_pages(collection.get_manifest, per_request=50) for m in page.get("objects", [])]
    assert {m["id"] for m in manifest} == set(ids)


def test_add_and_read_back_with_the_client(base: str, node: Node) -> None:
    collection = Collection(f"{base}/api1/collections/{COLLECTION}/", auth=TokenAuth(node.keys["CA"]))
    new = indicator(424242, TLP.GREEN)
    status = collection.add_objects(stix2.Bundle(objects=[stix2.parse(new)], allow_custom=True).serialize())
    assert status.status == "complete" and status.success_count == 1
    assert collection.get_object(new["id"])["objects"][0]["id"] == new["id"]


def test_stix2_taxii_collection_source(base: str, node: Node) -> None:
    collection = Collection(f"{base}/api1/collections/{COLLECTION}/", auth=TokenAuth(node.keys["DE"]))
    source = stix2.TAXIICollectionSource(collection, allow_custom=True)
    red = source.get(indicator(2000, None)["id"])
    assert red is not None and red.name == "Link-farm domain 2000"
    found = source.query([stix2.Filter("type", "=", "indicator")])
    assert len(found) > 200


def test_unauthorised_client_learns_nothing(base: str, node: Node) -> None:
    with pytest.raises(HTTPError, match="401"):
        Server(f"{base}/taxii2/", auth=TokenAuth("rrm_not-a-key")).refresh()
    outsider = Collection(f"{base}/api1/collections/{COLLECTION}/", auth=TokenAuth(node.keys["OUT"]))
    with pytest.raises(HTTPError, match="404"):
        outsider.get_objects()
