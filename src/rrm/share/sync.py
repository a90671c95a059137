"""Sync between national RRM nodes (or any TAXII 2.1 server) with ``taxii2-client``.

For each partner node, ``Syncer.sync`` pulls then pushes, one page at a time:

- **pull**: ``GET objects?added_after=<mark>`` following ``next``; every valid object of a page is
  stored in the local collection (invalid ones are recorded as rejects, naming the partner and the
  object), then the mark moves to the page's ``X-TAXII-Date-Added-Last``. The mark moves only after
  the page is stored, so a sync killed at any point resumes where it stopped; storing is idempotent,
  so a page pulled twice changes nothing.
- **push**: the versions published locally (origin ``local``: never what came from a partner) since
  the last push, that the partner may receive under its TLP agreement (``rrm taxii partner``; RED and
  AMBER+STRICT only when it is named in ``x_rrm_recipients``), 100 per request; the mark (the last
  local row pushed) moves after the partner's status says the batch is stored.
- **conflicts** are settled by STIX versioning: the newest ``modified`` wins (older versions are kept
  as history); the same ``modified`` with different content is recorded as a conflict, never
  overwritten, on either side (a pushed conflict comes back as a failure in the TAXII status).

Credentials are kept in ``<workspace>/secrets/sync-nodes.json`` (mode 0600), never in the database,
in logs or in ``repr``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import delete, insert, select, update
from taxii2client.common import TokenAuth, _HTTPConnection
from taxii2client.exceptions import TAXIIServiceException
from taxii2client.v21 import Collection

from rrm.errors import InputError, NotFoundError, StateError, SyncError
from rrm.frameworks.tlp import TLP
from rrm.share.taxii import tables as t
from rrm.share.taxii.store import TaxiiStore, parse_timestamp
from rrm.share.taxii.validate import checked_object
from rrm.workspace import Workspace

__all__ = [
    "Conflict",
    "NodeCredentials",
    "SyncNode",
    "SyncReport",
    "SyncSecrets",
    "SyncState",
    "Syncer",
]

PAGE_SIZE = 100
MAX_PAGES = 100_000  # per pull: a hostile server answering "more" forever stops here


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class NodeCredentials:
    """An API key (sent as ``Authorization: Token``... which RRM also reads as Bearer) or an HTTP Basic login."""

    key: str | None = field(default=None, repr=False)
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.key and not (self.user and self.password):
            raise InputError("give an API key, or a user and a password", field="key")


@dataclass(frozen=True)
class SyncNode:
    """A partner's TAXII 2.1 collection, and the local collection it is synced with."""

    name: str
    url: str  # the server, e.g. https://rrm.partner.example
    api_root: str  # a path on the server (api1) or a full URL
    collection: str  # the partner's collection id
    local_collection: str

    @property
    def collection_url(self) -> str:
        root = self.api_root if "://" in self.api_root else self.url.rstrip("/") + "/" + self.api_root.strip("/")
        return f"{root.rstrip('/')}/collections/{self.collection}/"


@dataclass(frozen=True)
class SyncState:
    node: str
    pulled_after: str | None = None  # the partner's date_added of the last object pulled
    pushed_seq: int = 0  # the last local row pushed
    last_pull: str | None = None
    last_push: str | None = None


@dataclass(frozen=True)
class Conflict:
    node: str
    direction: str  # pull | push
    collection_id: str
    object_id: str
    version: str
    detail: str
    at: str


@dataclass(frozen=True)
class SyncReport:
    """What one sync with one node did."""

    node: str
    pulled: int = 0  # objects received
    stored: int = 0  # of which new here
    unchanged: int = 0
    conflicts: int = 0  # newly found, pull and push
    rejected: int = 0
    pushed: int = 0  # objects sent
    pages: int = 0
    warnings: tuple[str, ...] = ()


