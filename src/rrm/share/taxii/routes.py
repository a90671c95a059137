"""The TAXII 2.1 routes (OASIS TAXII 2.1, section 4 and 5), as a FastAPI router over ``TaxiiStore``.

Every response uses the TAXII media type; every error uses the TAXII error message format. A partner
that may not read a collection gets 404 for it, exactly as for a collection that does not exist, so
it learns nothing about collections it cannot see.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ParamSpec, TypeVar
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from rrm.errors import InputError, NotFoundError
from rrm.share.taxii.access import Partner, TaxiiAccess
from rrm.share.taxii.store import MAX_PAGE, Filters, Page, TaxiiStore, format_timestamp, parse_timestamp
from rrm.share.taxii.validate import MAX_DEPTH

__all__ = ["API_ROOT", "MAX_CONTENT_LENGTH", "TAXII_MEDIA_TYPE", "TaxiiError", "TaxiiResponse", "taxii_router"]

P = ParamSpec("P")
R = TypeVar("R")

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


class TaxiiResponse(Response):
    media_type = TAXII_MEDIA_TYPE


def taxii(body: dict[str, Any] | str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    text = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
    return TaxiiResponse(text, status_code=status, headers=headers)


# --- what the routes declare in the OpenAPI document (/openapi.json) ---------------------------------

_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["title", "http_status"],
    "properties": {"title": {"type": "string"}, "description": {"type": "string"},
                   "http_status": {"type": "string"}},
}
_ERRORS = {
    400: "An unreadable filter, limit or next.",
    401: "No or wrong credentials.",
    403: "The partner may see the collection but lacks the right.",
    404: "No such collection (or the partner may not see it), object or status.",
    406: f"Accept is not {TAXII_MEDIA_TYPE}.",
    413: "The payload is too large.",
    415: f"Content-Type is not {TAXII_MEDIA_TYPE}.",
    422: "The objects are not valid STIX 2.1; nothing was stored.",
}
_STIX_OBJECT: dict[str, Any] = {"type": "object", "required": ["type", "id"],
                                "properties": {"type": {"type": "string"}, "id": {"type": "string"}}}
_ENVELOPE: dict[str, Any] = {
    "type": "object", "required": ["more"],
    "properties": {"more": {"type": "boolean"}, "next": {"type": "string"},
                   "objects": {"type": "array", "items": _STIX_OBJECT}},
}
_VERSIONS: dict[str, Any] = {
    "type": "object", "required": ["more"],
    "properties": {"more": {"type": "boolean"}, "next": {"type": "string"},
                   "versions": {"type": "array", "items": {"type": "string"}}},
}
_MANIFEST: dict[str, Any] = {
    "type": "object", "required": ["more"],
    "properties": {"more": {"type": "boolean"}, "next": {"type": "string"},
                   "objects": {"type": "array", "items": {
                       "type": "object", "required": ["id", "date_added", "version"],
                       "properties": {"id": {"type": "string"}, "date_added": {"type": "string"},
                                      "version": {"type": "string"}, "media_type": {"type": "string"}}}}},
}
_STATUS: dict[str, Any] = {
    "type": "object", "required": ["id", "status", "total_count", "success_count", "failure_count", "pending_count"],
    "properties": {"id": {"type": "string"}, "status": {"type": "string"},
                   "total_count": {"type": "integer"}, "success_count": {"type": "integer"},
                   "failure_count": {"type": "integer"}, "pending_count": {"type": "integer"}},
}
_DISCOVERY: dict[str, Any] = {"type": "object", "required": ["title"],
                              "properties": {"title": {"type": "string"},
                                             "api_roots": {"type": "array", "items": {"type": "string"}}}}
_API_ROOT: dict[str, Any] = {"type": "object", "required": ["title", "versions", "max_content_length"],
                             "properties": {"title": {"type": "string"},
                                            "versions": {"type": "array", "items": {"type": "string"}},
                                            "max_content_length": {"type": "integer"}}}
_COLLECTION: dict[str, Any] = {"type": "object", "required": ["id", "title", "can_read", "can_write"],
                               "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                                              "can_read": {"type": "boolean"}, "can_write": {"type": "boolean"}}}
_COLLECTIONS: dict[str, Any] = {"type": "object",
                                "properties": {"collections": {"type": "array", "items": _COLLECTION}}}


def _responses(schema: dict[str, Any] | None, *codes: int, success: int = 200) -> dict[int | str, dict[str, Any]]:
    ok: dict[str, Any] = {"description": "Success."}
    if schema is not None:
        ok["content"] = {TAXII_MEDIA_TYPE: {"schema": schema}}
    declared: dict[int | str, dict[str, Any]] = {success: ok}
    for code in (401, 406, *codes, 400):
        declared[code] = {"description": _ERRORS[code], "content": {TAXII_MEDIA_TYPE: {"schema": _ERROR_SCHEMA}}}
    return declared


_FILTER_CODES = (400, 403, 404)


@dataclass(frozen=True)
class _Query:
    """The paging and filter parameters of a request, as declared to OpenAPI and received."""

    added_after: str | None
    ids: list[str]
    types: list[str]
    versions: list[str]
    spec_versions: list[str]
    limit: int | None
    next: str | None


def _parameter(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    declared: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        declared["description"] = description
    return declared


_LIST = {"type": "array", "items": {"type": "string"}}
# Declared here and read by hand in ``_query_of``: solving them as a FastAPI dependency cost about 0.3 ms
# of CPU per request (measured), most of what the page query itself costs.
_QUERY_PARAMETERS = [
    _parameter("added_after", {"type": "string", "examples": ["2026-11-01T00:00:00.000Z"]},
               "Only versions added after this timestamp."),
    _parameter("match[id]", _LIST, "Object ids (comma-separated)."),
    _parameter("match[type]", _LIST, "STIX types."),
    _parameter("match[version]", _LIST, "last (default), first, all, or timestamps."),
    _parameter("match[spec_version]", _LIST),
    _parameter("limit", {"type": "integer", "minimum": 1}, "Objects per page (at most 1000)."),
    _parameter("next", {"type": "string"}, "The next token of the previous page."),
]

_FILTERS: dict[str, Any] = {"parameters": _QUERY_PARAMETERS}


_LISTED = ("match[id]", "match[type]", "match[version]", "match[spec_version]")


def _query_of(request: Request) -> _Query:
    """The parameters as Starlette's ``request.query_params`` reads them (a single one: the last given),
    parsed straight from the query string: no multi-dict built on every page."""
    raw: bytes = request.scope.get("query_string", b"")
    single: dict[str, str] = {}
    lists: dict[str, list[str]] = {name: [] for name in _LISTED}
    if raw:
        for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
            listed = lists.get(name)
            if listed is not None:
                listed.append(value)
            single[name] = value
    limit: int | None = None
    text = single.get("limit")
    if text is not None:
        if not (text.isascii() and text.isdigit()) or int(text) < 1:
            raise TaxiiError(400, "Invalid limit", "limit must be a whole number of at least 1")
        limit = int(text)
    return _Query(single.get("added_after"), lists["match[id]"], lists["match[type]"], lists["match[version]"],
                  lists["match[spec_version]"], limit, single.get("next"))


def _header(request: Request, name: bytes) -> str | None:
    """The first ``name`` header of the request (lower-case, as the ASGI server gives them), as Starlette
    reads it (``request.headers.get``), without building Starlette's ``Headers`` on every page."""
    for key, value in request.scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


