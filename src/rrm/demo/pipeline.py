"""``rrm demo`` as a library: generate a scenario into the workspace, then run every registered stage.

A stage is a function from the ``DemoContext`` to a ``StageResult`` (a title, lines to print and the
paths of what it wrote). Stages live in modules ``rrm.demo.stage_*``, which register themselves when
imported, the way ``rrm.cli`` finds its ``*_commands`` modules::

    # src/rrm/demo/stage_detect.py
    from rrm.demo.pipeline import DemoContext, StageResult, register_stage

    def run(context: DemoContext) -> StageResult:
        ...
        return StageResult("Detection", ("12 communities",), (report_path,))

    register_stage("detect", 20, run)

Stages run in ``order`` (ingest is 10; leave gaps). A stage must be idempotent: running the demo
twice into the same workspace must not duplicate anything.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from rrm.corpus import CorpusStore
from rrm.demo.scenario import Scenario, ScenarioConfig, ScenarioFiles, generate_scenario
from rrm.errors import ConflictError
from rrm.workspace import Workspace

__all__ = [
    "DEMO_SIZES",
    "DemoContext",
    "DemoSize",
    "Stage",
    "StageResult",
    "demo_config",
    "demo_folder",
    "prepare_demo",
    "register_stage",
    "run_demo",
    "stages",
]

DemoSize = Literal["small", "medium", "large"]

DEMO_SIZES: dict[str, ScenarioConfig] = {
    "small": ScenarioConfig(organic_accounts=600, days=3, accounts_per_campaign=15),
    "medium": ScenarioConfig(),
    "large": ScenarioConfig(organic_accounts=20_000, days=14, posts_target=500_000),
}
"""The scenario of each ``--size``: small runs in seconds, medium is the default scenario, large has 500,000 posts."""


@dataclass(frozen=True)
class StageResult:
    """What a stage found, as lines for people, and where its outputs are."""

    title: str
    lines: tuple[str, ...] = ()
    outputs: tuple[Path, ...] = ()


@dataclass(frozen=True)
class DemoContext:
    """Everything a stage may use: the workspace and its corpus, and the scenario with its files and settings."""

    workspace: Workspace
    store: CorpusStore
    scenario: Scenario
    files: ScenarioFiles
    config: ScenarioConfig


@dataclass(frozen=True)
class Stage:
    name: str
    order: int
    run: Callable[[DemoContext], StageResult] = field(compare=False)


_STAGES: dict[str, Stage] = {}
_discovered: list[bool] = []


def register_stage(name: str, order: int, run: Callable[[DemoContext], StageResult]) -> None:
    """Add a stage to ``rrm demo``. Registering the same function again is harmless; another one under the same name is refused."""
    existing = _STAGES.get(name)
    if existing is not None and getattr(existing.run, "__qualname__", None) != getattr(run, "__qualname__", None):
        raise ConflictError(f"the demo stage {name!r} is already registered by {existing.run.__module__}")
    _STAGES[name] = Stage(name, order, run)


def stages() -> list[Stage]:
    """Every stage, in the order they run; the ``rrm.demo.stage_*`` modules are imported on first use."""
    if not _discovered:
        import rrm.demo

        for module in sorted(pkgutil.iter_modules(rrm.demo.__path__), key=lambda m: m.name):
            if module.name.startswith("stage_"):
                importlib.import_module(f"rrm.demo.{module.name}")
        _discovered.append(True)
    return sorted(_STAGES.values(), key=lambda s: (s.order, s.name))


def demo_config(size: DemoSize = "small", seed: int = 7, campaign_kinds: tuple[str, ...] | None = None) -> ScenarioConfig:
    """The scenario settings of ``rrm demo --size ... --seed ... --campaigns ...``."""
    config = replace(DEMO_SIZES[size], seed=seed)
    return config if campaign_kinds is None else replace(config, campaign_kinds=campaign_kinds)


def demo_folder(workspace: Workspace) -> Path:
    return workspace.root / "demo"


def prepare_demo(workspace: Workspace, config: ScenarioConfig) -> DemoContext:
    """Generate the scenario and write its files into ``<workspace>/demo/`` (the same settings give the same files)."""
    workspace = workspace.ensure()
    scenario = generate_scenario(config)
    files = scenario.write(demo_folder(workspace))
    return DemoContext(workspace, CorpusStore(workspace), scenario, files, config)


def run_demo(
    workspace: Workspace,
    config: ScenarioConfig,
    *,
    on_stage: Callable[[Stage], None] | None = None,
    on_result: Callable[[Stage, StageResult], None] | None = None,
) -> list[StageResult]:
    """Generate the scenario, then run every stage in order; ``on_stage`` and ``on_result`` follow the progress."""
    context = prepare_demo(workspace, config)
    results = []
    for stage in stages():
        if on_stage is not None:
            on_stage(stage)
        result = stage.run(context)
        results.append(result)
        if on_result is not None:
            on_result(stage, result)
    return results