class SyncSecrets:
    """Node credentials in one JSON file that only the owner may read (0600, in a 0700 folder)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def of(cls, workspace: Workspace) -> SyncSecrets:
        return cls(workspace.root / "secrets" / "sync-nodes.json")

    def _read(self) -> dict[str, dict[str, str]]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StateError(f"cannot read the sync secrets file {self.path}: {exc}") from exc
        return data if isinstance(data, dict) else {}

    def get(self, name: str) -> NodeCredentials:
        entry = self._read().get(name)
        if not isinstance(entry, dict):
            raise NotFoundError(f"no credentials for node {name!r}; add them with 'rrm partners add-node'")
        return NodeCredentials(entry.get("key"), entry.get("user"), entry.get("password"))

    def set(self, name: str, credentials: NodeCredentials) -> None:
        data = self._read()
        data[name] = {k: v for k, v in (("key", credentials.key), ("user", credentials.user),
                                        ("password", credentials.password)) if v}
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.path.parent, 0o700)
        temporary = self.path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
        os.chmod(temporary, 0o600)
        os.replace(temporary, self.path)


class _Remote:
    """One partner collection through ``taxii2-client``, keeping the headers of the last response."""

    def __init__(self, node: SyncNode, credentials: NodeCredentials, timeout: float) -> None:
        self.node = node
        self.headers: Mapping[str, str] = {}
        auth = TokenAuth(credentials.key) if credentials.key else None
        self.connection = _HTTPConnection(user=credentials.user, password=credentials.password, auth=auth,
                                          version="2.1")
        self.connection.session.hooks["response"].append(self._keep_headers)
        self.connection.session.request = _with_timeout(self.connection.session.request, timeout)
        self.collection = Collection(node.collection_url, conn=self.connection)

    def _keep_headers(self, response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        self.headers = response.headers  # case-insensitive

    def close(self) -> None:
        self.connection.close()


def _with_timeout(request: Callable[..., requests.Response], timeout: float) -> Callable[..., requests.Response]:
    def bounded(*args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", timeout)
        return request(*args, **kwargs)

    return bounded


class Syncer:
    """Pull from and push to partner nodes; state and conflicts in the TAXII store's database."""

    def __init__(self, store: TaxiiStore, secrets: SyncSecrets, *, page_size: int = PAGE_SIZE,
                 timeout: float = 60.0) -> None:
        self.store = store
        self.secrets = secrets
        self.page_size = page_size
        self.timeout = timeout

    # --- configuration ----------------------------------------------------------------------------

    def add_node(self, node: SyncNode, credentials: NodeCredentials, *, max_tlp: TLP | None = None,
                 title: str | None = None) -> SyncNode:
        """Register (or update) a partner node; its TAXII partner record sets the TLP of what is pushed."""
        if not node.url.startswith(("https://", "http://")):
            raise InputError(f"{node.url[:80]!r} is not an http(s) URL", field="url")
        existing = self.store.partner(node.name)
        if existing is None or max_tlp is not None:
            self.store.add_partner(node.name, existing.name if existing else (title or node.name),
                                   max_tlp or (existing.max_tlp if existing else TLP.AMBER))
        self.store.create_collection(node.local_collection, f"Shared with {node.name}")
        self.secrets.set(node.name, credentials)
        with self.store.engine.begin() as db:
            db.execute(delete(t.sync_nodes).where(t.sync_nodes.c.name == node.name))
            db.execute(insert(t.sync_nodes).values(name=node.name, url=node.url, api_root=node.api_root,
                                                   collection=node.collection,
                                                   local_collection=node.local_collection))
            if db.execute(select(t.sync_state.c.node).where(t.sync_state.c.node == node.name)).first() is None:
                db.execute(insert(t.sync_state).values(node=node.name, pushed_seq=0))
        return node

    def nodes(self) -> list[SyncNode]:
        with self.store.engine.connect() as db:
            rows = db.execute(select(t.sync_nodes).order_by(t.sync_nodes.c.name)).all()
        return [SyncNode(r.name, r.url, r.api_root, r.collection, r.local_collection) for r in rows]

    def node(self, name: str) -> SyncNode:
        for node in self.nodes():
            if node.name == name:
                return node
        raise NotFoundError(f"no partner node {name!r}; add it with 'rrm partners add-node'")

    def state(self, name: str) -> SyncState:
        with self.store.engine.connect() as db:
            row = db.execute(select(t.sync_state).where(t.sync_state.c.node == name)).first()
        if row is None:
            return SyncState(name)
        return SyncState(row.node, row.pulled_after, int(row.pushed_seq), row.last_pull, row.last_push)

    def conflicts(self, name: str | None = None) -> list[Conflict]:
        c = t.sync_conflicts.c
        query = select(t.sync_conflicts).order_by(c.id)
        if name is not None:
            query = query.where(c.node == name)
        with self.store.engine.connect() as db:
            return [Conflict(r.node, r.direction, r.collection_id, r.object_id, r.version, r.detail, r.at)
                    for r in db.execute(query)]

    def rejects(self, name: str | None = None) -> list[dict[str, str]]:
        r = t.sync_rejects.c
        query = select(t.sync_rejects).order_by(r.id)
        if name is not None:
            query = query.where(r.node == name)
        with self.store.engine.connect() as db:
            return [{"node": x.node, "object": x.object_id, "reason": x.reason, "at": x.at} for x in db.execute(query)]

    # --- sync ------------------------------------------------------------------------------------

    def sync(self, name: str | None = None, *, on_page: Callable[[str, str, int], None] | None = None,
             pull: bool = True, push: bool = True) -> list[SyncReport]:
        """Pull from, then push to, one node (``name``) or every node; one report per node."""
        nodes = [self.node(name)] if name is not None else self.nodes()
        return [self.sync_node(node, on_page=on_page, pull=pull, push=push) for node in nodes]

    def sync_node(self, node: SyncNode, *, on_page: Callable[[str, str, int], None] | None = None,
                  pull: bool = True, push: bool = True) -> SyncReport:
        report = SyncReport(node.name)
        with self._remote(node) as remote:
            if pull:
                report = self._pull(node, remote, report, on_page)
            if push:
                report = self._push(node, remote, report, on_page)
        return report

    @contextmanager
    def _remote(self, node: SyncNode) -> Iterator[_Remote]:
        remote = _Remote(node, self.secrets.get(node.name), self.timeout)
        try:
            yield remote
        finally:
            remote.close()

    def _pull(self, node: SyncNode, remote: _Remote, report: SyncReport,
              on_page: Callable[[str, str, int], None] | None) -> SyncReport:
        start = self.state(node.name).pulled_after
        counts = {"pulled": 0, "stored": 0, "unchanged": 0, "conflicts": 0, "rejected": 0, "pages": 0}
        warnings = list(report.warnings)
        next_token: str | None = None
        for _ in range(MAX_PAGES):
            query: dict[str, Any] = {"limit": self.page_size}
            if start:
                query["added_after"] = start
            if next_token:
                query["next"] = next_token
            envelope = self._call(node, "pull", partial(remote.collection.get_objects, **query))
            if not isinstance(envelope, dict):
                raise SyncError(f"{node.name}: the answer is not a TAXII envelope", node=node.name, stage="pull")
            objects = envelope.get("objects") or []
            if not isinstance(objects, list):
                raise SyncError(f"{node.name}: 'objects' is not a list", node=node.name, stage="pull")
            self._store_page(node, objects, counts)
            last_added = remote.headers.get("X-TAXII-Date-Added-Last")
            if objects and last_added:
                try:
                    parse_timestamp(last_added)
                except ValueError:
                    warnings.append(f"unreadable X-TAXII-Date-Added-Last {last_added[:40]!r}: mark not moved")
                else:
                    self._save_state(node.name, pulled_after=last_added, last_pull=_now())
            elif objects:
                warnings.append("no X-TAXII-Date-Added-Last header: mark not moved (the next sync pulls again)")
            counts["pages"] += 1
            if on_page is not None:
                on_page(node.name, "pull", len(objects))
            next_value = envelope.get("next")
            if not envelope.get("more") or not objects or not isinstance(next_value, str) or not next_value:
                break
            next_token = next_value
        self._save_state(node.name, last_pull=_now())
        return SyncReport(node.name, report.pulled + counts["pulled"], report.stored + counts["stored"],
                          report.unchanged + counts["unchanged"], report.conflicts + counts["conflicts"],
                          report.rejected + counts["rejected"], report.pushed, report.pages + counts["pages"],
                          tuple(dict.fromkeys(warnings)))

    def _store_page(self, node: SyncNode, objects: list[object], counts: dict[str, int]) -> None:
        valid: list[dict[str, Any]] = []
        rejects: list[tuple[str, str]] = []
        for position, obj in enumerate(objects):
            try:
                valid.append(checked_object(obj, f"{node.name}, object {counts['pulled'] + position}"))
            except InputError as exc:
                object_id = obj.get("id") if isinstance(obj, dict) else None
                rejects.append((str(object_id)[:128] if object_id else "?", exc.message))
        counts["pulled"] += len(objects)
        result = self.store.receive(node.local_collection, valid, origin=f"sync:{node.name}")
        counts["stored"] += len(result.stored)
        counts["unchanged"] += len(result.unchanged)
        counts["rejected"] += len(rejects)
        now = _now()
        with self.store.engine.begin() as db:
            for object_id, reason in rejects:
                db.execute(insert(t.sync_rejects).values(node=node.name, object_id=object_id, reason=reason, at=now))
        detail = "the partner's version has the same 'modified' but other content; the local one is kept"
        counts["conflicts"] += self._record_conflicts(node, "pull", result.conflicts, detail)

    def _push(self, node: SyncNode, remote: _Remote, report: SyncReport,
              on_page: Callable[[str, str, int], None] | None) -> SyncReport:
        partner = self.store.partner(node.name)
        if partner is None:
            raise StateError(f"node {node.name!r} has no TAXII partner record (its TLP agreement)")
        pushed = conflicts = pages = 0
        after = self.state(node.name).pushed_seq
        while True:
            rows = self.store.outgoing(node.local_collection, partner, after, self.page_size)
            if not rows:
                break
            envelope = '{"objects":[' + ",".join(r.body for r in rows) + "]}"
            status = self._call(node, "push", partial(remote.collection.add_objects, envelope,
                                                      wait_for_completion=True, poll_interval=1, timeout=self.timeout))
            if getattr(status, "status", None) != "complete":
                raise SyncError(f"{node.name}: the partner has not finished storing the batch (status "
                                f"{str(getattr(status, 'status', '?'))[:20]}); it is sent again next time",
                                node=node.name, stage="push")
            failed = [(str(f.get("id", "?")), str(f.get("version", "?")), str(f.get("message", ""))[:300])
                      for f in (getattr(status, "failures", None) or []) if isinstance(f, dict)]
            for object_id, version, message in failed:
                conflicts += self._record_conflicts(node, "push", [(object_id, version)],
                                                    f"refused by the partner: {message}")
            pushed += len(rows)
            pages += 1
            after = rows[-1].seq
            self._save_state(node.name, pushed_seq=after, last_push=_now())
            if on_page is not None:
                on_page(node.name, "push", len(rows))
        return SyncReport(node.name, report.pulled, report.stored, report.unchanged, report.conflicts + conflicts,
                          report.rejected, report.pushed + pushed, report.pages + pages, report.warnings)

    def _record_conflicts(self, node: SyncNode, direction: str, found: Any, detail: str) -> int:
        c = t.sync_conflicts.c
        recorded = 0
        with self.store.engine.begin() as db:
            for object_id, version in found:
                known = db.execute(select(c.id).where(
                    c.node == node.name, c.direction == direction, c.collection_id == node.local_collection,
                    c.object_id == object_id, c.version == version)).first()
                if known is None:
                    db.execute(insert(t.sync_conflicts).values(
                        node=node.name, direction=direction, collection_id=node.local_collection,
                        object_id=object_id, version=version, detail=detail, at=_now()))
                    recorded += 1
        return recorded

    def _save_state(self, name: str, **values: Any) -> None:
        with self.store.engine.begin() as db:
            if db.execute(select(t.sync_state.c.node).where(t.sync_state.c.node == name)).first() is None:
                db.execute(insert(t.sync_state).values(node=name, pushed_seq=0))
            db.execute(update(t.sync_state).where(t.sync_state.c.node == name).values(**values))

    def _call(self, node: SyncNode, stage: str, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else None
            raise SyncError(f"{node.name}: the partner answered HTTP {status} at {stage}", node=node.name,
                            stage=stage, status=status) from exc
        except requests.RequestException as exc:
            raise SyncError(f"{node.name}: cannot reach {node.collection_url} ({type(exc).__name__})",
                            node=node.name, stage=stage) from exc
        except (TAXIIServiceException, ValueError, KeyError, TypeError) as exc:
            raise SyncError(f"{node.name}: unexpected answer at {stage}: {str(exc)[:200]}", node=node.name,
                            stage=stage) from exc

