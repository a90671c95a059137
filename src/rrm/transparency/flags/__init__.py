"""Flags for foreign and impermissible money: registered rules with their evidence."""

from rrm.transparency.flags.base import Election, Flag, FlagContext, FlagRule
from rrm.transparency.flags.registry import all_rules, get_rule, register_rule
from rrm.transparency.flags.run import DEFAULT_ELECTIONS, run_flags

__all__ = [
    "DEFAULT_ELECTIONS", "Election", "Flag", "FlagContext", "FlagRule", "all_rules", "get_rule", "register_rule",
    "run_flags",
]
