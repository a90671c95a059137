"""Shared fixtures: real workspaces in tmp_path, and the real data sets of ../shared/data."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest

from cases_pg import postgres_fixture  # noqa: F401  (one PostgreSQL cluster for the whole session)
from rrm.corpus import CorpusStore
from rrm.workspace import Workspace

SHARED_DATA = Path(os.environ.get("RRM_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def shared_data(relative: str) -> Path:
    """A file of ../shared/data. Skips the test where the data is absent, except in CI, where it fails."""
    path = SHARED_DATA / relative
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the shared data set {path}")
        pytest.skip(f"shared data {relative} is not here (expected in {SHARED_DATA})")
    return path


def subsample_csv(source: Path, target: Path, share: float, seed: int) -> Path:
    """Each data row of the CSV ``source`` kept with probability ``share`` (the header always), in ``target``."""
    rng = np.random.default_rng(seed)
    with source.open(newline="", encoding="utf-8") as handle, target.open("w", newline="", encoding="utf-8") as out:
        reader = csv.reader(handle)
        writer = csv.writer(out)
        writer.writerow(next(reader))
        for row in reader:
            if rng.random() < share:
                writer.writerow(row)
    return target


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace.resolve(tmp_path / "ws").ensure()


@pytest.fixture
def store(workspace: Workspace) -> CorpusStore:
    return CorpusStore(workspace)
