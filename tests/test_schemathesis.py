"""Property-based testing of the TAXII node from its own OpenAPI document (``/openapi.json``) with schemathesis.

Schemathesis generates requests for every route from the declared parameters, bodies and responses,
sends them authenticated as a partner with read and write rights, and checks: no 5xx, every status
and content type declared, every body as declared, and every error in the TAXII error shape. The run
is bounded (a few hundred requests, seconds).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from rrm.web.app import create_app
from taxii_fixtures import COLLECTION, MEDIA, build_node

_NODE = build_node(Path(__import__("tempfile").mkdtemp(prefix="rrm-schemathesis-")) / "ws", count=5)
_APP = create_app(_NODE.workspace)
schema = schemathesis.openapi.from_asgi("/openapi.json", _APP)
KNOWN_IDS = [o["id"] for o in _NODE.objects[:12]]


@schema.hook
def flatmap_path_parameters(_context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """Half the requests go to the real collection and its objects, so that the filters are exercised."""
    if not path_parameters or "collection_id" not in path_parameters:
        return st.just(path_parameters)
    real = {**path_parameters, "collection_id": COLLECTION}
    if "object_id" in path_parameters:
        return st.sampled_from(KNOWN_IDS).map(lambda oid: {**real, "object_id": oid}) | st.just(path_parameters)
    return st.sampled_from([real, path_parameters])


AUTH = {"Authorization": f"Bearer {_NODE.keys['CA']}", "Accept": MEDIA}


def taxii_error_shape(_ctx: Any, response: Any, _case: Any) -> None:
    """Every error is a TAXII error message, in the TAXII media type."""
    if response.status_code < 400:
        return
    assert response.headers.get("content-type", [""])[0] == MEDIA, response.headers
    body = json.loads(response.content)
    assert isinstance(body.get("title"), str) and body["title"]
    assert body.get("http_status") == str(response.status_code)


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          taxii_error_shape]


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_route_answers_as_declared(case: Any) -> None:
    case.call_and_validate(headers=AUTH, checks=CHECKS)


@pytest.mark.parametrize("headers", [{"Accept": MEDIA}, {"Authorization": "Bearer rrm_wrong", "Accept": MEDIA},
                                     {"Authorization": AUTH["Authorization"], "Accept": "text/html"}])
def test_unauthenticated_or_unacceptable_requests_get_taxii_errors(headers: dict[str, str]) -> None:
    from fastapi.testclient import TestClient

    with TestClient(_APP) as client:
        for path in schema.raw_schema["paths"]:
            concrete = path.replace("{collection_id}", "c").replace("{object_id}", "o").replace("{status_id}", "s")
            response = client.get(concrete, headers=headers)
            assert response.status_code in (401, 405, 406), (path, response.status_code)
            assert response.headers["content-type"] == MEDIA
            assert response.json()["http_status"] == str(response.status_code)


def test_the_schema_declares_the_taxii_parameters() -> None:
    operation = schema.raw_schema["paths"]["/api1/collections/{collection_id}/objects/"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"added_after", "match[id]", "match[type]", "match[version]", "match[spec_version]", "limit",
            "next"} <= names
    assert set(operation["responses"]) >= {"200", "400", "401", "404", "406"}
    assert MEDIA in operation["responses"]["200"]["content"]
