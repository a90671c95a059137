"""scripts/build_disarm.py: reproduces the shipped data from the shared upstream files, and resolves links."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from conftest import shared_data

openpyxl = pytest.importorskip("openpyxl")

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "build_disarm.py"
SHIPPED = ROOT / "src" / "rrm" / "frameworks" / "data"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_disarm", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_reproduces_the_shipped_files(tmp_path: Path) -> None:
    source = shared_data("disarm")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--source", str(source), "--output", str(tmp_path)],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "391 techniques, 140 countermeasures" in result.stdout
    for name in ("disarm.json", "LICENSE-DISARM.md"):
        assert (tmp_path / name).read_bytes() == (SHIPPED / name).read_bytes(), f"{name} differs: rebuild it"


def _sheet(book: Any, title: str, header: list[str], rows: list[list[Any]]) -> None:
    sheet = book.create_sheet(title)
    sheet.append(header)
    for row in rows:
        sheet.append(row)


def _tiny_disarm(folder: Path, stix_ids: list[str] | None = None) -> Path:
    """A miniature DISARM release: 1 phase, 1 tactic, 4 techniques, 1 countermeasure, 5 v0.1 techniques."""
    upstream = folder / "upstream"
    upstream.mkdir(parents=True)
    book = openpyxl.Workbook()
    _sheet(book, "phases", ["disarm_id", "name", "rank", "summary"], [["P01", "Plan", 1, "Plan it."]])
    _sheet(book, "tactics", ["disarm_id", "name", "phase_id", "rank", "summary"], [["TA01", "Plan Strategy", "P01", 1, "x"]])
    techniques = [
        ["T0002", "Facilitate State Propaganda", "TA01", "s", "no change"],
        ["T0049", "Flood Information Space", "TA01", "s", "no change"],
        ["T0049.001", "Trolls Amplify and Manipulate", "TA01", "s", "no change"],
        ["T0075", "Dismiss", "TA01", "s", "Split from T0001"],
    ]
    _sheet(book, "techniques", ["disarm_id", "name", "tactic_id", "summary", "changes from v0.1"], techniques)
    cell = (
        "T0002 - Facilitate State Propaganda T0001 - 5Ds T0053 - Twitter Trolls Amplify and Manipulate "
        "T0031 - YouTube T0099 - Invented"
    )
    columns = ["disarm_id", "name", "metatechnique", "summary", "actortypes", "tactic", "responsetype", "tags", "techniques"]
    _sheet(book, "countermeasures", [*columns, "incident_ids"],
           [["C00001", "Counter", "M001 - Resilience", "s", "A001 - x", "TA01 Strategic Planning", "D02", "a b", cell, ""]])
    _sheet(book, "detections", [*columns, "incidents"], [["F00001", "Detect", "", "s", "", "", "D01", "", "All", ""]])
    for title, row in (("metatechniques", ["M001", "Resilience", "s"]), ("responsetypes", ["D02", "Deny", "s"]),
                       ("actortypes", ["A001", "x", "s"])):
        _sheet(book, title, ["disarm_id", "name", "summary"], [row])
    book.save(upstream / "DISARM_FRAMEWORKS_MASTER.xlsx")
    legacy = openpyxl.Workbook()
    _sheet(legacy, "techniques", ["disarm_id", "name", "tactic_id", "changes to v0.2"], [
        ["T0001", "5Ds (dismiss, distort, distract, dismay, divide)", "TA01", "Split into techniques 75"],
        ["T0002", "Facilitate State Propaganda", "TA01", "no change"],
        ["T0031", "YouTube", "TA07", "Deleted"],
        ["T0049", "Flooding", "TA09", "no change"],
        ["T0053", "Twitter trolls amplify and manipulate", "TA09", "Moved to subtechnique ST0097"],
    ])
    legacy.save(upstream / "DISARM_FRAMEWORKS_MASTER_0_1.xlsx")
    ids = stix_ids if stix_ids is not None else [t[0] for t in techniques]
    bundle = {"type": "bundle", "objects": [
        {"type": "attack-pattern", "external_references": [{"external_id": tid}]} for tid in ids
    ]}
    (upstream / "DISARM_STIX_bundle.json").write_text(json.dumps(bundle), encoding="utf-8")
    (folder / "LICENSE-DISARM-CC-BY-SA-4.0.md").write_text("Attribution-ShareAlike 4.0 International\n", encoding="utf-8")
    return folder


def test_links_are_resolved_and_flagged(tmp_path: Path) -> None:
    data = _script().build(_tiny_disarm(tmp_path / "disarm"))
    links = {link["written_id"]: link for link in data["countermeasures"][0]["links"]}
    assert links["T0002"] == {
        "written_id": "T0002", "written_name": "Facilitate State Propaganda", "technique_ids": ["T0002"],
        "basis": "current", "method": "id and name",
    }
    assert (links["T0001"]["basis"], links["T0001"]["technique_ids"]) == ("v0.1", ["T0075"])
    assert (links["T0053"]["method"], links["T0053"]["technique_ids"]) == ("curated crosswalk", ["T0049.001"])
    assert (links["T0031"]["basis"], links["T0031"]["technique_ids"]) == ("unresolved", [])
    assert (links["T0099"]["basis"], links["T0099"]["method"]) == ("unresolved", "unknown id")
    counter = data["countermeasures"][0]
    assert (counter["tactic_id"], counter["metatechnique_ids"], counter["actortype_ids"]) == ("TA01", ["M001"], ["A001"])
    assert data["detections"][0]["applies_to_all"] is True


def test_script_refuses_upstream_that_disagrees_with_stix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _tiny_disarm(tmp_path / "disarm", stix_ids=["T0002"])
    assert _script().main(["--source", str(source), "--output", str(tmp_path / "out")]) == 1
    assert "the STIX bundle and the xlsx disagree on ['T0049', 'T0049.001', 'T0075']" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
