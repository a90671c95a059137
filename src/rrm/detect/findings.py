"""Findings on disk: one folder per run under ``<workspace>/findings/<run_id>/``.

``run.json`` holds the run (parameters, corpus version, communities with their evidence posts, null
model figures, and with stability selection each account's selection frequency) and the memberships;
``edges.parquet`` and ``evidence.parquet`` hold the tables, and ``selection.parquet`` how often each
edge was significant in the stability subsamples. A run
is written to a staging folder and renamed into place, so a folder that exists is complete.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from rrm.detect.model import (
    EDGE_SCHEMA,
    EVIDENCE_SCHEMA,
    SELECTION_SCHEMA,
    Community,
    DetectionRun,
    EvidencePost,
    NullModelReport,
    StabilityReport,
)
from rrm.detect.pipeline import DetectionResult
from rrm.errors import NotFoundError, WorkspaceError
from rrm.workspace import Workspace

__all__ = ["FindingsStore", "run_from_dict", "run_to_dict"]

_RUN_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]{0,100}$")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def run_to_dict(run: DetectionRun) -> dict[str, Any]:
    return dict(_jsonable(asdict(run)))


def _community(data: dict[str, Any]) -> Community:
    evidence = tuple(
        EvidencePost(e["account"], e["post_id"], datetime.fromisoformat(e["time"]), e["behaviour"], e["object"], e["text"])
        for e in data["evidence"]
    )
    return Community(
        community_id=data["community_id"], accounts=tuple(data["accounts"]), score=float(data["score"]),
        parts={k: float(v) for k, v in data["parts"].items()}, behaviours={k: int(v) for k, v in data["behaviours"].items()},
        explanation=data["explanation"], evidence=evidence,
    )


def run_from_dict(data: dict[str, Any]) -> DetectionRun:
    return DetectionRun(
        run_id=data["run_id"], corpus_version=data["corpus_version"], created_at=datetime.fromisoformat(data["created_at"]),
        parameters=dict(data["parameters"]), detectors=tuple(data["detectors"]), edges=int(data["edges"]),
        significant_edges=int(data["significant_edges"]), expected_false_edges=float(data["expected_false_edges"]),
        communities=tuple(_community(c) for c in data.get("communities", [])),
        null_model=tuple(NullModelReport(**r) for r in data.get("null_model", [])),
        stability=_stability(data.get("stability")),
    )


def _stability(data: dict[str, Any] | None) -> StabilityReport | None:
    if data is None:
        return None
    return StabilityReport(
        subsamples=int(data["subsamples"]), fraction=float(data["fraction"]), threshold=float(data["threshold"]),
        selected_accounts=int(data["selected_accounts"]), selected_edges=int(data["selected_edges"]),
        account_frequency={str(k): float(v) for k, v in data["account_frequency"].items()},
    )


class FindingsStore:
    """The detection runs of one workspace."""

    def __init__(self, workspace: Workspace) -> None:
        self.root = workspace.findings_dir

    def _folder(self, run_id: str) -> Path:
        if not _RUN_ID.match(run_id):
            raise NotFoundError(f"no detection run {run_id!r}")
        return self.root / run_id

    def save(self, result: DetectionResult) -> Path:
        """Write the run; returns its folder."""
        target = self._folder(result.run.run_id)
        staging = self.root / f".staging-{result.run.run_id}"
        try:
            staging.mkdir(parents=True, exist_ok=True)
            pq.write_table(result.edges.cast(EDGE_SCHEMA), staging / "edges.parquet", compression="zstd")
            pq.write_table(result.evidence.cast(EVIDENCE_SCHEMA), staging / "evidence.parquet", compression="zstd")
            if result.selection is not None:
                pq.write_table(result.selection.cast(SELECTION_SCHEMA), staging / "selection.parquet", compression="zstd")
            document = {"run": run_to_dict(result.run), "memberships": dict(sorted(result.memberships.items()))}
            (staging / "run.json").write_text(json.dumps(document, indent=1, ensure_ascii=False), encoding="utf-8")
            staging.replace(target)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise WorkspaceError(f"cannot write findings to {target}: {exc.strerror}") from exc
        return target

    def _document(self, run_id: str) -> dict[str, Any]:
        path = self._folder(run_id) / "run.json"
        if not path.exists():
            raise NotFoundError(f"no detection run {run_id!r}")
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    def runs(self) -> list[DetectionRun]:
        """Every stored run, oldest first."""
        if not self.root.exists():
            return []
        found = [run_from_dict(self._document(p.name)["run"]) for p in self.root.iterdir()
                 if p.is_dir() and _RUN_ID.match(p.name) and (p / "run.json").exists()]
        return sorted(found, key=lambda r: (r.created_at, r.run_id))

    def latest_id(self) -> str:
        runs = self.runs()
        if not runs:
            raise NotFoundError("no detection run yet: run 'rrm detect' first")
        return runs[-1].run_id

    def load(self, run_id: str | None = None) -> DetectionResult:
        """A stored run (the latest when ``run_id`` is None)."""
        chosen = run_id if run_id is not None else self.latest_id()
        document = self._document(chosen)
        folder = self._folder(chosen)
        return DetectionResult(
            run=run_from_dict(document["run"]),
            edges=pq.read_table(folder / "edges.parquet").cast(EDGE_SCHEMA),
            evidence=pq.read_table(folder / "evidence.parquet").cast(EVIDENCE_SCHEMA),
            memberships=dict(document["memberships"]),
            selection=pq.read_table(folder / "selection.parquet").cast(SELECTION_SCHEMA)
            if (folder / "selection.parquet").exists() else None,
        )

    def run(self, run_id: str | None = None) -> DetectionRun:
        """A stored run without its tables (the latest when ``run_id`` is None)."""
        return run_from_dict(self._document(run_id if run_id is not None else self.latest_id())["run"])

    def community(self, run_id: str | None, community_id: str) -> Community:
        """One community of a run (the latest when ``run_id`` is None)."""
        chosen = run_id if run_id is not None else self.latest_id()
        run = run_from_dict(self._document(chosen)["run"])
        for community in run.communities:
            if community.community_id == community_id:
                return community
        raise NotFoundError(f"no community {community_id!r} in detection run {chosen!r}")
