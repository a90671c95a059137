"""A TAXII node with partners of every kind, shared by the TAXII tests (real SQLite file, real server)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from rrm.frameworks.tlp import TLP, marking_definition
from rrm.share.taxii.store import TaxiiStore
from rrm.web.app import taxii_database_url
from rrm.workspace import Workspace

COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
OTHER = "52892447-4d7e-4f70-b94d-d7f22742ff63"
MEDIA = "application/taxii+json;version=2.1"


@dataclass(frozen=True)
class Node:
    workspace: Workspace
    store: TaxiiStore
    keys: dict[str, str]  # partner id → API key
    objects: list[dict[str, Any]]


def indicator(n: int, tlp: TLP | None, recipients: list[str] | None = None, modified: str | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, f'rrm-test-{n}')}",
        "created": "2026-11-01T00:00:00.000Z", "modified": modified or "2026-11-01T00:00:00.000Z",
        "name": f"Link-farm domain {n}", "pattern": f"[domain-name:value = 'farm{n}.example']",
        "pattern_type": "stix", "valid_from": "2026-11-01T00:00:00Z",
    }
    if tlp is not None:
        obj["object_marking_refs"] = [marking_definition(tlp)["id"]]
    if recipients:
        obj["x_rrm_recipients"] = recipients
    return obj


def build_node(root: Path, count: int = 25) -> Node:
    workspace = Workspace.resolve(root).ensure()
    store = TaxiiStore(taxii_database_url(workspace))
    store.create_collection(COLLECTION, "FIMI indicators", "Indicators of foreign information manipulation")
    store.create_collection(OTHER, "Internal")
    keys: dict[str, str] = {}
    for partner, max_tlp, write in (("CA", TLP.AMBER, True), ("NGO", TLP.GREEN, False), ("DE", TLP.RED, False)):
        store.add_partner(partner, f"Partner {partner}", max_tlp)
        store.grant(partner, COLLECTION, read=True, write=write)
        keys[partner] = store.issue_api_key(partner)
    store.add_partner("WRITER", "Write-only feeder", TLP.AMBER)
    store.grant("WRITER", COLLECTION, read=False, write=True)
    keys["WRITER"] = store.issue_api_key("WRITER")
    store.add_partner("OUT", "No rights", TLP.RED)
    keys["OUT"] = store.issue_api_key("OUT")
    store.set_password("NGO", "ngo-analyst", "correct horse battery staple")
    objects: list[dict[str, Any]] = [marking_definition(tlp) for tlp in TLP]
    objects += [indicator(n, TLP.GREEN) for n in range(1, count + 1)]
    objects += [indicator(1000 + n, TLP.AMBER) for n in range(5)]
    objects += [indicator(2000, TLP.RED, ["DE"]), indicator(2001, TLP.AMBER_STRICT, ["CA"]), indicator(3000, None)]
    store.add(COLLECTION, objects)
    return Node(workspace, store, keys, objects)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(workspace: Workspace, workers: int = 2) -> Iterator[str]:
    """Run ``rrm serve`` with ``workers`` processes on a free localhost port; yields the base URL.

    As in production: with several workers, each listens on its own SO_REUSEPORT socket.
    """
    processes = serve_process(workspace, workers)
    try:
        for base, _ in processes:
            yield base
    finally:
        processes.close()


def serve_process(workspace: Workspace, workers: int = 2) -> Iterator[tuple[str, int]]:
    """``serve``, yielding the base URL and the process id of ``rrm serve`` (the supervisor)."""
    port = free_port()
    env = {**os.environ, "RRM_HOME": str(workspace.root)}
    process = subprocess.Popen(
        [sys.executable, "-c", "from rrm.cli.app import main; main()", "serve", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--no-access-log", "--workspace", str(workspace.root)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/taxii2/", timeout=2).status_code == 401:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start: {process.stderr.read().decode() if process.stderr else ''}")
            time.sleep(0.2)
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
