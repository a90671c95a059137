"""``rrm share``: preview, export (logged), import, revoke into the TAXII node."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rrm.cases import CasesDB, Role, add_partner, add_user, audit_log, migrate
from rrm.cli.app import app
from rrm.frameworks.tlp import TLP
from rrm.share.taxii.store import TaxiiStore
from rrm.web.app import taxii_database_url
from rrm.workspace import Workspace
from test_share_stix import _incident


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    monkeypatch.setenv("RRM_HOME", str(workspace.root))
    monkeypatch.setenv("RRM_USER", "lea")
    monkeypatch.delenv("RRM_DATABASE_URL", raising=False)
    migrate(workspace.cases_database_url)
    with CasesDB.for_workspace(workspace) as db:
        add_partner(db, None, "CA", name="Canada", country="CA")
        add_partner(db, None, "FR", name="France", country="FR")
        add_user(db, None, "lea", role=Role.LEAD, partner="CA")
        add_user(db, "lea", "fab", role=Role.ANALYST, partner="FR")
        _incident(db)
    return workspace


def test_preview_export_import_revoke(ws: Workspace, tmp_path: Path) -> None:
    runner = CliRunner()
    taxii = TaxiiStore(taxii_database_url(ws))
    taxii.add_partner("FR", "France", TLP.GREEN)
    taxii.create_collection("c1", "FIMI")
    denied = runner.invoke(app, ["share", "preview", "1", "--partner", "FR"])
    assert denied.exit_code == 1
    assert "incident 1 is TLP:AMBER, above what partner FR may receive (TLP:GREEN)" in denied.output
    taxii.add_partner("FR", "France", TLP.AMBER)
    preview = runner.invoke(app, ["share", "preview", "1", "--partner", "FR", "--json"])
    assert preview.exit_code == 0, preview.output
    shown = json.loads(preview.output)
    assert shown["ceiling_from"] == "taxii partner" and shown["objects"]["incident"] == 1
    assert audit_log(CasesDB.for_workspace(ws), "lea", incident_id=1)[-1].action != "share.export"

    out = tmp_path / "incident.json"
    exported = runner.invoke(app, ["share", "export", "1", str(out), "--partner", "FR", "--sign"])
    assert exported.exit_code == 0, exported.output
    bundle = json.loads(out.read_text())
    assert "x_rrm_signature" in bundle
    entry = audit_log(CasesDB.for_workspace(ws), "lea", incident_id=1)[-1]
    assert entry.action == "share.export" and entry.after is not None
    assert (entry.after["partner"], entry.after["tlp"]) == ("FR", "TLP:AMBER")

    misp = tmp_path / "event.json"
    assert runner.invoke(app, ["share", "export", "1", str(misp), "--format", "misp", "--max-tlp", "amber"]).exit_code == 0
    imported = runner.invoke(app, ["share", "import", str(misp), "--json"])
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.output)["outcomes"][0]["action"] == "created"

    indicator = next(o for o in bundle["objects"] if o["type"] == "indicator")
    taxii.add("c1", [indicator])
    revoked = runner.invoke(app, ["share", "revoke", indicator["id"]])
    assert revoked.exit_code == 0, revoked.output
    assert "added to c1" in revoked.output
    with taxii.engine.connect() as connection:
        bodies = [json.loads(r[0]) for r in connection.exec_driver_sql(
            "SELECT body FROM taxii_objects WHERE object_id = ? ORDER BY seq", (indicator["id"],))]
    assert [b.get("revoked", False) for b in bodies] == [False, True]
    taxii.close()


def test_import_names_the_bad_object(ws: Workspace, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"type": "bundle", "id": "bundle--0b2b5d4c-8f43-4f6e-9a51-3c1c1b7e2d10",
                               "objects": [{"type": "incident", "id": "incident--nope", "spec_version": "2.1"}]}))
    result = CliRunner().invoke(app, ["share", "import", str(bad)])
    assert result.exit_code == 2
    assert "object 0, field 'id': id 'incident--nope' is not 'incident--<uuid>'" in result.output
