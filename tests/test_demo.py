"""``rrm demo`` on a fresh workspace, twice, and the registry of demo stages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rrm.cli.app import app
from rrm.corpus import CorpusStore
from rrm.demo import pipeline
from rrm.demo.pipeline import DemoContext, Stage, StageResult, register_stage, stages
from rrm.errors import ConflictError
from rrm.workspace import Workspace

runner = CliRunner()


def test_demo_small_twice_on_a_fresh_workspace(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    first = runner.invoke(app, ["demo", "--size", "small", "--workspace", str(root)])
    assert first.exit_code == 0, first.output
    assert "Scenario and ingest" in first.output
    assert "0 rejected" in first.output
    store = CorpusStore(Workspace.resolve(root))
    (batch,) = store.batches()
    assert batch.stored > 1000 and batch.rejected == 0
    files = sorted(p.name for p in (root / "demo").iterdir())
    scenario_files = [name for name in files if name.startswith("scenario-seed7-")]
    assert len(scenario_files) == 2 and scenario_files[0].endswith("-labels.csv")

    second = runner.invoke(app, ["demo", "--size", "small", "--workspace", str(root), "--json"])
    assert second.exit_code == 0, second.output
    results = json.loads(second.output)
    assert results[0]["stage"] == "ingest"
    assert any("not ingested again" in line for line in results[0]["lines"])
    assert [b.batch_id for b in store.batches()] == [batch.batch_id]
    with store.connect() as db:
        assert db.execute("SELECT count(*), count(DISTINCT post_id) FROM posts").fetchone() == (batch.stored,) * 2
    assert sorted(p.name for p in (root / "demo").iterdir()) == files


def test_demo_refuses_an_unknown_size(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--size", "huge", "--workspace", str(tmp_path / "ws")])
    assert result.exit_code == 2
    assert not (tmp_path / "ws" / "demo").exists()


def test_demo_refuses_an_unknown_campaign_kind(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--campaigns", "reply-swarm, astroturf", "-w", str(tmp_path / "ws")])
    assert result.exit_code == 2
    assert " ".join(result.output.split()).startswith(
        "Error: scenario, field 'campaign_kinds': unknown campaign kind 'astroturf' (known: retweet-ring, copy-paste,"
    )
    assert not (tmp_path / "ws" / "demo").exists()


def test_stages_run_in_order_with_the_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[DemoContext] = []

    def probe(context: DemoContext) -> StageResult:
        seen.append(context)
        with context.store.connect() as db:
            (posts,) = db.execute("SELECT count(*) FROM posts").fetchone() or (0,)
        return StageResult("Probe", (f"{posts} posts, {len(context.scenario.labels)} planted accounts",),
                           (context.files.labels,))

    ingest_stage = next(s for s in stages() if s.name == "ingest")
    # only the ingest stage and the probe: the other stages have tests of their own
    monkeypatch.setattr(pipeline, "_STAGES", {"ingest": ingest_stage, "probe": Stage("probe", 999, probe)})
    result = runner.invoke(app, ["demo", "--workspace", str(tmp_path / "ws"), "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert result.output.index("Scenario and ingest") < result.output.index("Probe")
    (context,) = seen
    assert context.config.seed == 3
    assert f"{context.store.batches()[0].stored} posts, 60 planted accounts" in result.output


def test_a_stage_name_cannot_be_taken_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    stages()
    monkeypatch.setattr(pipeline, "_STAGES", dict(pipeline._STAGES))

    def other(context: DemoContext) -> StageResult:
        return StageResult("Other")

    with pytest.raises(ConflictError, match="'ingest' is already registered"):
        register_stage("ingest", 10, other)


def test_every_demo_option_is_documented() -> None:
    import typer.main

    docs = (Path(__file__).resolve().parents[1] / "docs" / "demo.md").read_text(encoding="utf-8")
    root = typer.main.get_command(app)
    command = root.get_command(root.context_class(root), "demo")  # type: ignore[attr-defined]
    options = [opt for param in command.params for opt in param.opts if opt.startswith("--")]
    assert "--size" in options and "--campaigns" in options
    assert [opt for opt in options if f"`{opt}" not in docs] == []
