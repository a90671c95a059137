"""STIX 2.1 export and import of incidents: valid, deterministic, no bystanders, versioned, all or nothing."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

import pytest
import stix2validator

from conftest import shared_data
from rrm.cases import (
    ActionKind,
    CasesDB,
    FindingKind,
    IncidentChanges,
    IncidentDraft,
    Likelihood,
    Role,
    Stance,
    add_note,
    add_partner,
    add_source,
    add_technique,
    add_user,
    assess,
    get_incident,
    link_finding,
    list_incidents,
    migrate,
    open_incident,
    plan_action,
    update_incident,
)
from rrm.errors import InputError, SharingDeniedError
from rrm.frameworks.tlp import TLP
from rrm.share.pseudonymise import Pseudonymiser
from rrm.share.signing import NodeKey, verify_bundle
from rrm.share.stix_export import DisarmStixIndex, NodeIdentity, Observation, SharingTerms, export_incident
from rrm.share.stix_import import import_stix, origin_of, read_bundle


def _db(path: Path, user: str = "lea") -> CasesDB:
    url = f"sqlite:///{path}"
    migrate(url)
    db = CasesDB(url)
    add_partner(db, None, "CA", name="Canada", country="CA")
    add_partner(db, None, "FR", name="France", country="FR")
    add_user(db, None, user, role=Role.LEAD, partner="CA")
    add_user(db, user, "fab", role=Role.ANALYST, partner="FR")
    return db


@pytest.fixture
def db(tmp_path: Path) -> CasesDB:
    return _db(tmp_path / "a.sqlite")


@pytest.fixture
def node(tmp_path: Path) -> NodeIdentity:
    return NodeIdentity.load_or_create(tmp_path / "node.json", name="Canada RRM")


def _incident(db: CasesDB, tlp: TLP = TLP.AMBER) -> int:
    incident = open_incident(db, "lea", IncidentDraft(
        title="Flooding of #vote2025", summary="Bots <script>alert(1)</script>", tlp=tlp,
        suspected_actor="Doppelganger", attribution_confidence=Likelihood.LIKELY, target_country="DE"))
    add_technique(db, "lea", incident.id, "T0049.003", "400 reposts within 60 s")
    link_finding(db, "lea", incident.id, FindingKind.URL, "https://fake.example/a?q='x'\\")
    link_finding(db, "lea", incident.id, FindingKind.DOMAIN, "fake.example")
    link_finding(db, "lea", incident.id, FindingKind.ACCOUNT, "twitter:12345", note="ring leader")
    link_finding(db, "lea", incident.id, FindingKind.POST, "twitter:999")
    add_note(db, "lea", incident.id, "Accounts created the same week")
    add_source(db, "lea", incident.id, "Platform takedown report", "B2", reference="https://platform.example/r")
    plan_action(db, "lea", incident.id, ActionKind.PLATFORM_REFERRAL, "Refer the ring to the platform (C00008)",
                owner="CA")
    assess(db, "fab", incident.id, Stance.AGREE, 80, rationale="Same infrastructure as 2024")
    return incident.id


def _errors(bundle: dict[str, object]) -> list[str]:
    results = stix2validator.validate_string(json.dumps(bundle))
    assert results.is_valid == (not results.errors)
    return [str(e) for e in results.errors]


def test_export_is_valid_stix_with_markings_everywhere(db: CasesDB, node: NodeIdentity) -> None:
    incident = get_incident(db, "lea", _incident(db))
    export = export_incident(incident, node)
    assert _errors(export.bundle) == []
    counts = export.count_by_type()
    for kind in ("report", "incident", "campaign", "threat-actor", "attack-pattern", "course-of-action", "indicator",
                 "url", "domain-name", "user-account", "note", "opinion", "relationship", "identity"):
        assert counts.get(kind), kind
    amber = TLP.AMBER.marking_id
    for obj in export.objects:
        if obj["type"] == "marking-definition":
            continue
        assert obj.get("object_marking_refs"), obj["id"]
        if obj["type"] != "attack-pattern":
            assert obj["object_marking_refs"] == [amber], obj["id"]
    report = next(o for o in export.objects if o["type"] == "report")
    assert set(report["object_refs"]) == {o["id"] for o in export.objects} - {report["id"]} - {
        o["id"] for o in export.objects if o["type"] == "marking-definition"}
    relation_types = {o["relationship_type"] for o in export.objects if o["type"] == "relationship"}
    assert {"uses", "indicates", "attributed-to", "related-to"} <= relation_types
    attributed = next(o for o in export.objects if o.get("relationship_type") == "attributed-to")
    assert attributed["confidence"] == 67
    opinion = next(o for o in export.objects if o["type"] == "opinion")
    assert (opinion["opinion"], opinion["confidence"]) == ("agree", 80)
    # posts stay here, and the analysts' names never leave
    assert [r.what for r in export.redactions] == ["post links"]
    text = json.dumps(export.bundle)
    assert "twitter:999" not in text and '"999"' not in text
    assert '"lea"' not in text and '"fab"' not in text


def test_export_is_deterministic_and_versions_on_change(db: CasesDB, node: NodeIdentity) -> None:
    incident_id = _incident(db)
    first = export_incident(get_incident(db, "lea", incident_id), node)
    again = export_incident(get_incident(db, "lea", incident_id), node)
    assert first.bundle == again.bundle
    current = get_incident(db, "lea", incident_id)
    update_incident(db, "lea", incident_id, current.version, IncidentChanges(summary="A second wave"))
    changed = export_incident(get_incident(db, "lea", incident_id), node)
    assert {o["id"] for o in changed.objects} == {o["id"] for o in first.objects}
    old = next(o for o in first.objects if o["type"] == "incident")
    new = next(o for o in changed.objects if o["type"] == "incident")
    assert new["modified"] > old["modified"] and new["created"] == old["created"]


def test_only_subject_accounts_pseudonymised_on_request(db: CasesDB, node: NodeIdentity) -> None:
    incident = get_incident(db, "lea", _incident(db))
    key = Pseudonymiser(b"k" * 32)
    export = export_incident(incident, node, terms=SharingTerms(partner="FR", max_tlp=TLP.AMBER, pseudonymiser=key))
    accounts = [o for o in export.objects if o["type"] == "user-account"]
    assert [a["user_id"] for a in accounts] == [key.pseudonym("twitter", "12345")]
    assert "12345" not in json.dumps(export.bundle)
    assert export.pseudonymised == 1 and _errors(export.bundle) == []


def test_tlp_ceiling_refuses_and_strict_names_recipients(db: CasesDB, node: NodeIdentity) -> None:
    incident = get_incident(db, "lea", _incident(db, TLP.RED))
    with pytest.raises(SharingDeniedError) as caught:
        export_incident(incident, node, terms=SharingTerms(partner="FR", max_tlp=TLP.AMBER))
    assert caught.value.message == ("incident 1 is TLP:RED, above what partner FR may receive (TLP:AMBER): "
                                    "nothing was exported")
    export = export_incident(incident, node, terms=SharingTerms(partner="FR", max_tlp=TLP.RED))
    assert all(o.get("x_rrm_recipients") == ["FR"] for o in export.objects if o["type"] != "marking-definition")


def test_disarm_ids_reused_and_bundle_understood(db: CasesDB, node: NodeIdentity, tmp_path: Path) -> None:
    path = shared_data("disarm/upstream/DISARM_STIX_bundle.json")
    bundle = read_bundle(path.read_bytes(), source=path.name)
    result = import_stix(db, "lea", bundle, source=path.name, disarm_index_path=tmp_path / "ids.json")
    assert result.disarm is not None and result.outcomes == ()
    assert result.disarm.attack_patterns == 391 and result.disarm.mapped == 391 and result.disarm.unknown == ()
    index = DisarmStixIndex.load(tmp_path / "ids.json")
    assert index is not None
    upstream = next(o for o in bundle["objects"] if o["type"] == "attack-pattern"
                    and o["external_references"][0]["external_id"] == "T0049.003")
    export = export_incident(get_incident(db, "lea", _incident(db)), node, disarm_ids=index)
    pattern = next(o for o in export.objects if o["type"] == "attack-pattern")
    assert pattern["id"] == upstream["id"] and export.warnings == ()
    assert pattern["external_references"] == [{"source_name": "DISARM", "external_id": "T0049.003",
                                               "url": upstream["external_references"][0]["url"]}]
    assert list_incidents(db, "lea")[0].id == 1  # the framework bundle made no incident


def test_round_trip_and_versioning(db: CasesDB, node: NodeIdentity, tmp_path: Path) -> None:
    incident_id = _incident(db)
    seen = Observation(FindingKind.URL, "https://fake.example/a?q='x'\\", 42, get_incident(db, "lea", 1).created_at,
                       get_incident(db, "lea", 1).updated_at)
    first = export_incident(get_incident(db, "lea", incident_id), node, observations=[seen])
    assert any(o["type"] == "sighting" and o["count"] == 42 for o in first.objects)
    other = _db(tmp_path / "b.sqlite", user="bob")
    other_node = NodeIdentity.load_or_create(tmp_path / "node-b.json")
    received = read_bundle(json.dumps(first.bundle), source="first.json")
    result = import_stix(other, "bob", received, source="first.json", node=other_node)
    assert [o.action for o in result.outcomes] == ["created"]
    local = result.outcomes[0].incident_id
    assert local is not None
    again = export_incident(get_incident(other, "bob", local), other_node, origin=origin_of(other, local))
    assert again.bundle == first.bundle
    # the same version again changes nothing; a newer one updates
    assert [o.action for o in import_stix(other, "bob", received, source="x", node=other_node).outcomes] == ["unchanged"]
    current = get_incident(db, "lea", incident_id)
    update_incident(db, "lea", incident_id, current.version, IncidentChanges(title="Flooding, second wave"))
    newer = export_incident(get_incident(db, "lea", incident_id), node).bundle
    assert [o.action for o in import_stix(other, "bob", newer, source="x", node=other_node).outcomes] == ["updated"]
    assert get_incident(other, "bob", local).title == "Flooding, second wave"
    # a local change is never overwritten silently by a later partner version
    mine = get_incident(other, "bob", local)
    update_incident(other, "bob", local, mine.version, IncidentChanges(summary="our own reading"))
    current = get_incident(db, "lea", incident_id)
    update_incident(db, "lea", incident_id, current.version, IncidentChanges(title="Third wave"))
    latest = export_incident(get_incident(db, "lea", incident_id), node).bundle
    outcome = import_stix(other, "bob", latest, source="x", node=other_node).outcomes[0]
    assert outcome.action == "conflict"
    kept = get_incident(other, "bob", local)
    assert (kept.title, kept.summary) == ("Flooding, second wave", "our own reading")
    # our own incident coming back is recognised, not duplicated
    back = import_stix(db, "lea", latest, source="back.json", node=node).outcomes[0]
    assert (back.action, back.incident_id) == ("unchanged", incident_id)
    assert len(list_incidents(db, "lea")) == 1


def test_signed_export_verifies(db: CasesDB, node: NodeIdentity) -> None:
    key = NodeKey.generate()
    export = export_incident(get_incident(db, "lea", _incident(db)), node, sign_with=key)
    assert verify_bundle(export.bundle, {key.key_id: key.public_key}) == key.key_id


def test_malformed_object_rejected_and_nothing_stored(db: CasesDB, node: NodeIdentity, tmp_path: Path) -> None:
    bundle = export_incident(get_incident(db, "lea", _incident(db)), node).bundle
    other = _db(tmp_path / "b.sqlite", user="bob")
    broken = copy.deepcopy(bundle)
    opinion = next(o for o in broken["objects"] if o["type"] == "opinion")
    opinion["opinion"] = "neutral"
    with pytest.raises(InputError) as caught:
        import_stix(other, "bob", broken, source="in.json")
    assert caught.value.message == (f"in.json, {opinion['id']}, field 'opinion': 'neutral' cannot become an "
                                    "assessment (agree or disagree)")
    assert list_incidents(other, "bob") == []
    unknown = copy.deepcopy(bundle)
    unknown["objects"].append({"type": "weapon", "id": f"weapon--{uuid.uuid4()}", "spec_version": "2.1"})
    with pytest.raises(InputError, match="unknown STIX type 'weapon'"):
        read_bundle(json.dumps(unknown), source="in.json")
    with pytest.raises(InputError, match=r"in\.json: is not a STIX bundle"):
        read_bundle(b'{"type": "report"}', source="in.json")


def test_opencti_shaped_bundle(db: CasesDB) -> None:
    author = f"identity--{uuid.uuid4()}"
    report, pattern, url, indicator = (f"{k}--{uuid.uuid4()}" for k in ("report", "attack-pattern", "url", "indicator"))
    amber = TLP.AMBER.marking_id
    common = {"spec_version": "2.1", "created": "2025-01-05T08:00:00.000Z", "modified": "2025-01-06T09:00:00.000Z",
              "created_by_ref": author, "object_marking_refs": [amber]}
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [
        {"type": "marking-definition", "spec_version": "2.1", "id": amber, "created": "2022-10-01T00:00:00.000Z",
         "name": "TLP:AMBER", "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
             "extension_type": "property-extension", "tlp_2_0": "amber"}}},
        {"type": "identity", "spec_version": "2.1", "id": author, "name": "Service de vigilance",
         "identity_class": "organization", "created": "2024-01-01T00:00:00.000Z",
         "modified": "2024-01-01T00:00:00.000Z", "x_opencti_organization_type": "government"},
        {"type": "report", "id": report, **common, "name": "Storm-1516 video network", "report_types": ["threat-report"],
         "description": "Staged videos laundered through fake outlets.", "published": "2025-01-06T09:00:00.000Z",
         "object_refs": [pattern, url, indicator], "x_opencti_report_status": 2, "confidence": 75,
         "x_opencti_reliability": "B - Usually reliable"},
        {"type": "attack-pattern", "id": pattern, **common, "name": "Create Inauthentic News Sites",
         "external_references": [{"source_name": "DISARM", "external_id": "T0097.202"}],
         "x_opencti_stix_ids": [], "x_mitre_id": "T0097.202"},
        {"type": "url", "spec_version": "2.1", "id": url, "value": "https://fake-outlet.example/story",
         "x_opencti_score": 80},
        {"type": "indicator", "id": indicator, **common, "name": "fake outlet", "pattern_type": "stix",
         "pattern": "[domain-name:value = 'fake-outlet.example']", "valid_from": "2025-01-05T08:00:00.000Z",
         "x_opencti_main_observable_type": "Domain-Name"},
    ]}
    received = read_bundle(json.dumps(bundle), source="opencti.json")
    result = import_stix(db, "lea", received, source="opencti.json", from_partner="FR")
    assert [o.action for o in result.outcomes] == ["created"]
    incident = get_incident(db, "lea", result.outcomes[0].incident_id or 0)
    assert (incident.title, incident.tlp) == ("Storm-1516 video network", TLP.AMBER)
    assert [t.technique_id for t in incident.techniques] == ["T0097.202"]
    assert {(k.kind, k.ref) for k in incident.links} == {
        (FindingKind.URL, "https://fake-outlet.example/story"), (FindingKind.DOMAIN, "fake-outlet.example")}
