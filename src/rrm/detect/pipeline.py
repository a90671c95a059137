"""The detection pipeline: detectors → significance → fused network → communities, as one run."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from rrm._duckdb import sql_path
from rrm.corpus.store import CorpusStore
from rrm.detect.allocator import tune_allocator
from rrm.detect.detectors import ActionDetector, detector_names, get_detector
from rrm.detect.detectors.base import Observation
from rrm.detect.model import EDGE_SCHEMA, EVIDENCE_SCHEMA, SELECTION_SCHEMA, DetectionRun, NullModelReport
from rrm.detect.network import build_communities, significant
from rrm.detect.params import DetectionParams
from rrm.detect.significance import prepare_test
from rrm.detect.stability import Selection, stability_selection
from rrm.errors import NotFoundError

__all__ = ["DetectionResult", "ProgressCallback", "detect", "new_run_id"]

ProgressCallback = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)`` between the steps of a run."""


@dataclass(frozen=True)
class DetectionResult:
    """A run and everything it found."""

    run: DetectionRun
    edges: pa.Table  # EDGE_SCHEMA: every tested edge, with p- and q-values
    evidence: pa.Table  # EVIDENCE_SCHEMA
    memberships: dict[str, str]  # account → community_id
    selection: pa.Table | None = None  # SELECTION_SCHEMA, with stability selection only


_NULL_WORKERS = min(2, os.cpu_count() or 1)
MEMORY_LIMIT = "4GB"
"""DuckDB's memory for one run; bigger joins spill to ``<workspace>/tmp/duckdb`` (the numpy arrays of the
null model come on top: on 10 million posts the process stays under 8 GB)."""


def _tune(db: duckdb.DuckDBPyConnection, store: CorpusStore) -> None:
    """Settings for large joins: no ordering promises (every query that needs an order says so), a
    memory limit with spilling to disk under the workspace, one thread per core."""
    db.execute("SET preserve_insertion_order = false")
    db.execute(f"SET threads = {max(os.cpu_count() or 1, 1)}")
    db.execute(f"SET temp_directory = {sql_path(store.workspace.root / 'tmp' / 'duckdb')}")
    db.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def detect(
    store: CorpusStore,
    params: DetectionParams = DetectionParams(),  # noqa: B008  (frozen, so one shared default is safe)
    detectors: Sequence[str] | None = None,
    progress: ProgressCallback | None = None,
) -> DetectionResult:
    """Run the named detectors (all registered ones by default) on the corpus of ``store``."""
    names = list(dict.fromkeys(detectors)) if detectors else detector_names()
    chosen = [get_detector(name) for name in names]
    total = 2 * len(chosen) + 2 + params.stability_subsamples
    done = 0

    def step(stage: str) -> None:
        nonlocal done
        if progress is not None:
            progress(stage, done, total)
        done += 1

    tune_allocator()  # large numpy temporaries reused instead of faulted in again (see rrm.detect.allocator)
    db = store.connect()
    try:
        _tune(db, store)
        posts = int(db.execute("SELECT count(*) FROM posts").fetchall()[0][0])
        if posts == 0:
            raise NotFoundError("the corpus is empty: ingest posts first (rrm ingest)")
        edge_tables: list[pa.Table] = [EDGE_SCHEMA.empty_table()]
        evidence_tables: list[pa.Table] = [EVIDENCE_SCHEMA.empty_table()]
        reports: list[NullModelReport] = []
        observations: list[Observation] = []
        # the null models' numpy work runs in worker threads while DuckDB works on the next detectors
        tests: list[tuple[Future[tuple[pa.Table, NullModelReport]] | pa.Table, pa.Table]] = []
        with ThreadPoolExecutor(max_workers=_NULL_WORKERS) as pool:
            for detector in chosen:
                step(f"{detector.name}: co-actions")
                if isinstance(detector, ActionDetector):
                    observation = detector.observe(db, params)
                    step(f"{detector.name}: null model")
                    tests.append((pool.submit(prepare_test(db, observation, params).run), observation.evidence))
                    observations.append(observation)
                else:
                    edges, evidence = detector.edges(db, params)
                    step(f"{detector.name}: (no null model)")
                    tests.append((edges.cast(EDGE_SCHEMA), evidence.cast(EVIDENCE_SCHEMA)))
            step("null models: the last shuffles")
            for test, evidence in tests:
                if isinstance(test, pa.Table):
                    edge_tables.append(test)
                else:
                    tested, report = test.result()
                    reports.append(report)
                    edge_tables.append(tested)
                evidence_tables.append(evidence)
        edges = pa.concat_tables(edge_tables).combine_chunks()
        evidence = pa.concat_tables(evidence_tables).combine_chunks()
        selection: Selection | None = None
        if params.stability_subsamples:
            start = done
            step(f"stability selection: subsample 1 of {params.stability_subsamples}")

            def subsample_done(k: int) -> None:
                nonlocal done
                done = start + k
                if progress is not None and k < params.stability_subsamples:
                    progress(f"stability selection: subsample {k + 1} of {params.stability_subsamples}", done, total)

            selection = stability_selection(db, observations, params, subsample_done)
        step("communities")
        communities, memberships = build_communities(
            db, edges, evidence, reports, params,
            selected=None if selection is None else selection.selected_edges(),
            stability=None if selection is None else selection.report,
        )
        if progress is not None:
            progress("done", total, total)
    finally:
        db.close()
    run = DetectionRun(
        run_id=new_run_id(),
        corpus_version=store.version(),
        created_at=datetime.now(UTC),
        parameters=params.as_dict(),
        detectors=tuple(names),
        edges=edges.num_rows,
        significant_edges=significant(edges, params.fdr_q).num_rows,
        expected_false_edges=round(sum(r.expected_false_edges for r in reports), 4),
        communities=communities,
        null_model=tuple(reports),
        stability=None if selection is None else selection.report,
    )
    return DetectionResult(
        run=run, edges=edges, evidence=evidence, memberships=memberships,
        selection=None if selection is None else selection.edges.cast(SELECTION_SCHEMA),
    )
