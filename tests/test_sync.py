"""Sync between two RRM nodes on localhost: two workspaces, two uvicorn servers, ``taxii2-client`` between them.

FR and DE each run a node with the same collection. FR opens an incident and reports it; DE assesses
it (a STIX opinion) and both record sightings: everything flows both ways, TLP:RED stays home unless
the partner is named, revocations travel, and the newest ``modified`` wins, while the same
``modified`` with other content is a conflict on both sides.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import stix2
from sqlalchemy import func, select
from typer.testing import CliRunner

from rrm.cli.app import app
from rrm.errors import SyncError
from rrm.frameworks.tlp import TLP, marking_definition
from rrm.share.sync import NodeCredentials, Syncer, SyncNode, SyncSecrets
from rrm.share.taxii import tables as t
from rrm.share.taxii.store import TaxiiStore
from rrm.web.app import taxii_database_url
from rrm.workspace import Workspace
from taxii_fixtures import indicator, serve

SHARED = "3f9b0c52-6c55-4d6f-9d0e-5b1d1f0c2a11"
BULK = "0b6f1f8e-2f5b-4c8a-bb9e-6a1f3c0de222"


def marked(obj: Any, tlp: TLP, recipients: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(obj.serialize())
    body["object_marking_refs"] = [marking_definition(tlp)["id"]]
    if recipients:
        body["x_rrm_recipients"] = recipients
    return body


@dataclass
class Site:
    name: str
    workspace: Workspace
    store: TaxiiStore
    key_for_other: str = ""
    url: str = ""

    @property
    def syncer(self) -> Syncer:
        return Syncer(self.store, SyncSecrets.of(self.workspace), page_size=3)

    def latest(self, object_id: str) -> dict[str, Any] | None:
        return self.store.latest_version(SHARED, object_id)

    def count(self) -> int:
        with self.store.engine.connect() as db:
            return int(db.execute(select(func.count()).select_from(t.objects)).scalar_one())


def make_site(root: Path, name: str, other: str) -> Site:
    workspace = Workspace.resolve(root / name).ensure()
    store = TaxiiStore(taxii_database_url(workspace))
    for collection in (SHARED, BULK):
        store.create_collection(collection, "FIMI incidents")
        store.add_partner(other, f"Partner {other}", TLP.AMBER)
        store.grant(other, collection, read=True, write=True)
    return Site(name, workspace, store, store.issue_api_key(other))


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Site]]:
    root = tmp_path_factory.mktemp("sync")
    fr, de = make_site(root, "FR", "DE"), make_site(root, "DE", "FR")
    servers = [serve(fr.workspace, workers=1), serve(de.workspace, workers=1)]
    fr.url, de.url = (next(server) for server in servers)
    fr.syncer.add_node(SyncNode("DE", de.url, "api1", SHARED, SHARED), NodeCredentials(key=de.key_for_other))
    de.syncer.add_node(SyncNode("FR", fr.url, "api1", SHARED, SHARED), NodeCredentials(key=fr.key_for_other))
    yield fr, de
    for server in servers:
        server.close()


# FR's case: an incident, its report, a sighting; a RED note for nobody and a RED note for DE.
INCIDENT = stix2.v21.Incident(name="Doppelganger clone sites, wave 3", created="2026-11-02T09:00:00.000Z",
                              modified="2026-11-02T09:00:00.000Z", description="Cloned news sites")
REPORT = stix2.v21.Report(name="Wave 3 report", published="2026-11-02T10:00:00Z", object_refs=[INCIDENT.id],
                          created="2026-11-02T10:00:00.000Z", modified="2026-11-02T10:00:00.000Z")
DOMAIN = indicator(1, TLP.GREEN)
FR_SIGHTING = stix2.v21.Sighting(sighting_of_ref=DOMAIN["id"], count=12, created="2026-11-02T11:00:00.000Z",
                                 modified="2026-11-02T11:00:00.000Z")
RED_HOME = stix2.v21.Note(content="Source: a human source in the operator's network", object_refs=[INCIDENT.id],
                          created="2026-11-02T12:00:00.000Z", modified="2026-11-02T12:00:00.000Z")
RED_FOR_DE = stix2.v21.Note(content="For DE only: the operator's hosting contract", object_refs=[INCIDENT.id],
                            created="2026-11-02T12:00:00.000Z", modified="2026-11-02T12:00:00.000Z")
# DE's answer: an assessment of FR's incident, and its own sighting.
OPINION = stix2.v21.Opinion(opinion="agree", object_refs=[INCIDENT.id], explanation="Same infrastructure seen here",
                            created="2026-11-03T09:00:00.000Z", modified="2026-11-03T09:00:00.000Z")
DE_SIGHTING = stix2.v21.Sighting(sighting_of_ref=DOMAIN["id"], count=4, created="2026-11-03T10:00:00.000Z",
                                 modified="2026-11-03T10:00:00.000Z")


def test_incident_assessment_and_sightings_flow_both_ways_red_stays_home(sites: tuple[Site, Site]) -> None:
    fr, de = sites
    fr.store.add(SHARED, [marked(INCIDENT, TLP.AMBER), marked(REPORT, TLP.AMBER), DOMAIN,
                          marked(FR_SIGHTING, TLP.GREEN), marked(RED_HOME, TLP.RED),
                          marked(RED_FOR_DE, TLP.RED, ["DE"])])
    [first] = fr.syncer.sync("DE")
    assert (first.pushed, first.conflicts, first.rejected) == (5, 0, 0)
    assert de.latest(INCIDENT.id) is not None and de.latest(REPORT.id) is not None
    assert de.latest(FR_SIGHTING.id) is not None and de.latest(RED_FOR_DE.id) is not None
    assert de.latest(RED_HOME.id) is None  # TLP:RED, DE not named: never left FR

    de.store.add(SHARED, [marked(OPINION, TLP.AMBER), marked(DE_SIGHTING, TLP.GREEN)])
    [back] = de.syncer.sync("FR")
    assert back.pushed == 2 and back.stored == 0  # what DE pulled from FR it already had
    opinion = fr.latest(OPINION.id)
    assert opinion is not None and opinion["object_refs"] == [INCIDENT.id]
    assert fr.latest(DE_SIGHTING.id) is not None
    assert de.latest(RED_HOME.id) is None


def test_running_again_changes_nothing(sites: tuple[Site, Site]) -> None:
    fr, de = sites
    for site, node in ((fr, "DE"), (de, "FR"), (fr, "DE")):
        site.syncer.sync(node)
    before = (fr.count(), de.count(), fr.syncer.state("DE"), de.syncer.state("FR"))
    again = [*fr.syncer.sync("DE"), *de.syncer.sync("FR")]
    assert [(r.stored, r.pushed, r.conflicts) for r in again] == [(0, 0, 0), (0, 0, 0)]
    assert (fr.count(), de.count()) == before[:2]
    assert fr.syncer.state("DE").pushed_seq == before[2].pushed_seq


def test_revocation_and_newest_version_reach_the_partner(sites: tuple[Site, Site]) -> None:
    fr, de = sites
    revoked = json.loads(INCIDENT.new_version(revoked=True, modified="2026-11-04T09:00:00.000Z").serialize())
    revoked["object_marking_refs"] = [marking_definition(TLP.AMBER)["id"]]
    fr.store.add(SHARED, [revoked])
    fr.syncer.sync("DE")
    latest = de.latest(INCIDENT.id)
    assert latest is not None and latest["revoked"] is True
    # DE amends FR's report later: the newest modified wins at FR too; an older version does not
    newer = marked(REPORT.new_version(description="DE adds two sites", modified="2026-11-05T09:00:00.000Z"),
                   TLP.AMBER)
    de.store.add(SHARED, [newer])
    de.syncer.sync("FR")
    assert (fr.latest(REPORT.id) or {}).get("description") == "DE adds two sites"
    older = marked(REPORT.new_version(description="stale", modified="2026-11-04T09:00:00.000Z"), TLP.AMBER)
    fr.store.add(SHARED, [older])
    fr.syncer.sync("DE")
    assert (de.latest(REPORT.id) or {}).get("description") == "DE adds two sites"


def test_same_modified_different_content_is_a_conflict_on_both_sides(sites: tuple[Site, Site]) -> None:
    fr, de = sites
    stamp = "2026-11-06T09:00:00.000Z"
    fr.store.add(SHARED, [marked(INCIDENT.new_version(description="FR's reading", modified=stamp, revoked=False),
                                 TLP.AMBER)])
    de.store.add(SHARED, [marked(INCIDENT.new_version(description="DE's reading", modified=stamp, revoked=False),
                                 TLP.AMBER)])
    [report] = fr.syncer.sync("DE")
    assert report.conflicts == 2  # pulled DE's version, and DE refused FR's
    assert {c.direction for c in fr.syncer.conflicts("DE")} == {"pull", "push"}
    assert (fr.latest(INCIDENT.id) or {})["description"] == "FR's reading"
    assert (de.latest(INCIDENT.id) or {})["description"] == "DE's reading"
    [again] = fr.syncer.sync("DE")
    assert again.conflicts == 0 and len(fr.syncer.conflicts("DE")) == 2  # reported once


def test_invalid_objects_from_a_partner_are_rejected_and_the_rest_kept(sites: tuple[Site, Site]) -> None:
    fr, de = sites
    good = indicator(77, TLP.GREEN)
    bad = {**indicator(78, TLP.GREEN), "pattern": "this is not a pattern"}
    de.store.receive(SHARED, [bad], origin="local")  # a partner's server can send anything (no check here)
    de.store.add(SHARED, [good])
    fr.syncer.sync("DE")
    assert fr.latest(good["id"]) is not None and fr.latest(bad["id"]) is None
    [reject] = fr.syncer.rejects("DE")
    assert reject["object"] == bad["id"] and "invalid STIX 2.1" in reject["reason"] and "DE, object" in reject["reason"]


def test_secrets_are_kept_in_a_private_file_and_never_shown(sites: tuple[Site, Site]) -> None:
    fr, de = sites
    path = SyncSecrets.of(fr.workspace).path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert de.key_for_other not in repr(SyncSecrets.of(fr.workspace).get("DE"))
    with fr.store.engine.connect() as db:
        stored = " ".join(str(row) for row in db.execute(select(t.sync_nodes)))
    assert de.key_for_other not in stored
    result = CliRunner().invoke(app, ["sync", "status", "--workspace", str(fr.workspace.root), "--json"])
    assert result.exit_code == 0 and de.key_for_other not in result.output
    assert json.loads(result.output)[0]["node"]["name"] == "DE"


def test_cli_add_node_and_sync(sites: tuple[Site, Site], tmp_path: Path) -> None:
    _fr, de = sites
    home = str(tmp_path / "IT")
    runner = CliRunner()
    added = runner.invoke(app, ["partners", "add-node", "DE", "--url", de.url, "--collection", SHARED,
                                "--key", de.key_for_other, "--max-tlp", "GREEN", "--workspace", home])
    assert added.exit_code == 0, added.output
    assert de.key_for_other not in added.output
    first = runner.invoke(app, ["sync", "--partner", "DE", "--workspace", home, "--json"])
    assert first.exit_code == 0, first.output
    [report] = json.loads(first.output)
    assert report["pulled"] > 5 and report["stored"] == report["pulled"] - report["rejected"]
    table = runner.invoke(app, ["sync", "--workspace", home])
    assert table.exit_code == 0 and "DE" in table.output
    wrong = runner.invoke(app, ["partners", "add-node", "XX", "--url", de.url, "--collection", SHARED,
                                "--key", "rrm_wrong", "--workspace", home])
    assert wrong.exit_code == 0
    refused = runner.invoke(app, ["sync", "--partner", "XX", "--workspace", home])
    assert refused.exit_code == 1
    assert "XX: the partner answered HTTP 401 at pull" in refused.output


def test_unreachable_partner_is_a_sync_error(tmp_path: Path) -> None:
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    syncer = Syncer(TaxiiStore(taxii_database_url(workspace)), SyncSecrets.of(workspace), timeout=2)
    syncer.add_node(SyncNode("NOWHERE", "http://127.0.0.1:9", "api1", SHARED, SHARED), NodeCredentials(key="k"))
    with pytest.raises(SyncError) as caught:
        syncer.sync("NOWHERE")
    assert caught.value.node == "NOWHERE" and caught.value.stage == "pull"


def test_killed_mid_sync_resumes_without_loss_or_duplicates(sites: tuple[Site, Site], tmp_path: Path) -> None:
    _fr, de = sites
    de.store.add(BULK, [indicator(10_000 + n, TLP.GREEN) for n in range(400)])
    workspace = Workspace.resolve(tmp_path / "PL").ensure()
    syncer = Syncer(TaxiiStore(taxii_database_url(workspace)), SyncSecrets.of(workspace))
    syncer.add_node(SyncNode("DE", de.url, "api1", BULK, BULK), NodeCredentials(key=de.key_for_other))
    command = [sys.executable, "-c", "from rrm.cli.app import main; main()", "sync", "--no-push", "--page-size", "4"]
    process = subprocess.Popen(command, env={**os.environ, "RRM_HOME": str(workspace.root)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while syncer.state("DE").pulled_after is None and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    process.kill()
    process.wait()

    def stored() -> int:
        with syncer.store.engine.connect() as db:
            return int(db.execute(select(func.count()).select_from(t.objects)
                                  .where(t.objects.c.collection_id == BULK)).scalar_one())

    interrupted = stored()
    assert 0 < interrupted < 400  # killed after at least one page and before the end
    [resumed] = syncer.sync("DE", push=False)
    assert stored() == 400
    assert resumed.pulled <= 400 - interrupted + 4  # at most the page in flight is pulled again
