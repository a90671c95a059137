"""The parameters of one detection run, with documented defaults (see ``docs/detection.md``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

__all__ = ["DetectionParams", "NullModel"]

NullModel = Literal["permute-elsewhere", "permute-accounts", "circular-shift"]


@dataclass(frozen=True)
class DetectionParams:
    """How detection runs. Every value here is stored with the findings, so a run can be repeated.

    ``window_overrides`` and ``min_co_actions_overrides`` map a detector name to its own window or
    minimum (``sync-activity`` uses a shorter window and a higher minimum by default).
    """

    window_seconds: int = 300
    """The sliding window Δt: two actions on the same object count together when at most this far apart."""
    min_co_actions: int = 2
    """An edge needs at least this many distinct objects acted on together within Δt."""
    fdr_q: float = 0.05
    """False discovery rate, estimated from the shuffled corpora (see ``rrm.detect.significance``)."""
    null_shuffles: int = 20
    """How many shuffled corpora (the null model) every edge is tested against."""
    seed: int = 42
    """Seeds the shuffles, the near-duplicate hashing and Leiden: same seed, same findings."""
    null_model: NullModel = "permute-elsewhere"
    """``permute-elsewhere`` shuffles who made which post within blocks of ``null_block_seconds``, never
    giving a post to an account that acted on one of its objects (keeps every object's timeline and
    every account's activity timeline, and cannot recreate a campaign that dominates a block);
    ``permute-accounts`` is the same without that constraint; ``circular-shift`` shifts each account's
    timeline by a random offset."""
    null_block_seconds: int = 21600
    """The permutations shuffle accounts among the posts of the same block of this many seconds."""
    near_duplicate_threshold: float | None = 0.7
    """Estimated Jaccard similarity of character 5-grams above which two texts are the same object
    for ``co-text``; ``None`` keeps exact matches of the normalised text only (as the toolkit does)."""
    near_duplicate_min_chars: int = 30
    """Texts shorter than this (after normalisation) only match exactly."""
    max_accounts_per_object: int | None = 1000
    """Objects acted on by more accounts are sampled down to this many accounts (chosen by a hash of
    account and object); ``None`` keeps every account."""
    link_level: Literal["url", "domain"] = "url"
    """``co-link`` matches the same canonical URL, or the same registrable domain."""
    resolution: float = 1.0
    """Leiden resolution (RB configuration model): higher gives more, smaller communities."""
    min_community_size: int = 3
    """Smaller groups of connected accounts are not reported as communities."""
    new_account_days: int = 90
    """An account created less than this many days before its first post in the corpus counts as new."""
    stability_subsamples: int = 0
    """Stability selection: rerun detection on this many subsamples of the posts and keep the accounts
    and edges selected in at least ``stability_threshold`` of them; 0 turns it off."""
    stability_fraction: float = 0.9
    """Share of the posts in each stability subsample (each post drawn independently, by a hash)."""
    stability_threshold: float = 0.6
    """Share of the subsamples in which an account or edge must be flagged to be selected."""
    window_overrides: dict[str, int] = field(default_factory=lambda: {"sync-activity": 10})
    min_co_actions_overrides: dict[str, int] = field(default_factory=lambda: {"sync-activity": 10})

    def __post_init__(self) -> None:
        from rrm.errors import InputError

        if self.window_seconds < 1:
            raise InputError("the window must be at least 1 second", field="window_seconds")
        if self.min_co_actions < 1:
            raise InputError("the minimum number of co-actions must be at least 1", field="min_co_actions")
        if not 0.0 < self.fdr_q < 1.0:
            raise InputError("the false discovery rate must be between 0 and 1", field="fdr_q")
        if self.null_shuffles < 1:
            raise InputError("at least one null shuffle is needed", field="null_shuffles")
        if self.near_duplicate_threshold is not None and not 0.0 < self.near_duplicate_threshold <= 1.0:
            raise InputError("the near-duplicate threshold must be in (0, 1]", field="near_duplicate_threshold")
        if self.null_block_seconds < 1:
            raise InputError("the null model's time block must be at least 1 second", field="null_block_seconds")
        if self.max_accounts_per_object is not None and self.max_accounts_per_object < 2:
            raise InputError("at least 2 accounts per object are needed", field="max_accounts_per_object")
        if self.stability_subsamples < 0:
            raise InputError("the number of stability subsamples cannot be negative", field="stability_subsamples")
        if not 0.0 < self.stability_fraction < 1.0:
            raise InputError("the stability subsample fraction must be between 0 and 1", field="stability_fraction")
        if not 0.0 < self.stability_threshold <= 1.0:
            raise InputError("the stability threshold must be in (0, 1]", field="stability_threshold")
        if any(v < 1 for v in self.window_overrides.values()):
            raise InputError("the window must be at least 1 second", field="window_overrides")
        if any(v < 1 for v in self.min_co_actions_overrides.values()):
            raise InputError("the minimum must be at least 1", field="min_co_actions_overrides")

    def window_for(self, detector: str) -> int:
        return self.window_overrides.get(detector, self.window_seconds)

    def min_co_actions_for(self, detector: str) -> int:
        return self.min_co_actions_overrides.get(detector, self.min_co_actions)

    def with_changes(self, **changes: Any) -> DetectionParams:
        return replace(self, **changes)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DetectionParams:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in values.items() if k in known})
