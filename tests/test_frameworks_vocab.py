"""TLP 2.0, the Admiralty code, the Breakout Scale and the EEAS exposure matrix."""

from __future__ import annotations

import json
from datetime import date

import pytest

from conftest import shared_data
from rrm.errors import InputError
from rrm.frameworks._data import load_json
from rrm.frameworks.admiralty import (
    AdmiraltyRating,
    InformationCredibility,
    SourceReliability,
    credibility_from_confidence,
)
from rrm.frameworks.breakout import BreakoutAssessment, BreakoutCategory, peak, timeline
from rrm.frameworks.exposure import ExposureCategory, euvsdisinfo_case_fields, indicator_dimensions
from rrm.frameworks.tlp import TLP, TLP_EXTENSION_ID, marking_definition, tlp_levels

stix2 = pytest.importorskip("stix2")


def test_tlp_levels_are_ordered() -> None:
    assert TLP.RED > TLP.AMBER_STRICT > TLP.AMBER > TLP.GREEN > TLP.CLEAR
    assert TLP.AMBER <= TLP.AMBER and TLP.GREEN < TLP.RED
    assert sorted([TLP.RED, TLP.CLEAR, TLP.AMBER]) == [TLP.CLEAR, TLP.AMBER, TLP.RED]
    assert max(TLP.GREEN, TLP.AMBER_STRICT) is TLP.AMBER_STRICT
    assert [level.rank for level in tlp_levels()] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TLP:AMBER+STRICT", TLP.AMBER_STRICT),
        ("amber+strict", TLP.AMBER_STRICT),
        ("AMBER_STRICT", TLP.AMBER_STRICT),
        ("tlp: amber strict", TLP.AMBER_STRICT),
        ("TLP:CLEAR", TLP.CLEAR),
        ("TLP:WHITE", TLP.CLEAR),
        (" red ", TLP.RED),
        ("marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", TLP.AMBER),
        ("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", TLP.AMBER),  # TLP 1.0 AMBER
        ("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", TLP.CLEAR),  # TLP 1.0 WHITE
    ],
)
def test_tlp_parse(text: str, expected: TLP) -> None:
    assert TLP.parse(text) is expected


def test_tlp_parse_rejects_unknown_levels_naming_the_place() -> None:
    with pytest.raises(InputError) as caught:
        TLP.parse("TLP:PURPLE", source="feed.csv")
    assert caught.value.message == (
        "feed.csv, field 'tlp': 'TLP:PURPLE' is not a TLP 2.0 level "
        "(one of TLP:CLEAR, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT, TLP:RED)"
    )
    with pytest.raises(InputError):
        TLP.parse("TLP:EX:CHR")


@pytest.mark.parametrize("tlp", list(TLP))
def test_marking_definitions_are_valid_stix_2_1(tlp: TLP) -> None:
    obj = marking_definition(tlp)
    parsed = stix2.parse(obj, allow_custom=False)
    assert parsed.type == "marking-definition" and parsed.spec_version == "2.1"
    assert parsed.name == tlp.label
    assert parsed.id == tlp.marking_id
    assert parsed.extensions[TLP_EXTENSION_ID]["tlp_2_0"] == tlp.label.removeprefix("TLP:").lower()
    assert TLP.from_marking_ref(parsed.id) is tlp
    marked = stix2.Indicator(pattern="[url:value = 'http://x.test/']", pattern_type="stix", object_marking_refs=[obj["id"]])
    assert marked.object_marking_refs == [tlp.marking_id]


def test_marking_definition_is_a_copy() -> None:
    marking_definition(TLP.RED)["name"] = "changed"
    assert marking_definition(TLP.RED)["name"] == "TLP:RED"


def test_tlp_definitions_are_firsts() -> None:
    assert TLP.RED.definition.startswith("For the eyes and ears of individual recipients only")
    assert TLP.AMBER_STRICT.colour == "#FFC000"