def _acceptable(accept: str | None) -> bool:
    if not accept:
        return False
    # a partner sends the same Accept on every page: short ones are judged once
    return _acceptable_text(accept) if len(accept) <= 256 else _acceptable_text.__wrapped__(accept)


@lru_cache(maxsize=256)
def _acceptable_text(accept: str) -> bool:
    for part in accept.split(","):
        media, *params = [p.strip().lower() for p in part.split(";")]
        if media == "application/taxii+json" and all(p.replace(" ", "") in ("version=2.1",) or p.startswith("q=")
                                                      for p in params):
            return True
    return False


async def _authenticate(store: TaxiiStore, request: Request, epoch: int | None = None) -> Partner:
    header = _header(request, b"authorization") or ""
    scheme, _, value = header.partition(" ")
    partner: Partner | None = None
    if scheme.lower() in ("bearer", "token") and value:
        partner = await _read(store, store.partner_by_key, value.strip(), epoch)
    elif scheme.lower() == "basic" and value:
        try:
            username, _, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            username, password = "", ""
        if username:
            partner = await _read(store, store.cached_login, username, password, epoch)
            if partner is None:  # the scrypt check: tens of milliseconds, never on the event loop
                partner = await run_in_threadpool(store.partner_by_password, username, password)
    if partner is None:
        raise TaxiiError(401, "Authentication required", "Use an API key (Bearer) or HTTP Basic credentials.",
                         {"WWW-Authenticate": 'Basic realm="RRM TAXII", Bearer'})
    return partner


