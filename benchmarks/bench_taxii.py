"""TAXII 2.1 node: page latency from 10,000 to 1,000,000 objects, add throughput, and medallion as the peer.

    python benchmarks/bench_taxii.py                      # 10k, 100k, 1M objects, then medallion
    python benchmarks/bench_taxii.py --sizes 10000,100000 --skip-medallion

For each collection size, in a fresh workspace: bulk-load the objects (``TaxiiStore.bulk_load``), print
the SQLite query plan of every page query (index used, no scan, no sort), time ``TaxiiStore.page``
directly, then start a real uvicorn server and time pages of 100 objects over HTTP with 1 and 50
concurrent readers (pages at different depths of ``next``, and with ``match[type]`` and
``added_after`` filters). The readers are ``wrk`` (a C load generator that costs the 2-core machine
little CPU; Debian package ``wrk``) when it is installed, else the ``httpx`` async client; the httpx
figures are printed as well. The server's CPU seconds (user + system, all its processes) per page
are printed beside the wall-clock figures, which other work on the machine distorts. Then add throughput (``TaxiiStore.add`` with full STIX
validation, and POST over HTTP), and medallion (the OASIS reference server, memory backend) on a
1,000-object collection: RRM syncs with it both ways, medallion's side reads RRM, and both servers
are timed paging the same collection.

Goals: page latency flat from 10k to 1M (ratio 1M/10k close to 1); p99 < 50 ms with 50 readers on
100k; RRM's throughput >= 10x medallion's on 1,000 objects.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import random
import re
import resource
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import event

from rrm.frameworks.tlp import TLP, marking_definition
from rrm.share.sync import NodeCredentials, Syncer, SyncNode, SyncSecrets
from rrm.share.taxii.access import Partner, TaxiiAccess
from rrm.share.taxii.store import Filters, TaxiiStore, format_timestamp
from rrm.web.app import taxii_database_url
from rrm.workspace import Workspace

COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
MEDIA = "application/taxii+json;version=2.1"
GREEN = marking_definition(TLP.GREEN)["id"]
PAGE = 100


def stix_object(n: int) -> dict[str, Any]:
    """Nine indicators in ten, one malware (the match[type] filter picks those)."""
    object_id = str(uuid.UUID(int=n + 1, version=4))
    if n % 10 == 9:
        return {"type": "malware", "spec_version": "2.1", "id": f"malware--{object_id}",
                "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
                "name": f"loader {n}", "is_family": False, "object_marking_refs": [GREEN]}
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{object_id}",
            "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
            "name": f"Link-farm domain {n}", "pattern": f"[domain-name:value = 'farm{n}.example']",
            "pattern_type": "stix", "valid_from": "2026-11-01T00:00:00Z", "object_marking_refs": [GREEN]}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(command: list[str], probe: str, env: dict[str, str] | None = None) -> Iterator[int]:
    process = subprocess.Popen(command, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(probe, timeout=2)
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {command}") from None
                time.sleep(0.2)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def rrm_server(workspace: Workspace, workers: int) -> Iterator[tuple[str, int]]:
    """``rrm serve`` with ``workers`` processes (uvloop and httptools when installed): (base URL, pid).

    Run as in production: with several workers, each has its own SO_REUSEPORT listening socket.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-c", "from rrm.cli.app import main; main()", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--no-access-log", "--workspace", str(workspace.root)]
    with server(command, base + "/taxii2/", {"RRM_HOME": str(workspace.root)}) as pid:
        deadline = time.monotonic() + 60
        while listening_sockets(port) < workers and time.monotonic() < deadline:
            time.sleep(0.1)  # the first worker up answers already: wait for every worker's socket
        yield base, pid


