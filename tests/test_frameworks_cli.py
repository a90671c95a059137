"""``rrm disarm``, ``rrm tlp``, ``rrm admiralty``, ``rrm breakout`` and ``rrm exposure`` through the real CLI."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from rrm.cli.app import app
from rrm.frameworks.disarm import DISARM_BLUE_WARNING

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "250"})
    return result.exit_code, result.stdout, result.stderr


def test_disarm_search_table_and_json() -> None:
    code, out, _ = _run("disarm", "search", "fake experts", "--limit", "3")
    assert code == 0
    assert "T0045" in out and "Use Fake Experts" in out
    code, out, _ = _run("disarm", "search", "T0049", "--json")
    found = json.loads(out)
    assert code == 0
    assert found[0]["id"] == "T0049" and found[0]["kind"] == "technique"


def test_disarm_search_without_result() -> None:
    code, out, _ = _run("disarm", "search", "zzzqqq")
    assert code == 0
    assert "No DISARM technique, tactic or countermeasure matches 'zzzqqq'." in out


def test_disarm_show_technique_with_suggestions_and_warning() -> None:
    code, out, _ = _run("disarm", "show", "T0049.001", "--limit", "50")
    assert code == 0
    assert "Trolls Amplify and Manipulate" in out
    assert "C00006" in out and "via v0.1 T0053" in out
    assert "DISARM Foundation caution" in out and "censorship" in out


def test_disarm_show_json() -> None:
    code, out, _ = _run("disarm", "show", "t0049.001", "--json")
    shown = json.loads(out)
    assert code == 0
    assert shown["item"]["id"] == "T0049.001" and shown["item"]["parent_id"] == "T0049"
    assert shown["warning"] == DISARM_BLUE_WARNING
    charge = next(s for s in shown["suggestions"] if s["countermeasure"]["id"] == "C00006")
    assert charge["via_v0_1"] is True and charge["v0_1_ids"] == ["T0053"]


def test_disarm_show_countermeasure_lists_its_links() -> None:
    code, out, _ = _run("disarm", "show", "C00006")
    assert code == 0
    assert "Charge for social media" in out
    assert "unresolved" in out and "curated crosswalk" in out
    assert "DISARM Foundation caution" in out


def test_disarm_show_tactic_and_phase() -> None:
    code, out, _ = _run("disarm", "show", "TA01")
    assert code == 0 and "Plan Strategy" in out and "T0073" in out
    code, out, _ = _run("disarm", "show", "P01", "--json")
    assert code == 0 and {t["id"] for t in json.loads(out)["related"]} >= {"TA01", "TA02"}


def test_disarm_show_unknown_id_is_one_line_error() -> None:
    code, _, err = _run("disarm", "show", "T0999")
    assert code == 1
    assert err.strip() == "Error: No DISARM technique 'T0999'. Did you mean T0149, T0139, T0129?"


def test_tlp_lists_levels() -> None:
    code, out, _ = _run("tlp")
    assert code == 0
    assert out.index("TLP:CLEAR") < out.index("TLP:AMBER+STRICT") < out.index("TLP:RED")
    code, out, _ = _run("tlp", "--json")
    levels = json.loads(out)
    assert [lv["label"] for lv in levels][-1] == "TLP:RED"
    assert levels[0]["stix_marking_definition"]["id"] == "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"


def test_admiralty_tables_rating_and_bad_rating() -> None:
    code, out, _ = _run("admiralty")
    assert code == 0 and "Usually reliable" in out and "MISP extension" in out
    code, out, _ = _run("admiralty", "b2")
    assert code == 0
    assert "B2: source B (Usually reliable), information 2 (Probably true); STIX confidence: 70" in out
    code, out, _ = _run("admiralty", "F6", "--json")
    assert code == 0 and json.loads(out)["stix_confidence"] is None
    code, _, err = _run("admiralty", "Z9")
    assert code == 2
    assert err.strip() == "Error: field 'admiralty': 'Z9' is not an Admiralty rating (a letter A-F and a digit 1-6, e.g. 'B2')"


def test_breakout_and_exposure() -> None:
    code, out, _ = _run("breakout", "--json")
    assert code == 0 and [c["category"] for c in json.loads(out)] == [1, 2, 3, 4, 5, 6]
    code, out, _ = _run("breakout")
    assert code == 0 and "Celebrity amplification" in out
    code, out, _ = _run("exposure")
    assert code == 0 and "State-controlled outlets" in out and "not the official wording" in out
    code, out, _ = _run("exposure", "--json")
    assert code == 0 and len(json.loads(out)["categories"]) == 4


def test_adversary_text_is_escaped_in_rich_output() -> None:
    # Search text is echoed back; Rich markup in it must be shown, not interpreted.
    code, out, _ = _run("disarm", "search", "[red]zzz[/red]")
    assert code == 0
    assert "[red]zzz[/red]" in out
