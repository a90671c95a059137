"""The cases commands through the real CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cases_pg import *  # noqa: F403  (the fixtures)
from rrm.cli.app import app


@pytest.fixture
def rrm(cases_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("RRM_DATABASE_URL", cases_url)
    monkeypatch.setenv("RRM_HOME", str(tmp_path / "ws"))
    monkeypatch.delenv("RRM_USER", raising=False)
    return CliRunner()


def _ok(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_case_from_bootstrap_to_lessons(rrm: CliRunner) -> None:
    assert "nothing to do" in _ok(rrm, "cases", "migrate")
    _ok(rrm, "partners", "add", "CA", "--name", "Canada", "--country", "CA")
    _ok(rrm, "users", "add", "lea", "--role", "lead", "--partner", "CA")
    _ok(rrm, "users", "add", "ana", "--role", "analyst", "--partner", "CA", "--user", "lea")
    opened = json.loads(_ok(rrm, "incident", "open", "--title", "[red]Flood[/red] #vote", "--tlp", "amber",
                            "--user", "ana", "--json"))
    number = str(opened["id"])
    assert opened["tlp"] == "TLP:AMBER" and opened["version"] == 1
    shown = _ok(rrm, "incident", "show", number, "--user", "ana")
    assert "[red]Flood[/red] #vote" in shown  # adversary markup is shown as text
    _ok(rrm, "incident", "add-technique", number, "T0049.003", "--evidence", "ring", "--user", "ana")
    advice = _ok(rrm, "incident", "countermeasures", number, "--user", "ana")
    assert "DISARM blue: caution" in advice
    stale = rrm.invoke(app, ["incident", "update", number, "--version", "1", "--summary", "x", "--user", "ana"])
    assert stale.exit_code == 1 and "is at version 2, your change was based on version 1" in stale.output
    lower = rrm.invoke(app, ["incident", "update", number, "--version", "2", "--tlp", "green", "--user", "ana"])
    assert lower.exit_code == 1 and "the lead role is needed" in lower.output
    bad = rrm.invoke(app, ["incident", "transition", number, "responding", "--user", "ana"])
    assert bad.exit_code == 1 and "draft: it cannot become responding" in bad.output
    unknown = rrm.invoke(app, ["incident", "add-technique", number, "T0000", "--evidence", "x", "--user", "ana"])
    assert unknown.exit_code == 1 and "No DISARM technique 'T0000'" in unknown.output
    _ok(rrm, "incident", "plan", number, "debunk", "Publish a debunk", "--owner", "CA", "--user", "ana")
    _ok(rrm, "incident", "assess", number, "agree", "--confidence", "80", "--user", "ana")
    assert "signed by CA" in _ok(rrm, "incident", "sign", number, "--text", "We attribute.", "--user", "lea")
    _ok(rrm, "incident", "transition", number, "closed", "--user", "lea")
    _ok(rrm, "lessons", "add", number, "worked", "Prebunking early", "--tlp", "clear", "--user", "ana")
    assert "Prebunking early" in _ok(rrm, "lessons", "search", "prebunk", "--user", "ana")
    assert "- Prebunking early (TLP:CLEAR)" in _ok(rrm, "lessons", "export", "--tlp", "clear", "--user", "ana")
    log = json.loads(_ok(rrm, "audit", "--incident", number, "--as", "ana", "--json"))
    assert [e["action"] for e in log][:2] == ["incident.open", "incident.technique"]
    assert {e["actor"] for e in json.loads(_ok(rrm, "audit", "--user", "lea", "--as", "ana", "--json"))} == {"lea"}


def test_acting_without_a_user_is_refused(rrm: CliRunner) -> None:
    result = rrm.invoke(app, ["incident", "list"])
    assert result.exit_code == 1
    assert "to list incidents, say who you are: --user NAME or RRM_USER" in result.output


def test_bad_choices_name_the_field(rrm: CliRunner) -> None:
    result = rrm.invoke(app, ["incident", "open", "--title", "t", "--tlp", "purple", "--user", "ana"])
    assert result.exit_code == 2 and "field 'tlp'" in result.output