def listening_sockets(port: int) -> int:
    """How many sockets listen on ``port`` (Linux /proc; the number of workers when each has its own)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                count += int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A"
    return count


def connection_split(port: int, pid: int) -> list[int]:
    """Established connections on ``port`` per worker process of the server ``pid`` (``ss``; [] without it)."""
    ss = shutil.which("ss")
    if ss is None:
        return []
    output = subprocess.run([ss, "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True,
                            text=True).stdout
    counts: dict[str, int] = {}
    for worker in re.findall(r"pid=(\d+)", output):
        if worker != str(pid):
            counts[worker] = counts.get(worker, 0) + 1
    return sorted(counts.values())


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and all its descendants so far (Linux /proc; 0 elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        child = int(stat.parent.name)
        parents[child] = int(fields[1])
        times[child] = (int(fields[11]) + int(fields[12])) / tick
    total, wanted = 0.0, {pid}
    while wanted:
        current = wanted.pop()
        total += times.get(current, 0.0)
        wanted |= {child for child, parent in parents.items() if parent == current}
    return total


WRK_SCRIPT = """
local queries = {%s}
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "%s?" .. queries[math.random(#queries)])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d\\n", summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end
"""


def wrk_pages(base: str, key: str, specs: list[dict[str, str]], readers: int, seconds: float,
              folder: Path, server_pid: int | None = None) -> dict[str, Any] | None:
    """``readers`` connections of ``wrk`` paging for ``seconds``; None when wrk is not installed.

    With ``server_pid``, the connections per worker process are counted halfway through (``split``).
    """
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    path = f"/api1/collections/{COLLECTION}/objects/"
    queries = ", ".join(json.dumps(urlencode({"limit": str(PAGE), **spec})) for spec in specs)
    script = folder / "pages.lua"
    script.write_text(WRK_SCRIPT % (queries, path))
    command = [wrk, "-t1", f"-c{readers}", f"-d{max(1, round(seconds))}s", "--timeout", "30s", "-s", str(script),
               "-H", f"Authorization: Bearer {key}", "-H", f"Accept: {MEDIA}", base]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk's CPU: it is the child waited for here
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        split: list[int] = []
        if server_pid is not None:
            time.sleep(max(1, round(seconds)) / 2)
            split = connection_split(int(base.rsplit(":", 1)[1]), server_pid)
        output = process.communicate()[0]
    if process.returncode:
        raise RuntimeError(f"wrk failed ({process.returncode}): {output}")
    line = next(row for row in output.splitlines() if row.startswith("RESULT "))
    requests, errors, duration_us, p50_us, p99_us = (int(v) for v in line.split()[1:])
    if errors:
        raise RuntimeError(f"wrk: {errors} of {requests} requests failed or were not 200:\n{output}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_s = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    return {"p50": p50_us / 1000, "p99": p99_us / 1000, "pages_s": requests / (duration_us / 1e6),
            "requests": requests, "split": split, "client_cpu_ms": client_s * 1000 / max(1, requests)}


def make_node(root: Path) -> tuple[Workspace, TaxiiStore, str]:
    workspace = Workspace.resolve(root).ensure()
    store = TaxiiStore(taxii_database_url(workspace))
    store.create_collection(COLLECTION, "FIMI indicators")
    store.add_partner("BENCH", "Benchmark reader", TLP.AMBER)
    store.grant("BENCH", COLLECTION, read=True, write=True)
    return workspace, store, store.issue_api_key("BENCH")


# --- page specs: (label, query parameters) at different depths and with filters -----------------------

def page_specs(store: TaxiiStore, size: int) -> list[tuple[str, dict[str, str]]]:
    with store.engine.connect() as db:
        low, high = db.exec_driver_sql("SELECT min(seq), max(seq) FROM taxii_objects").one()
        middle_added = db.exec_driver_sql(
            f"SELECT date_added FROM taxii_objects WHERE seq = {low + size // 2}").scalar_one()
    specs = [("first page", {})]
    for fraction in (0.1, 0.5, 0.9):
        specs.append((f"next at {int(fraction * 100)}%", {"next": f"s{low + int(fraction * (high - low))}"}))
    specs.append(("match[type]=malware at 50%", {"match[type]": "malware", "next": f"s{low + (high - low) // 2}"}))
    specs.append(("added_after at 50%", {"added_after": format_timestamp(int(middle_added))}))
    return specs


def filters_of(params: dict[str, str]) -> Filters:
    from rrm.share.taxii.store import parse_timestamp

    added = params.get("added_after")
    types = tuple(params["match[type]"].split(",")) if "match[type]" in params else ()
    return Filters(added_after=parse_timestamp(added) if added else None, types=types)


def query_plans(store: TaxiiStore, access: TaxiiAccess, specs: list[tuple[str, dict[str, str]]]) -> list[str]:
    """EXPLAIN QUERY PLAN of every statement ``TaxiiStore.page`` runs for each spec (traced in SQLite)."""
    captured: list[str] = []
    database = str(store.engine.url.database)
    traced = TaxiiStore(f"sqlite:///{database}")
    traced.reader.dispose()

    @event.listens_for(traced.reader, "connect")
    def trace(connection: Any, _record: Any) -> None:
        connection.set_trace_callback(captured.append)

    try:
        for _, params in specs:
            traced.page(access, COLLECTION, filters_of(params), PAGE, params.get("next"))
    finally:
        traced.close()
    lines = []
    with sqlite3.connect(database) as raw:
        for statement in captured:
            if statement.lstrip().upper().startswith("SELECT") and "taxii_objects" in statement:
                plan = [row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + statement)]
                lines.append(" | ".join(plan))
    return lines


def time_store(store: TaxiiStore, access: TaxiiAccess, params: dict[str, str], repeat: int) -> float:
    filters = filters_of(params)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        page = store.page(access, COLLECTION, filters, PAGE, params.get("next"))
        times.append(time.perf_counter() - start)
        assert page.rows
    return statistics.median(times) * 1000


async def read_pages(base: str, key: str, specs: list[dict[str, str]], readers: int, requests: int) -> list[float]:
    """``readers`` concurrent clients share ``requests`` page requests; latency of each in ms."""
    latencies: list[float] = []
    failures: list[dict[str, str]] = []
    headers = {"Authorization": f"Bearer {key}", "Accept": MEDIA}
    url = f"{base}/api1/collections/{COLLECTION}/objects/"
    limits = httpx.Limits(max_connections=readers, max_keepalive_connections=readers)
    remaining = requests
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=60) as client:
        async def reader(seed: int) -> None:
            nonlocal remaining
            rng = random.Random(seed)
            while remaining > 0:
                remaining -= 1
                params = {"limit": str(PAGE), **rng.choice(specs)}
                start = time.perf_counter()
                try:
                    response = await client.get(url, params=params)
                except httpx.TransportError:  # a connection dropped by the overloaded server: counted, not fatal
                    failures.append(params)
                    continue
                latencies.append((time.perf_counter() - start) * 1000)
                if response.status_code != 200 or not response.json().get("objects"):
                    raise RuntimeError(f"bad page {params}: {response.status_code} {response.text[:200]}")

        await asyncio.gather(*(reader(n) for n in range(readers)))
    if failures:
        print(f"  ({len(failures)} of {requests} requests lost their connection)")
    return latencies


def bench_size(size: int, folder: Path, workers: int, requests: int, seconds: float) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix=f"taxii-{size}-", dir=folder))
    workspace, store, key = make_node(root / "ws")
    start = time.perf_counter()
    store.bulk_load(COLLECTION, (stix_object(n) for n in range(size)), batch=50_000)
    load_s = time.perf_counter() - start
    print(f"\n== {size:,} objects: bulk load {load_s:.1f} s ({size / load_s:,.0f} objects/s)")
    access = TaxiiAccess(store.partner("BENCH") or Partner("BENCH", "", TLP.AMBER), True, True)
    specs = page_specs(store, size)
    plans = query_plans(store, access, specs)
    bad = [p for p in plans if "SCAN" in p.replace("SCAN taxii_objects USING INDEX", "").replace(
        "SCAN taxii_objects USING COVERING INDEX", "") or "TEMP B-TREE" in p]
    print("query plans:")
    for plan in sorted(set(plans)):
        print(f"  {plan}")
    print(f"  -> {'no full scan, no sort' if not bad else 'SCAN OR SORT: ' + '; '.join(bad)}")
    direct = {label: time_store(store, access, params, 30) for label, params in specs}
    result: dict[str, Any] = {"size": size, "load_s": load_s, "direct_ms": direct, "http": {}, "httpx": {}}
    with rrm_server(workspace, workers) as (base, pid):
        spec_params = [p for _, p in specs]
        asyncio.run(read_pages(base, key, spec_params, 4, 40))  # warm up every worker
        for readers in (1, 50):
            cpu = cpu_seconds(pid)
            figures = wrk_pages(base, key, spec_params, readers, seconds if readers > 1 else seconds / 2, root,
                                server_pid=pid if readers > 1 else None)
            if figures is not None:
                figures["cpu_ms"] = (cpu_seconds(pid) - cpu) * 1000 / figures["requests"]
                result["http"][readers] = {**figures, "client": "wrk"}
        for readers in (1, 50):
            count = requests if readers > 1 else max(100, requests // 5)
            cpu = cpu_seconds(pid)
            started = time.perf_counter()
            latencies = asyncio.run(read_pages(base, key, spec_params, readers, count))
            elapsed = time.perf_counter() - started
            figures = {"p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
                       "pages_s": count / elapsed, "cpu_ms": (cpu_seconds(pid) - cpu) * 1000 / count,
                       "client": "httpx"}
            result["httpx"][readers] = figures
            result["http"].setdefault(readers, figures)
        per_spec, per_spec_httpx = {}, {}
        for label, params in specs:
            one = wrk_pages(base, key, [params], 1, 2, root)
            latencies = asyncio.run(read_pages(base, key, [params], 1, 30))
            per_spec_httpx[label] = percentile(latencies, 0.5)
            per_spec[label] = one["p50"] if one is not None else per_spec_httpx[label]
        result["per_spec_ms"] = per_spec
    store.close()
    client = "wrk" if shutil.which("wrk") else "httpx"
    print(f"{'page':<30}{'store ms':>10}{'HTTP ms':>10}{'HTTP/store':>12}{'httpx ms':>10}   (HTTP: {client}, p50)")
    for label, _ in specs:
        print(f"{label:<30}{direct[label]:>10.2f}{per_spec[label]:>10.2f}{per_spec[label] / direct[label]:>12.1f}"
              f"{per_spec_httpx[label]:>10.2f}")
    for client in ("http", "httpx"):
        if client == "httpx" and result["http"][1]["client"] == "httpx":
            break
        for readers, figures in result[client].items():
            split = f", connections per worker {figures['split']}" if figures.get("split") else ""
            if "client_cpu_ms" in figures:
                share = figures["client_cpu_ms"] / (figures["client_cpu_ms"] + figures["cpu_ms"])
                split += f", wrk CPU {figures['client_cpu_ms']:.2f} ms/page ({share:.0%} of client + server)"
            print(f"{readers:>3} readers ({figures['client']}): p50 {figures['p50']:.1f} ms, p99 {figures['p99']:.1f} ms, "
                  f"{figures['pages_s']:.0f} pages/s, server CPU {figures['cpu_ms']:.2f} ms/page{split}")
    for path in sorted(root.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    root.rmdir()
    return result


def bench_add(folder: Path, workers: int) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix="taxii-add-", dir=folder))
    workspace, store, key = make_node(root / "ws")
    objects = [stix_object(n) for n in range(2000)]
    start = time.perf_counter()
    for offset in range(0, 1000, 100):
        store.add(COLLECTION, objects[offset:offset + 100])
    direct = 1000 / (time.perf_counter() - start)
    with rrm_server(workspace, workers) as (base, _):
        headers = {"Authorization": f"Bearer {key}", "Accept": MEDIA, "Content-Type": MEDIA}
        with httpx.Client(headers=headers, timeout=60) as client:
            start = time.perf_counter()
            for offset in range(1000, 2000, 100):
                response = client.post(f"{base}/api1/collections/{COLLECTION}/objects/",
                                       content=json.dumps({"objects": objects[offset:offset + 100]}))
                assert response.status_code == 202 and response.json()["success_count"] == 100
            http = 1000 / (time.perf_counter() - start)
    print(f"\n== add: TaxiiStore.add {direct:,.0f} objects/s, POST over HTTP {http:,.0f} objects/s "
          "(batches of 100, full STIX 2.1 validation)")
    return {"store": direct, "http": http}


# --- medallion --------------------------------------------------------------------------------------

def medallion_config(path: Path, port: int, objects: list[dict[str, Any]]) -> Path:
    base = f"http://127.0.0.1:{port}"
    collection: dict[str, Any] = {
        "id": COLLECTION, "title": "FIMI indicators", "can_read": True, "can_write": True,
        "media_types": ["application/stix+json;version=2.1"], "objects": [], "manifest": [],
    }
    for n, obj in enumerate(objects):
        collection["objects"].append(obj)
        collection["manifest"].append({"id": obj["id"], "date_added": format_timestamp(1_790_000_000_000_000 + n),
                                       "version": obj["modified"], "media_type": "application/stix+json;version=2.1"})
    config = {
        "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                    "filename": str(path / "data.json")},
        "users": {"rrm": "secret"},
        "taxii": {"max_page_size": PAGE},
    }
    data = {
        "/discovery": {"title": "medallion", "default": f"{base}/api1/", "api_roots": [f"{base}/api1/"]},
        "api1": {"information": {"title": "medallion api1", "versions": [MEDIA], "max_content_length": 104857600},
                 "status": [], "collections": [collection]},
    }
    (path / "data.json").write_text(json.dumps(data))
    (path / "config.json").write_text(json.dumps(config))
    return path / "config.json"


def walk(base: str, auth: httpx.Auth | None, headers: dict[str, str]) -> tuple[int, float, int]:
    """Page through the whole collection, 100 at a time: (objects, seconds, requests)."""
    url = f"{base}/api1/collections/{COLLECTION}/objects/"
    count = requests = 0
    start = time.perf_counter()
    with httpx.Client(auth=auth, headers={"Accept": MEDIA, **headers}, timeout=120) as client:
        params: dict[str, str] = {"limit": str(PAGE)}
        while True:
            body = client.get(url, params=params).json()
            requests += 1
            count += len(body.get("objects", []))
            if not body.get("more"):
                break
            params = {"limit": str(PAGE), "next": body["next"]}
    return count, time.perf_counter() - start, requests


def bench_medallion(folder: Path, workers: int, size: int = 1000) -> dict[str, float]:
    from taxii2client.common import TokenAuth
    from taxii2client.v21 import Collection, as_pages

    root = Path(tempfile.mkdtemp(prefix="medallion-", dir=folder))
    objects = [stix_object(n) for n in range(size)]
    port = free_port()
    config = medallion_config(root, port, objects)
    medallion = f"http://127.0.0.1:{port}"
    workspace, store, key = make_node(root / "rrm")
    store.bulk_load(COLLECTION, objects)
    command = [sys.executable, "-m", "medallion.scripts.run", "--port", str(port), "--log-level", "ERROR",
               str(config)]
    results: dict[str, float] = {}
    with server(command, medallion + "/taxii2/"), rrm_server(workspace, workers) as (rrm, _):
        # throughput: the same client pages through the same 1,000 objects on each server (3 runs, best)
        rrm_runs = [walk(rrm, None, {"Authorization": f"Bearer {key}"}) for _ in range(3)]
        med_runs = [walk(medallion, httpx.BasicAuth("rrm", "secret"), {}) for _ in range(3)]
        rrm_best = min(rrm_runs, key=lambda r: r[1])
        med_best = min(med_runs, key=lambda r: r[1])
        assert rrm_best[0] == med_best[0] == size, (rrm_best, med_best)
        results["rrm_objects_s"] = size / rrm_best[1]
        results["medallion_objects_s"] = size / med_best[1]
        print(f"\n== medallion ({size:,} objects, pages of {PAGE}): RRM {results['rrm_objects_s']:,.0f} objects/s "
              f"({rrm_best[1] * 1000 / rrm_best[2]:.1f} ms/page), medallion {results['medallion_objects_s']:,.0f} "
              f"objects/s ({med_best[1] * 1000 / med_best[2]:.1f} ms/page); ratio "
              f"{results['rrm_objects_s'] / results['medallion_objects_s']:.1f}x (goal >= 10x)")

        # RRM's sync with medallion: pull medallion's collection into a fresh node, push a new object back
        peer, peer_store, _ = make_node(root / "peer")
        syncer = Syncer(peer_store, SyncSecrets.of(peer))
        syncer.add_node(SyncNode("MEDALLION", medallion, "api1", COLLECTION, COLLECTION),
                        NodeCredentials(user="rrm", password="secret"), max_tlp=TLP.GREEN)
        start = time.perf_counter()
        [pulled] = syncer.sync("MEDALLION", push=False)
        pull_s = time.perf_counter() - start
        new = [stix_object(size + n) for n in range(50)]
        peer_store.add(COLLECTION, new)
        [pushed] = syncer.sync("MEDALLION")
        [again] = syncer.sync("MEDALLION")
        on_medallion = Collection(f"{medallion}/api1/collections/{COLLECTION}/", user="rrm", password="secret")
        seen = {o["id"] for page in as_pages(on_medallion.get_objects, per_request=PAGE)
                for o in page.get("objects", [])}
        print(f"RRM sync <- medallion: pulled {pulled.pulled} (new {pulled.stored}) in {pull_s:.2f} s; "
              f"-> medallion: pushed {pushed.pushed}, all present there: {all(o['id'] in seen for o in new)}; "
              f"second sync: new {again.stored}, pushed {again.pushed}")

        # medallion's side reads RRM with taxii2-client and stores into its backend (POST to medallion)
        rrm_collection = Collection(f"{rrm}/api1/collections/{COLLECTION}/", auth=TokenAuth(key))
        fresh = [stix_object(10 * size + n) for n in range(30)]
        store.add(COLLECTION, fresh)
        read = [o for page in as_pages(rrm_collection.get_objects, per_request=PAGE, added_after=None)
                for o in page.get("objects", []) if o["id"] in {f["id"] for f in fresh}]
        status = on_medallion.add_objects({"objects": read})
        print(f"medallion <- RRM (taxii2-client): read {len(read)} new objects from RRM, medallion stored "
              f"{status.success_count}")
        results["sync_pull_s"] = pull_s
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="collection sizes (comma-separated)")
    parser.add_argument("--requests", type=int, default=1000, help="page requests with 50 readers (per size)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--seconds", type=float, default=10, help="seconds of wrk load with 50 readers (1: half)")
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()), help="where workspaces go")
    parser.add_argument("--skip-medallion", action="store_true")
    args = parser.parse_args()
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    client = "wrk (C, 1 thread)" if shutil.which("wrk") else "httpx async client (install wrk for a cheaper client)"
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; uvicorn workers {args.workers} "
          f"({loop}, {http}); readers: {client}")
    sizes = [int(s) for s in args.sizes.split(",") if s]
    results = [bench_size(size, args.folder, args.workers, args.requests, args.seconds) for size in sizes]
    bench_add(args.folder, args.workers)
    if not args.skip_medallion:
        bench_medallion(args.folder, args.workers)
    print(f"\n== summary (HTTP pages of 100; readers: {results[0]['http'][50]['client']})")
    print(f"{'objects':>10}{'1 reader p50':>14}{'p99':>8}{'50 readers p50':>16}{'p99':>8}{'pages/s':>9}"
          f"{'CPU ms/page':>13}{'HTTP/store':>12}{'vs smallest':>13}")
    base_p50 = results[0]["http"][1]["p50"]
    for r in results:
        one, many = r["http"][1], r["http"][50]
        ratio = statistics.median(r["per_spec_ms"][k] / r["direct_ms"][k] for k in r["direct_ms"])
        print(f"{r['size']:>10,}{one['p50']:>14.1f}{one['p99']:>8.1f}{many['p50']:>16.1f}{many['p99']:>8.1f}"
              f"{many['pages_s']:>9.0f}{many['cpu_ms']:>13.2f}{ratio:>12.1f}{one['p50'] / base_p50:>13.2f}")
    for r in results:
        if r["size"] == 100_000:
            p99 = r["http"][50]["p99"]
            print(f"goal p99 < 50 ms with 50 readers on 100,000: {p99:.1f} ms (x goal {p99 / 50:.2f}): "
                  f"{'met' if p99 < 50 else 'NOT met'}")
    print(f"load average now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