@pytest.mark.parametrize(("text", "code", "confidence"), [("B2", "B2", 70), ("a1", "A1", 90), ("C-3", "C3", 50),
                                                           ("F 6", "F6", None), ("E5", "E5", 10)])
def test_admiralty_parse_and_stix_confidence(text: str, code: str, confidence: int | None) -> None:
    rating = AdmiraltyRating.parse(text)
    assert str(rating) == code
    assert rating.stix_confidence == confidence


def test_admiralty_labels() -> None:
    rating = AdmiraltyRating.parse("B2")
    assert rating == AdmiraltyRating(SourceReliability.B, InformationCredibility.PROBABLY_TRUE)
    assert (rating.reliability.label, rating.credibility.label) == ("Usually reliable", "Probably true")
    assert SourceReliability.G.standard is False and SourceReliability.A.standard is True


@pytest.mark.parametrize("text", ["B7", "H2", "", "B22", "2B", "Bee2"])
def test_admiralty_rejects_bad_ratings(text: str) -> None:
    with pytest.raises(InputError) as caught:
        AdmiraltyRating.parse(text, source="report.json")
    assert caught.value.message.startswith("report.json, field 'admiralty': ")


@pytest.mark.parametrize(("confidence", "code"), [(100, "1"), (80, "1"), (79, "2"), (60, "2"), (45, "3"), (20, "4"), (0, "5")])
def test_confidence_reads_back_as_credibility(confidence: int, code: str) -> None:
    assert credibility_from_confidence(confidence).code == code


def test_every_credibility_round_trips_through_stix_confidence() -> None:
    for level in InformationCredibility:
        if level.stix_confidence is not None:
            assert credibility_from_confidence(level.stix_confidence) is level
    with pytest.raises(InputError):
        credibility_from_confidence(101)


def test_breakout_categories_and_assessments() -> None:
    assert [c.value for c in BreakoutCategory] == [1, 2, 3, 4, 5, 6]
    assert BreakoutCategory.parse("Category 5") is BreakoutCategory.CELEBRITY_AMPLIFICATION
    assert BreakoutCategory(4).label == "Cross-medium breakout"
    early = BreakoutAssessment(BreakoutCategory(2), date(2024, 3, 1), "two platforms, one community")
    later = BreakoutAssessment(BreakoutCategory(4), date(2024, 5, 2), "picked up by a national daily")
    again = BreakoutAssessment(BreakoutCategory(4), date(2024, 6, 1), "still there")
    assert timeline([again, later, early]) == [early, later, again]
    assert peak([again, early, later]) == later
    assert peak([]) is None


def test_breakout_assessment_needs_evidence_and_a_valid_category() -> None:
    with pytest.raises(InputError, match="evidence"):
        BreakoutAssessment(BreakoutCategory(1), date(2024, 1, 1), "  ")
    with pytest.raises(InputError, match="not a Breakout Scale category"):
        BreakoutCategory.parse("7")


def test_exposure_matrix() -> None:
    assert [c.label for c in ExposureCategory] == [
        "Official state channels", "State-controlled outlets", "State-linked channels", "State-aligned channels",
    ]
    assert ExposureCategory.parse("state-controlled") is ExposureCategory.STATE_CONTROLLED_OUTLET
    assert ExposureCategory.parse("STATE_ALIGNED") is ExposureCategory.STATE_ALIGNED
    assert ExposureCategory.parse("3") is ExposureCategory.STATE_LINKED
    assert ExposureCategory.STATE_LINKED.attribution == "covert but attributed"
    with pytest.raises(InputError):
        ExposureCategory.parse("state")
    assert set(indicator_dimensions()) == {"type", "confidence", "access"}
    assert "disproof" in euvsdisinfo_case_fields()


def test_shipped_vocabularies_equal_the_shared_file() -> None:
    shared = json.loads(shared_data("vocab/sharing-knowledge-vocabularies.json").read_text(encoding="utf-8"))
    shipped = load_json("vocabularies.json")
    for block, value in shipped.items():
        if block != "_about":
            assert value == shared[block], block
