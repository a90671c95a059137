"""Generated scenarios with planted campaigns, and ``rrm demo``: the whole pipeline on one of them."""

from rrm.demo.campaigns import CAMPAIGN_KINDS, Campaign
from rrm.demo.scenario import (
    Scenario,
    ScenarioConfig,
    ScenarioFiles,
    generate_scenario,
    load_labels,
    write_posts,
)

__all__ = [
    "CAMPAIGN_KINDS",
    "Campaign",
    "Scenario",
    "ScenarioConfig",
    "ScenarioFiles",
    "generate_scenario",
    "load_labels",
    "write_posts",
]
