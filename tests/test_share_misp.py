"""MISP events: export with TLP tags, distribution and DISARM galaxy tags; import; round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pymisp import MISPEvent

from conftest import shared_data
from rrm.cases import CasesDB, get_incident, list_incidents
from rrm.errors import InputError
from rrm.frameworks.tlp import TLP
from rrm.share.misp import DisarmGalaxy, export_misp, import_misp, read_event
from rrm.share.stix_export import NodeIdentity
from rrm.share.stix_import import received_key_of
from test_share_stix import _db, _incident


@pytest.fixture
def db(tmp_path: Path) -> CasesDB:
    return _db(tmp_path / "a.sqlite")


def test_event_shape_and_round_trip(db: CasesDB, tmp_path: Path) -> None:
    node = NodeIdentity.load_or_create(tmp_path / "node.json")
    galaxy = DisarmGalaxy.load(shared_data("disarm/misp-galaxy/clusters-disarm-techniques.json"))
    export = export_misp(get_incident(db, "lea", _incident(db)), node.uuid, galaxy=galaxy)
    event = export.event["Event"]
    tags = {t["name"] for t in event["Tag"]}
    assert "tlp:amber" in tags and event["distribution"] == "1"
    assert 'misp-galaxy:disarm-techniques="Bots Amplify via Automated Forwarding and Reposting"' in tags
    assert {a["type"] for a in event["Attribute"]} == {"url", "domain", "text", "threat-actor"}
    assert [o["name"] for o in event["Object"]] == ["twitter-account"]
    assert "twitter:999" not in export.to_json()
    loaded = MISPEvent()
    loaded.load(export.to_json())
    assert loaded.info == "Flooding of #vote2025"

    other = _db(tmp_path / "b.sqlite", user="bob")
    result = import_misp(other, "bob", read_event(export.to_json(), source="e.json"), source="e.json", galaxy=galaxy)
    local = result.outcomes[0].incident_id or 0
    again = export_misp(get_incident(other, "bob", local), NodeIdentity.load_or_create(tmp_path / "b.json").uuid,
                        received_key=received_key_of(other, local), galaxy=galaxy)
    assert again.event == export.event
    assert import_misp(other, "bob", read_event(export.to_json(), source="e.json"),
                       source="e.json").outcomes[0].action == "unchanged"


def test_hostile_event_rejected_whole(db: CasesDB) -> None:
    event = {"Event": {"uuid": "0b2b5d4c-8f43-4f6e-9a51-3c1c1b7e2d10", "info": "x", "date": "2025-01-05",
                       "timestamp": "1736064000", "Tag": [{"name": "tlp:green"}],
                       "Attribute": [{"type": "url", "value": "javascript:alert(1)", "category": "Network activity"}]}}
    with pytest.raises(InputError) as caught:
        import_misp(db, "lea", read_event(json.dumps(event), source="e.json"), source="e.json")
    assert caught.value.message == ("e.json, event 0b2b5d4c-8f43-4f6e-9a51-3c1c1b7e2d10, attribute 0, field 'value': "
                                    "'javascript:alert(1)' is not an http(s) URL")
    assert list_incidents(db, "lea") == []
    with pytest.raises(InputError, match="is not a MISP event"):
        read_event(b'{"Event": {"info": 3}}', source="e.json")


def test_distribution_follows_tlp(db: CasesDB, tmp_path: Path) -> None:
    node = NodeIdentity.load_or_create(tmp_path / "node.json")
    export = export_misp(get_incident(db, "lea", _incident(db, TLP.RED)), node.uuid)
    assert export.event["Event"]["distribution"] == "0"
    assert "tlp:red" in {t["name"] for t in export.event["Event"]["Tag"]}
