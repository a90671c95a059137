"""The registry of flag rules. Built-in rules are the modules of this package; each registers itself."""

from __future__ import annotations

import importlib
import pkgutil

from rrm.errors import NotFoundError
from rrm.transparency.flags.base import FlagRule

__all__ = ["all_rules", "get_rule", "register_rule"]

_RULES: dict[str, FlagRule] = {}
_loaded = False


def register_rule(rule: FlagRule) -> None:
    _RULES[rule.name] = rule


def all_rules() -> dict[str, FlagRule]:
    global _loaded
    if not _loaded:
        _loaded = True
        package = importlib.import_module("rrm.transparency.flags")
        for module in pkgutil.iter_modules(package.__path__):
            if module.name not in {"base", "registry", "run"}:
                importlib.import_module(f"rrm.transparency.flags.{module.name}")
    return dict(sorted(_RULES.items()))


def get_rule(name: str) -> FlagRule:
    rules = all_rules()
    if name not in rules:
        raise NotFoundError(f"no flag rule {name!r}; known: {', '.join(rules)}")
    return rules[name]
