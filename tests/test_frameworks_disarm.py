"""DISARM as RRM ships it: look-ups, errors, search ranking, countermeasure suggestions."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from rrm.errors import NotFoundError
from rrm.frameworks.disarm import DISARM_BLUE_WARNING, Disarm, load_disarm
from rrm.frameworks.disarm_model import Countermeasure, Tactic, Technique


@pytest.fixture(scope="module")
def disarm() -> Disarm:
    return load_disarm()


def test_counts_match_the_upstream_master(disarm: Disarm) -> None:
    assert len(disarm.phases()) == 4
    assert len(disarm.tactics()) == 16
    assert len(disarm.techniques()) == 391
    assert sum(t.is_subtechnique for t in disarm.techniques()) == 288
    assert len(disarm.countermeasures()) == 140
    assert len(disarm.detections()) == 95
    assert len(disarm.actortypes()) == 33


def test_technique_resolves_with_tactic_phase_parent_and_url(disarm: Disarm) -> None:
    sub = disarm.technique("T0049.001")
    assert sub == Technique(
        id="T0049.001",
        name="Trolls Amplify and Manipulate",
        description=sub.description,
        tactic_id="TA17",
        phase_id="P03",
        parent_id="T0049",
        url="https://github.com/DISARMFoundation/DISARMframeworks/blob/main/generated_pages/techniques/T0049.001.md",
    )
    assert sub.description.startswith("Use trolls to amplify narratives")
    assert disarm.technique(" t0049 ").parent_id is None
    assert disarm.tactic(sub.tactic_id).phase_id == sub.phase_id
    assert disarm.phase("P03").name == "Execute"
    assert disarm.countermeasure("C00008").name == "Create shared fact-checking database"


def test_every_technique_points_to_known_tactic_phase_and_parent(disarm: Disarm) -> None:
    for technique in disarm.techniques():
        tactic = disarm.tactic(technique.tactic_id)
        assert disarm.phase(tactic.phase_id).id == technique.phase_id
        if technique.parent_id is not None:
            assert disarm.technique(technique.parent_id).parent_id is None
            assert technique.id.startswith(technique.parent_id + ".")


def test_unknown_technique_suggests_close_ids(disarm: Disarm) -> None:
    with pytest.raises(NotFoundError) as caught:
        disarm.technique("T0999")
    assert caught.value.message == "No DISARM technique 'T0999'. Did you mean T0149, T0139, T0129?"


def test_retired_v0_1_id_says_where_it_went(disarm: Disarm) -> None:
    with pytest.raises(NotFoundError) as caught:
        disarm.technique("T0008")
    assert caught.value.message == (
        "No DISARM technique 'T0008'. T0008 is a DISARM v0.1 technique id (Create fake or imposter news sites); "
        "today: T0098.001."
    )


def test_id_typed_without_zeros_is_suggested_padded(disarm: Disarm) -> None:
    with pytest.raises(NotFoundError, match=r"Did you mean C00008\b"):
        disarm.lookup("C0008")
    with pytest.raises(NotFoundError, match=r"Did you mean C00008\?"):
        disarm.countermeasure("C8")


def test_lookup_dispatches_on_the_id_form(disarm: Disarm) -> None:
    assert isinstance(disarm.lookup("TA01"), Tactic)
    assert isinstance(disarm.lookup("c00008"), Countermeasure)
    assert disarm.lookup("F00001").kind == "detection"
    assert disarm.lookup("M001").name == "Resilience"
    assert disarm.lookup("D02").name == "Deny"
    assert disarm.lookup("A001").name == "data scientist"
    with pytest.raises(NotFoundError, match="is not a DISARM id"):
        disarm.lookup("X1")


def test_search_ranks_exact_id_then_prefix(disarm: Disarm) -> None:
    results = disarm.search("T0049")
    assert results[0].id == "T0049"
    assert all(r.id.startswith("T0049.") for r in results[1:])
    assert len(results) == 1 + len(disarm.subtechniques("T0049"))


def test_search_ranks_name_matches_before_description_matches(disarm: Disarm) -> None:
    results = disarm.search("FAKE EXPERTS", limit=5)
    assert [r.id for r in results[:2]] == ["T0045", "C00113"]  # "Use Fake Experts", then "... a fake expert"
    names = [("fake experts" in r.name.lower()) for r in results]
    assert names == sorted(names, reverse=True)


def test_search_limits_and_ignores_empty_text(disarm: Disarm) -> None:
    assert len(disarm.search("narrative", limit=3)) == 3
    assert disarm.search("   ") == []
    assert disarm.search("zzzqqq-no-such-thing") == []


def test_countermeasures_for_resolves_v0_1_links(disarm: Disarm) -> None:
    # C00006 "Charge for social media" names v0.1 T0053 "Twitter Trolls Amplify and Manipulate", now T0049.001.
    suggestions = {s.countermeasure.id: s for s in disarm.countermeasures_for(["T0049.001"])}
    charge = suggestions["C00006"]
    assert charge.technique_ids == ("T0049.001",)
    assert charge.via_v0_1 is True
    assert charge.v0_1_ids == ("T0053",)
    assert charge.via_parent is False


def test_countermeasures_for_ranks_by_techniques_countered(disarm: Disarm) -> None:
    suggestions = disarm.countermeasures_for(["T0049.001", "T0049.003"])
    counts = [len(s.technique_ids) for s in suggestions]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] == 2
    assert any(len(s.technique_ids) == 1 for s in suggestions)


def test_countermeasures_for_parent_counts_for_subtechnique(disarm: Disarm) -> None:
    parent_counters = {s.countermeasure.id for s in disarm.countermeasures_for(["T0049"])}
    via_parent = [s for s in disarm.countermeasures_for(["T0049.005"]) if s.via_parent]
    assert via_parent
    assert {s.countermeasure.id for s in via_parent} <= parent_counters


def test_countermeasures_for_unknown_technique_raises(disarm: Disarm) -> None:
    with pytest.raises(NotFoundError, match="T0999"):
        disarm.countermeasures_for(["T0049", "T0999"])


def test_unresolved_links_are_kept_and_flagged(disarm: Disarm) -> None:
    links = [link for c in disarm.countermeasures() for link in c.links]
    unresolved = [link for link in links if link.basis == "unresolved"]
    assert unresolved and all(link.technique_ids == () for link in unresolved)
    assert any(link.written_id == "T0038" for link in unresolved)  # "Twitter", deleted from the framework
    for link in links:
        for tid in link.technique_ids:
            disarm.technique(tid)  # every resolved link names a current technique


def test_merged_v0_1_technique_follows_the_chain(disarm: Disarm) -> None:
    # T0056 was merged into v0.1 T0019 "Generate information pollution", which is now T0049.008.
    assert disarm.legacy_technique("T0056").technique_ids == ("T0049.008",)
    assert disarm.legacy_technique("T0001").technique_ids == ("T0075", "T0076", "T0077", "T0078", "T0079")


def test_describe_technique_carries_suggestions_and_warning(disarm: Disarm) -> None:
    detail = disarm.describe("T0049")
    assert detail.warning == DISARM_BLUE_WARNING
    assert detail.suggestions
    assert {t.id for t in detail.related} == {t.id for t in disarm.subtechniques("T0049")}
    assert disarm.describe("TA01").warning is None


def test_warning_constant_matches_shipped_data() -> None:
    data = json.loads(resources.files("rrm.frameworks").joinpath("data").joinpath("disarm.json").read_text("utf-8"))
    assert data["blue_warning"] == DISARM_BLUE_WARNING
    assert "censorship" in DISARM_BLUE_WARNING


def test_load_is_cached() -> None:
    assert load_disarm() is load_disarm()
