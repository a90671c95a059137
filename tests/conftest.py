"""Shared fixtures: real workspaces in tmp_path, and the real data sets of ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace.resolve(tmp_path / "ws").ensure()


@pytest.fixture
def store(workspace: Workspace) -> CorpusStore:
    return CorpusStore(workspace)
