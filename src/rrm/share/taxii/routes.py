"""The TAXII 2.1 routes (OASIS TAXII 2.1, section 4 and 5), as a FastAPI router over ``TaxiiStore``.

Every response uses the TAXII media type; every error uses the TAXII error message format. A partner
that may not read a collection gets 404 for it, exactly as for a collection that does not exist, so
it learns nothing about collections it cannot see.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from rrm.errors import InputError, NotFoundError
from rrm.share.taxii.access import Partner
from rrm.share.taxii.store import MAX_PAGE, Filters, Page, TaxiiStore, parse_timestamp
from rrm.share.taxii.validate import MAX_DEPTH

__all__ = ["API_ROOT", "MAX_CONTENT_LENGTH", "TAXII_MEDIA_TYPE", "TaxiiError", "taxii_router"]

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
API_ROOT = "api1"
MAX_CONTENT_LENGTH = 10 * 1024 * 1024


class TaxiiError(Exception):
    def __init__(self, status: int, title: str, description: str = "", headers: dict[str, str] | None = None) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.description = description
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body = {"title": self.title, "http_status": str(self.status)}
        if self.description:
            body["description"] = self.description
        return JSONResponse(body, status_code=self.status, media_type=TAXII_MEDIA_TYPE, headers=self.headers)


def taxii(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status_code=status, media_type=TAXII_MEDIA_TYPE,
                    headers=headers)


def _acceptable(accept: str | None) -> bool:
    if not accept:
        return False
    for part in accept.split(","):
        media, *params = [p.strip().lower() for p in part.split(";")]
        if media == "application/taxii+json" and all(p.replace(" ", "") in ("version=2.1",) or p.startswith("q=")
                                                      for p in params):
            return True
    return False


def _authenticate(store: TaxiiStore, request: Request) -> Partner:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    partner: Partner | None = None
    if scheme.lower() in ("bearer", "token") and value:
        partner = store.partner_by_key(value.strip())
    elif scheme.lower() == "basic" and value:
        try:
            username, _, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            username, password = "", ""
        if username:
            partner = store.partner_by_password(username, password)
    if partner is None:
        raise TaxiiError(401, "Authentication required", "Use an API key (Bearer) or HTTP Basic credentials.",
                         {"WWW-Authenticate": 'Basic realm="RRM TAXII", Bearer'})
    return partner


def _filters(request: Request, default_versions: tuple[str, ...] = ("last",)) -> Filters:
    query = request.query_params

    def listed(name: str) -> tuple[str, ...]:
        values: list[str] = []
        for raw in query.getlist(name):
            values.extend(v.strip() for v in raw.split(",") if v.strip())
        return tuple(values)

    added_after = None
    if "added_after" in query:
        try:
            added_after = parse_timestamp(query["added_after"])
        except ValueError as exc:
            raise TaxiiError(400, "Invalid added_after", str(exc)) from exc
    versions = listed("match[version]") or default_versions
    for version in versions:
        if version not in ("last", "first", "all"):
            try:
                parse_timestamp(version)
            except ValueError as exc:
                raise TaxiiError(400, "Invalid match[version]", str(exc)) from exc
    return Filters(added_after, listed("match[id]"), listed("match[type]"), versions, listed("match[spec_version]"))


def _limit(request: Request) -> int | None:
    if "limit" not in request.query_params:
        return None
    text = request.query_params["limit"]
    if not text.isdigit() or int(text) < 1:
        raise TaxiiError(400, "Invalid limit", "limit is a positive whole number")
    return min(int(text), MAX_PAGE)


def _page_headers(page: Page) -> dict[str, str]:
    headers = {}
    if page.first_added:
        headers["X-TAXII-Date-Added-First"] = page.first_added
        headers["X-TAXII-Date-Added-Last"] = page.last_added or page.first_added
    return headers


def _envelope(page: Page) -> dict[str, Any]:
    body: dict[str, Any] = {"more": page.more}
    if page.next:
        body["next"] = page.next
    if page.rows:
        body["objects"] = [json.loads(r["body"]) for r in page.rows]
    return body


def taxii_router(store: TaxiiStore, title: str = "RRM TAXII 2.1 node") -> APIRouter:
    router = APIRouter()

    def guard(request: Request) -> Partner:
        partner = _authenticate(store, request)
        if not _acceptable(request.headers.get("accept")):
            raise TaxiiError(406, "Not acceptable", f"Accept must be {TAXII_MEDIA_TYPE}")
        return partner

    def read_page(request: Request, collection_id: str, object_id: str | None = None,
                  default_versions: tuple[str, ...] = ("last",)) -> tuple[Partner, Page]:
        partner = guard(request)
        try:
            access = store.access(partner, collection_id)
        except NotFoundError as exc:
            raise TaxiiError(404, "Collection not found") from exc
        if not access.can_read:
            raise TaxiiError(403, "Read access denied", "This partner may add to the collection but not read it.")
        try:
            page = store.page(access, collection_id, _filters(request, default_versions), _limit(request),
                              request.query_params.get("next"), object_id)
        except ValueError as exc:
            raise TaxiiError(400, "Invalid next", str(exc)) from exc
        return partner, page

    @router.get("/taxii2/")
    def discovery(request: Request) -> Response:
        guard(request)
        root = str(request.base_url).rstrip("/") + f"/{API_ROOT}/"
        return taxii({"title": title, "description": "Rapid Response Mechanism node", "default": root,
                      "api_roots": [root]})

    @router.get(f"/{API_ROOT}/")
    def api_root(request: Request) -> Response:
        guard(request)
        return taxii({"title": title, "versions": [TAXII_MEDIA_TYPE], "max_content_length": MAX_CONTENT_LENGTH})

    @router.get(f"/{API_ROOT}/status/{{status_id}}/")
    def status(request: Request, status_id: str) -> Response:
        partner = guard(request)
        try:
            return taxii(store.status(partner, status_id))
        except NotFoundError as exc:
            raise TaxiiError(404, "Status not found") from exc

    @router.get(f"/{API_ROOT}/collections/")
    def collections(request: Request) -> Response:
        partner = guard(request)
        found = store.collections_for(partner)
        return taxii({"collections": found} if found else {})

    @router.get(f"/{API_ROOT}/collections/{{collection_id}}/")
    def collection(request: Request, collection_id: str) -> Response:
        partner = guard(request)
        try:
            return taxii(store.collection_for(partner, collection_id))
        except NotFoundError as exc:
            raise TaxiiError(404, "Collection not found") from exc

    @router.get(f"/{API_ROOT}/collections/{{collection_id}}/objects/")
    def get_objects(request: Request, collection_id: str) -> Response:
        partner, page = read_page(request, collection_id)
        store.record_delivery(partner, collection_id, page.rows)
        return taxii(_envelope(page), headers=_page_headers(page))

    @router.get(f"/{API_ROOT}/collections/{{collection_id}}/objects/{{object_id}}/")
    def get_object(request: Request, collection_id: str, object_id: str) -> Response:
        partner, page = read_page(request, collection_id, object_id)
        if not page.rows and "next" not in request.query_params:
            raise TaxiiError(404, "Object not found")
        store.record_delivery(partner, collection_id, page.rows)
        return taxii(_envelope(page), headers=_page_headers(page))

    @router.get(f"/{API_ROOT}/collections/{{collection_id}}/objects/{{object_id}}/versions/")
    def versions(request: Request, collection_id: str, object_id: str) -> Response:
        _, page = read_page(request, collection_id, object_id, default_versions=("all",))
        if not page.rows and "next" not in request.query_params:
            raise TaxiiError(404, "Object not found")
        body: dict[str, Any] = {"more": page.more, "versions": [r["version"] for r in page.rows]}
        if page.next:
            body["next"] = page.next
        return taxii(body, headers=_page_headers(page))

    @router.get(f"/{API_ROOT}/collections/{{collection_id}}/manifest/")
    def manifest(request: Request, collection_id: str) -> Response:
        _, page = read_page(request, collection_id)
        body: dict[str, Any] = {"more": page.more}
        if page.next:
            body["next"] = page.next
        if page.rows:
            body["objects"] = [
                {"id": r["object_id"], "date_added": _added(r), "version": r["version"],
                 "media_type": "application/stix+json;version=2.1"}
                for r in page.rows
            ]
        return taxii(body, headers=_page_headers(page))

    @router.post(f"/{API_ROOT}/collections/{{collection_id}}/objects/")
    async def add_objects(request: Request, collection_id: str) -> Response:
        partner = guard(request)
        try:
            access = store.access(partner, collection_id)
        except NotFoundError as exc:
            raise TaxiiError(404, "Collection not found") from exc
        if not access.can_write:
            raise TaxiiError(403, "Write access denied")
        content_type = (request.headers.get("content-type") or "").replace(" ", "").lower()
        if not content_type.startswith("application/taxii+json") or (
            "version=" in content_type and "version=2.1" not in content_type
        ):
            raise TaxiiError(415, "Unsupported media type", f"Content-Type must be {TAXII_MEDIA_TYPE}")
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_CONTENT_LENGTH:
            raise TaxiiError(413, "Payload too large", f"at most {MAX_CONTENT_LENGTH} bytes")
        raw = await _bounded_body(request)
        envelope = _parse_envelope(raw)
        try:
            status_resource = store.add(collection_id, envelope, partner.id)
        except InputError as exc:
            raise TaxiiError(422, "Objects not stored", exc.message) from exc
        return taxii(status_resource, status=202)

    @router.delete(f"/{API_ROOT}/collections/{{collection_id}}/objects/{{object_id}}/")
    def delete_object(request: Request, collection_id: str, object_id: str) -> Response:
        partner = guard(request)
        try:
            access = store.access(partner, collection_id)
        except NotFoundError as exc:
            raise TaxiiError(404, "Collection not found") from exc
        if not (access.can_read and access.can_write):
            raise TaxiiError(403, "Delete denied", "Deleting needs read and write access.")
        if store.delete_object(collection_id, object_id, _filters(request, ("all",))) == 0:
            raise TaxiiError(404, "Object not found")
        return Response(status_code=200, media_type=TAXII_MEDIA_TYPE)

    return router


def _added(row: dict[str, Any]) -> str:
    from rrm.share.taxii.store import format_timestamp

    return format_timestamp(int(row["date_added"]))


async def _bounded_body(request: Request) -> bytes:
    received = bytearray()
    async for chunk in request.stream():
        received.extend(chunk)
        if len(received) > MAX_CONTENT_LENGTH:
            raise TaxiiError(413, "Payload too large", f"at most {MAX_CONTENT_LENGTH} bytes")
    return bytes(received)


def _parse_envelope(raw: bytes) -> list[object]:
    try:
        envelope = json.loads(raw)
    except RecursionError as exc:
        raise TaxiiError(422, "Too deeply nested", f"objects may nest at most {MAX_DEPTH} levels") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TaxiiError(422, "Malformed JSON", str(exc)[:200]) from exc
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
        raise TaxiiError(422, "Not a TAXII envelope", "expected an object with an 'objects' list")
    objects: list[object] = envelope["objects"]
    return objects
