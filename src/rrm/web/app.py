"""One FastAPI application per workspace; ``rrm serve`` runs it under uvicorn."""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import signal
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from types import FrameType
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from rrm.share.taxii.fastpath import TaxiiFastPath
from rrm.share.taxii.routes import TaxiiError, taxii_router
from rrm.share.taxii.store import TaxiiStore
from rrm.workspace import Workspace

__all__ = ["create_app", "serve", "taxii_database_url"]


def taxii_database_url(workspace: Workspace) -> str:
    return os.environ.get("RRM_TAXII_DATABASE_URL") or f"sqlite:///{workspace.root / 'taxii.sqlite'}"


def create_app(workspace: Workspace | None = None, *, fast_path: bool = True) -> FastAPI:
    """The application for ``workspace`` (by default the one ``RRM_HOME`` names, so uvicorn workers agree).

    ``fast_path`` serves the TAXII object and manifest pages past FastAPI's routing (``TaxiiFastPath``,
    same endpoint code and responses); off, every request goes through the FastAPI routes.
    """
    chosen = (workspace or Workspace.resolve()).ensure()
    store = TaxiiStore(taxii_database_url(chosen))

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()  # commits the deliveries still queued before the process ends

    app = FastAPI(title="RRM", version="0.1.0", description="Rapid Response Mechanism node: TAXII 2.1",
                  lifespan=lifespan)
    app.state.taxii = store
    app.include_router(taxii_router(store))
    if fast_path:
        app.add_middleware(TaxiiFastPath, store=store)

    @app.exception_handler(TaxiiError)
    async def taxii_error(_request: Request, error: TaxiiError) -> Response:
        return error.response()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, error: StarletteHTTPException) -> Response:
        return TaxiiError(error.status_code, str(error.detail)).response()

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, error: RequestValidationError) -> Response:
        # a parameter of the wrong shape (e.g. limit=-1): TAXII calls that a bad request
        places = "; ".join(".".join(str(p) for p in e.get("loc", ())) + ": " + str(e.get("msg", ""))
                           for e in error.errors())
        return TaxiiError(400, "Invalid request", places[:500]).response()

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with the two ways partners authenticate."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schema.setdefault("components", {})["securitySchemes"] = {
            "apiKey": {"type": "http", "scheme": "bearer", "description": "An API key from 'rrm taxii key'."},
            "basic": {"type": "http", "scheme": "basic", "description": "A login from 'rrm taxii password'."},
        }
        schema["security"] = [{"apiKey": []}, {"basic": []}]
        app.openapi_schema = schema
    return app.openapi_schema


def app_from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory rrm.web.app:app_from_environment`` (several workers)."""
    send_small_responses_at_once()
    app = create_app()
    # the objects made at start-up live as long as the process: out of the collector's sight, so that
    # a full collection under load does not walk them all (a pause of tens of milliseconds)
    gc.collect()
    gc.freeze()
    return app


def send_small_responses_at_once() -> None:
    """Turn Nagle's algorithm off on every connection of this server process.

    asyncio sets ``TCP_NODELAY`` only on sockets whose protocol field says TCP; the sockets uvicorn's
    workers inherit from their supervisor report protocol 0, so with ``--workers 2`` every response
    whose headers and body go out in two writes waited for the client's delayed ACK: a page took
    ~56 ms instead of ~6 ms (measured here). This process serves only this application.
    """
    import asyncio.base_events as base_events

    def set_nodelay(sock: socket.socket) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    if hasattr(base_events, "_set_nodelay"):
        base_events._set_nodelay = set_nodelay


# --- serving: one listening socket per worker ---------------------------------------------------------

_FACTORY = "rrm.web.app:app_from_environment"
_STARTUP_FAILURE = 3  # what a uvicorn worker exits with when the application cannot start


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1, *, access_log: bool = True,
          log_level: str = "info") -> None:
    """Run the application for the workspace ``RRM_HOME`` names under uvicorn, until SIGINT or SIGTERM.

    With several workers each worker process listens on a socket of its own, all bound to the same
    address with ``SO_REUSEPORT``: the kernel spreads new connections evenly over the workers. (Workers
    that share one listening socket, as ``uvicorn --workers`` runs them, race to accept; the one that
    wakes first takes most of a burst of keep-alive connections, measured 36 of 50, and its queue
    then sets every reader's tail latency.) A worker that dies is started again.
    """
    import uvicorn

    if workers == 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(_FACTORY, factory=True, host=host, port=port, workers=workers, log_level=log_level,
                    access_log=access_log, http=_http_protocol())
        return
    with _listening_socket(host, port, listen=False) as holder:  # the port is ours (and known, for port 0)
        bound = int(holder.getsockname()[1])
        _supervise(workers, (host, bound, access_log, log_level))


def _http_protocol() -> Any:
    """uvicorn's httptools protocol with one write per response (``CoalescingHttpToolsProtocol``)."""
    from rrm.share.taxii.http1 import CoalescingHttpToolsProtocol

    return CoalescingHttpToolsProtocol


@contextlib.contextmanager
def _listening_socket(host: str, port: int, *, listen: bool = True) -> Iterator[socket.socket]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        if listen:
            sock.listen(2048)
        yield sock
    finally:
        sock.close()


def _worker(host: str, port: int, access_log: bool, log_level: str) -> None:
    """One server process: its own listening socket in the port's SO_REUSEPORT group."""
    import uvicorn

    config = uvicorn.Config(_FACTORY, factory=True, host=host, port=port, log_level=log_level,
                            access_log=access_log, http=_http_protocol())
    with _listening_socket(host, port) as sock:
        uvicorn.Server(config).run(sockets=[sock])


def _supervise(workers: int, arguments: tuple[str, int, bool, str]) -> None:
    context = multiprocessing.get_context("spawn")
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    def start() -> multiprocessing.process.BaseProcess:
        process = context.Process(target=_worker, args=arguments, name="rrm-serve-worker")
        process.start()
        return process

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    processes = [start() for _ in range(workers)]
    try:
        while not stop.wait(0.5):
            for n, process in enumerate(processes):
                if process.is_alive():
                    continue
                if process.exitcode == _STARTUP_FAILURE:  # the application cannot start: neither can others
                    raise SystemExit(_STARTUP_FAILURE)
                processes[n] = start()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(30)
            if process.is_alive():
                process.kill()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
