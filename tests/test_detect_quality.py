"""Quality: planted campaigns found in a generated scenario, and stable findings on real data."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_data
from rrm.corpus import CorpusStore, ingest
from rrm.demo.scenario import ScenarioConfig, generate_scenario
from rrm.detect import DetectionParams, detect
from rrm.workspace import Workspace


def test_planted_campaigns_are_found_and_the_background_is_not(tmp_path: Path, store: CorpusStore) -> None:
    scenario = generate_scenario(ScenarioConfig(seed=7, organic_accounts=1000, days=7))
    files = scenario.write(tmp_path)
    ingest(store, [str(files.posts)])
    result = detect(store, DetectionParams())
    flagged = set(result.memberships)
    labels = scenario.labels
    false = flagged - set(labels)
    assert len(false) / len(flagged) <= 0.05  # precision >= 0.95: viral posts and the debate are not flagged
    recall = {}
    for label in set(labels.values()):
        planted = {a for a, kind in labels.items() if kind == label}
        recall[label.split(":")[1]] = len(planted & flagged) / len(planted)
    assert recall["copy-paste"] >= 0.95
    assert recall["link-farm"] >= 0.95
    # known gaps (see the report): the two authors a retweet ring amplifies never co-reshare themselves
    assert recall["retweet-ring"] >= 0.9
    assert recall["hashtag-push"] >= 0.75
    for community in result.run.communities:
        kinds = {labels.get(a, "organic") for a in community.accounts}
        assert len(kinds) == 1  # no community mixes campaigns, or campaigns and organic accounts


def _subsample(source: Path, target: Path, share: float, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    with source.open(newline="") as handle, target.open("w", newline="") as out:
        reader = csv.reader(handle)
        writer = csv.writer(out)
        writer.writerow(next(reader))
        for row in reader:
            if rng.random() < share:
                writer.writerow(row)
    return target


@pytest.mark.xfail(reason="known gap: on CooRTweet only ~6 accounts pass the FDR cut-off and 90% subsamples lose them", strict=True)
def test_findings_on_coortweet_are_stable_under_resampling(tmp_path: Path) -> None:
    source = shared_data("social/coortweet/russian_coord_tweets.csv")
    # one block over the whole period: accounts permuted globally (the 6-hour default finds nothing here)
    params = DetectionParams(window_seconds=60, null_shuffles=10, null_block_seconds=10**9)

    def flagged(path: Path, name: str) -> set[str]:
        store = CorpusStore(Workspace.resolve(tmp_path / name).ensure())
        ingest(store, [str(path)])
        return set(detect(store, params, ["co-reshare"]).memberships)

    full = flagged(source, "full")
    assert len(full) >= 5
    scores = []
    for seed in (1, 2):
        sample = flagged(_subsample(source, tmp_path / f"s{seed}.csv", 0.9, seed), f"s{seed}")
        scores.append(len(full & sample) / len(full | sample))
    print(f"flagged {len(full)}; Jaccard of 90% subsamples with the full data: {scores}")
    assert min(scores) >= 0.6
