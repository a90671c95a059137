"""Reading the data files shipped in ``rrm/frameworks/data``."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["load_json", "vocabulary"]


def load_json(name: str) -> Any:
    """A JSON file of ``rrm/frameworks/data``, parsed."""
    return json.loads(resources.files("rrm.frameworks").joinpath("data").joinpath(name).read_text(encoding="utf-8"))


@cache
def _vocabularies() -> dict[str, Any]:
    data: dict[str, Any] = load_json("vocabularies.json")
    return data


def vocabulary(block: str) -> Any:
    """One block of ``vocabularies.json`` (``tlp_2_0``, ``admiralty_code``, ``breakout_scale``...)."""
    return _vocabularies()[block]
