"""One FastAPI application per workspace; ``rrm serve`` runs it under uvicorn."""

from __future__ import annotations

import os

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from rrm.share.taxii.routes import TaxiiError, taxii_router
from rrm.share.taxii.store import TaxiiStore
from rrm.workspace import Workspace

__all__ = ["create_app", "taxii_database_url"]


def taxii_database_url(workspace: Workspace) -> str:
    return os.environ.get("RRM_TAXII_DATABASE_URL") or f"sqlite:///{workspace.root / 'taxii.sqlite'}"


def create_app(workspace: Workspace | None = None) -> FastAPI:
    """The application for ``workspace`` (by default the one ``RRM_HOME`` names, so uvicorn workers agree)."""
    chosen = (workspace or Workspace.resolve()).ensure()
    store = TaxiiStore(taxii_database_url(chosen))
    app = FastAPI(title="RRM", version="0.1.0", description="Rapid Response Mechanism node: TAXII 2.1")
    app.state.taxii = store
    app.include_router(taxii_router(store))

    @app.exception_handler(TaxiiError)
    async def taxii_error(_request: Request, error: TaxiiError) -> Response:
        return error.response()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, error: StarletteHTTPException) -> Response:
        return TaxiiError(error.status_code, str(error.detail)).response()

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, error: RequestValidationError) -> Response:
        return JSONResponse({"title": "Invalid request", "http_status": "422", "description": str(error)[:500]},
                            status_code=422, media_type="application/taxii+json;version=2.1")

    return app


def app_from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory rrm.web.app:app_from_environment`` (several workers)."""
    return create_app()
