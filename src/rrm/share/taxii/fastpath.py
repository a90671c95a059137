"""The pages partners poll, served without FastAPI's per-request routing and parameter machinery.

``GET .../collections/{id}/objects/`` and ``GET .../collections/{id}/manifest/`` are nearly all of a
TAXII node's traffic. FastAPI's route matching (every route tried in turn) and dependency solving
cost about as much CPU per request as the page query itself (measured: ~0.5 ms a request on this
machine). This ASGI middleware recognises those two paths by one regular expression and calls the
very same endpoint code the FastAPI routes call (``objects_response``, ``manifest_response``): the
same authentication, TLP enforcement, delivery log, responses and TAXII errors. Everything else,
including ``HEAD``, an unusual ``root_path`` and the OpenAPI document (where both routes are still
declared), goes on to FastAPI. It sits inside FastAPI's outer middleware, so an unexpected error is
still a 500 from ``ServerErrorMiddleware``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from rrm.share.taxii.routes import API_ROOT, TaxiiError, manifest_response, objects_response
from rrm.share.taxii.store import TaxiiStore

__all__ = ["TaxiiFastPath"]

# the same segment Starlette's "{collection_id}" matches: anything but a slash
_HOT = re.compile(rf"/{API_ROOT}/collections/([^/]+)/(objects|manifest)/")

_Endpoint = Callable[[TaxiiStore, Request, str], Awaitable[Response]]
_ENDPOINTS: dict[str, _Endpoint] = {"objects": objects_response, "manifest": manifest_response}


class TaxiiFastPath:
    """ASGI middleware: the TAXII object and manifest pages straight to their endpoint code."""

    def __init__(self, app: ASGIApp, store: TaxiiStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            found = _HOT.fullmatch(scope["path"])
            if found is not None:
                request = Request(scope, receive)
                try:
                    response = await _ENDPOINTS[found[2]](self.store, request, found[1])
                except TaxiiError as error:
                    response = error.response()
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