async def _read(store: TaxiiStore, read: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run a read of ``store``: inline on a local SQLite file (never waits for a lock), else in a thread."""
    if store.inline_reads:
        return read(*args, **kwargs)
    return await run_in_threadpool(read, *args, **kwargs)


def _listed(values: list[str]) -> tuple[str, ...]:
    found: list[str] = []
    for raw in values:
        found.extend(v.strip() for v in raw.split(",") if v.strip())
    return tuple(found)


def _filters(query: _Query, default_versions: tuple[str, ...] = ("last",)) -> Filters:
    added_after = None
    if query.added_after is not None:
        try:
            added_after = parse_timestamp(query.added_after)
        except ValueError as exc:
            raise TaxiiError(400, "Invalid added_after", str(exc)[:200]) from exc
    versions = _listed(query.versions) or default_versions
    for version in versions:
        if version not in ("last", "first", "all"):
            try:
                parse_timestamp(version)
            except ValueError as exc:
                raise TaxiiError(400, "Invalid match[version]", str(exc)[:200]) from exc
    return Filters(added_after, _listed(query.ids), _listed(query.types), versions, _listed(query.spec_versions))


def _page_headers(page: Page) -> dict[str, str]:
    headers = {}
    if page.first_added:
        headers["X-TAXII-Date-Added-First"] = page.first_added
        headers["X-TAXII-Date-Added-Last"] = page.last_added or page.first_added
    return headers


def _envelope(page: Page) -> str:
    """The envelope as text, the stored bodies spliced in as they are (no parse and re-serialise)."""
    head = '{"more":' + ("true" if page.more else "false")
    if page.next:
        head += ',"next":' + json.dumps(page.next)
    if not page.rows:
        return head + "}"
    return head + ',"objects":[' + ",".join(r.body for r in page.rows) + "]}"


async def _guard(store: TaxiiStore, request: Request, epoch: int | None = None) -> Partner:
    partner = await _authenticate(store, request, epoch)
    if not _acceptable(_header(request, b"accept")):
        raise TaxiiError(406, "Not acceptable", f"Accept must be {TAXII_MEDIA_TYPE}")
    return partner


async def _access(store: TaxiiStore, partner: Partner, collection_id: str, epoch: int | None = None) -> TaxiiAccess:
    try:
        return await _read(store, store.access, partner, collection_id, epoch)
    except NotFoundError as exc:
        raise TaxiiError(404, "Collection not found") from exc


async def _read_page(store: TaxiiStore, request: Request, collection_id: str, object_id: str | None = None,
                     default_versions: tuple[str, ...] = ("last",)) -> tuple[_Query, Partner, Page]:
    partner = await _guard(store, request)
    query = _query_of(request)
    rights = await _access(store, partner, collection_id)
    if not rights.can_read:
        raise TaxiiError(403, "Read access denied", "This partner may add to the collection but not read it.")
    filters = _filters(query, default_versions)
    try:
        page = await _read(store, store.page, rights, collection_id, filters,
                           min(query.limit, MAX_PAGE) if query.limit else None, query.next, object_id)
    except ValueError as exc:
        raise TaxiiError(400, "Invalid next", str(exc)) from exc
    return query, partner, page


async def _deliver(store: TaxiiStore, partner: Partner, collection_id: str, page: Page) -> Response:
    # the response goes out only once the delivery log holds it (group commit, see deliveries.py)
    await store.logged_delivery(partner, collection_id, page.rows)
    return taxii(_envelope(page), headers=_page_headers(page))


async def objects_response(store: TaxiiStore, request: Request, collection_id: str) -> Response:
    """GET .../collections/{id}/objects/ (TAXII 2.1 5.3): one page of objects, logged before it is sent.

    The page comes as text from the database (``TaxiiStore.page_text``): the stored object texts are
    spliced into the envelope, never parsed, and the delivery log's entry is stored as it comes.
    """
    # one read of the access epoch for both the credentials and the rights (on SQLite, inline)
    epoch = store.access_epoch() if store.inline_reads else None
    partner = await _guard(store, request, epoch)
    query = _query_of(request)
    rights = await _access(store, partner, collection_id, epoch)
    if not rights.can_read:
        raise TaxiiError(403, "Read access denied", "This partner may add to the collection but not read it.")
    filters = _filters(query)
    try:
        page = await _read(store, store.page_text, rights, collection_id, filters,
                           min(query.limit, MAX_PAGE) if query.limit else None, query.next)
    except ValueError as exc:
        raise TaxiiError(400, "Invalid next", str(exc)) from exc
    # the response goes out only once the delivery log holds it (group commit, see deliveries.py)
    await store.logged_text_delivery(partner, collection_id, page)
    head = '{"more":' + ("true" if page.more else "false")
    if page.next:
        head += ',"next":' + json.dumps(page.next)
    if not page.count:
        return taxii(head + "}")
    first, last = format_timestamp(page.first_added or 0), format_timestamp(page.last_added or 0)
    return taxii(head + ',"objects":[' + page.objects + "]}",
                 headers={"X-TAXII-Date-Added-First": first, "X-TAXII-Date-Added-Last": last})


async def manifest_response(store: TaxiiStore, request: Request, collection_id: str) -> Response:
    """GET .../collections/{id}/manifest/ (TAXII 2.1 5.2): one page of manifest entries."""
    _, _, page = await _read_page(store, request, collection_id)
    body: dict[str, Any] = {"more": page.more}
    if page.next:
        body["next"] = page.next
    if page.rows:
        body["objects"] = [
            {"id": r.object_id, "date_added": format_timestamp(r.date_added), "version": r.version,
             "media_type": "application/stix+json;version=2.1"}
            for r in page.rows
        ]
    return taxii(body, headers=_page_headers(page))


def taxii_router(store: TaxiiStore, title: str = "RRM TAXII 2.1 node") -> APIRouter:
    router = APIRouter()

    async def guard(request: Request) -> Partner:
        return await _guard(store, request)

    async def access(partner: Partner, collection_id: str) -> TaxiiAccess:
        return await _access(store, partner, collection_id)

    async def read_page(request: Request, collection_id: str, object_id: str | None = None,
                        default_versions: tuple[str, ...] = ("last",)) -> tuple[_Query, Partner, Page]:
        return await _read_page(store, request, collection_id, object_id, default_versions)

    async def deliver(partner: Partner, collection_id: str, page: Page) -> Response:
        return await _deliver(store, partner, collection_id, page)

    @router.get("/taxii2/", response_class=TaxiiResponse, responses=_responses(_DISCOVERY))
    async def discovery(request: Request) -> Response:
        await guard(request)
        root = str(request.base_url).rstrip("/") + f"/{API_ROOT}/"
        return taxii({"title": title, "description": "Rapid Response Mechanism node", "default": root,
                      "api_roots": [root]})

    @router.get(f"/{API_ROOT}/", response_class=TaxiiResponse, responses=_responses(_API_ROOT))
    async def api_root(request: Request) -> Response:
        await guard(request)
        return taxii({"title": title, "versions": [TAXII_MEDIA_TYPE], "max_content_length": MAX_CONTENT_LENGTH})

    @router.get(f"/{API_ROOT}/status/{{status_id}}/", response_class=TaxiiResponse,
                responses=_responses(_STATUS, 404))
    async def status(request: Request, status_id: str) -> Response:
        partner = await guard(request)
        try:
            return taxii(await _read(store, store.status, partner, status_id))
        except NotFoundError as exc:
            raise TaxiiError(404, "Status not found") from exc

    @router.get(f"/{API_ROOT}/collections/", response_class=TaxiiResponse, responses=_responses(_COLLECTIONS))
    async def collections(request: Request) -> Response:
        partner = await guard(request)
        found = await _read(store, store.collections_for, partner)
        return taxii({"collections": found} if found else {})

    @router.get(f"/{API_ROOT}/collections/{{collection_id}}/", response_class=TaxiiResponse,
                responses=_responses(_COLLECTION, 404))
    async def collection(request: Request, collection_id: str) -> Response:
        partner = await guard(request)
        try:
            return taxii(await _read(store, store.collection_for, partner, collection_id))
        except NotFoundError as exc:
            raise TaxiiError(404, "Collection not found") from exc

    @router.get(f"/{API_ROOT}/collections/{{collection_id}}/objects/", response_class=TaxiiResponse,
                responses=_responses(_ENVELOPE, *_FILTER_CODES), openapi_extra=_FILTERS)
    async def get_objects(request: Request, collection_id: str) -> Response:
        return await objects_response(store, request, collection_id)

    @router.get(f"/{API_ROOT}/collections/{{collection_id}}/objects/{{object_id}}/", response_class=TaxiiResponse,
                responses=_responses(_ENVELOPE, *_FILTER_CODES), openapi_extra=_FILTERS)
    async def get_object(request: Request, collection_id: str, object_id: str) -> Response:
        query, partner, page = await read_page(request, collection_id, object_id)
        if not page.rows and query.next is None:
            raise TaxiiError(404, "Object not found")
        return await deliver(partner, collection_id, page)

    @router.get(f"/{API_ROOT}/collections/{{collection_id}}/objects/{{object_id}}/versions/",
                response_class=TaxiiResponse, responses=_responses(_VERSIONS, *_FILTER_CODES),
                openapi_extra=_FILTERS)
    async def versions(request: Request, collection_id: str, object_id: str) -> Response:
        query, _, page = await read_page(request, collection_id, object_id, default_versions=("all",))
        if not page.rows and query.next is None:
            raise TaxiiError(404, "Object not found")
        body: dict[str, Any] = {"more": page.more, "versions": [r.version for r in page.rows]}
        if page.next:
            body["next"] = page.next
        return taxii(body, headers=_page_headers(page))

    @router.get(f"/{API_ROOT}/collections/{{collection_id}}/manifest/", response_class=TaxiiResponse,
                responses=_responses(_MANIFEST, *_FILTER_CODES), openapi_extra=_FILTERS)
    async def manifest(request: Request, collection_id: str) -> Response:
        return await manifest_response(store, request, collection_id)

    @router.post(f"/{API_ROOT}/collections/{{collection_id}}/objects/", response_class=TaxiiResponse,
                 status_code=202, responses=_responses(_STATUS, 403, 404, 413, 415, 422, success=202),
                 openapi_extra={"requestBody": {"required": True, "content": {TAXII_MEDIA_TYPE: {"schema": {
                     "type": "object", "required": ["objects"],
                     "properties": {"objects": {"type": "array", "items": _STIX_OBJECT}}}}}}})
    async def add_objects(request: Request, collection_id: str) -> Response:
        partner = await guard(request)
        if not (await access(partner, collection_id)).can_write:
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
            status_resource = await run_in_threadpool(store.add, collection_id, envelope, partner.id)
        except InputError as exc:
            raise TaxiiError(422, "Objects not stored", exc.message) from exc
        return taxii(status_resource, status=202)

    @router.delete(f"/{API_ROOT}/collections/{{collection_id}}/objects/{{object_id}}/", response_class=Response,
                   responses=_responses(None, *_FILTER_CODES), openapi_extra=_FILTERS)
    async def delete_object(request: Request, collection_id: str, object_id: str) -> Response:
        partner = await guard(request)
        query = _query_of(request)
        rights = await access(partner, collection_id)
        if not (rights.can_read and rights.can_write):
            raise TaxiiError(403, "Delete denied", "Deleting needs read and write access.")
        filters = _filters(query, ("all",))
        if await run_in_threadpool(store.delete_object, collection_id, object_id, filters) == 0:
            raise TaxiiError(404, "Object not found")
        return Response(status_code=200)  # TAXII 2.1 5.7: no body

    return router


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
