"""Running the rules over a store."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from rrm.transparency.flags.base import Election, Flag, FlagContext
from rrm.transparency.flags.registry import all_rules, get_rule
from rrm.transparency.incidents import IncidentEntity, from_cases, from_names
from rrm.transparency.store import VIEWS, MoneyStore

__all__ = ["DEFAULT_ELECTIONS", "run_flags"]

DEFAULT_ELECTIONS = (
    Election("EU", date(2019, 5, 26), "European Parliament 2019"),
    Election("EU", date(2024, 6, 9), "European Parliament 2024"),
    Election("US", date(2016, 11, 8), "US general 2016"),
    Election("US", date(2018, 11, 6), "US midterm 2018"),
    Election("US", date(2020, 11, 3), "US general 2020"),
    Election("GB", date(2017, 6, 8), "UK general 2017"),
    Election("GB", date(2019, 12, 12), "UK general 2019"),
    Election("GB", date(2024, 7, 4), "UK general 2024"),
    Election("UA", date(2019, 3, 31), "Ukraine presidential 2019, first round"),
    Election("UA", date(2019, 4, 21), "Ukraine presidential 2019, second round"),
    Election("UA", date(2019, 7, 21), "Ukraine parliamentary 2019"),
    Election("CA", date(2019, 10, 21), "Canada federal 2019"),
    Election("IN", date(2019, 5, 19), "India general 2019, last phase"),
    Election("TH", date(2023, 5, 14), "Thailand general 2023"),
    Election("BE", date(2024, 6, 9), "Belgium federal 2024"),
)


def run_flags(store: MoneyStore, rules: Iterable[str] | None = None, *, elections: Iterable[Election] = DEFAULT_ELECTIONS,
              incident_entities: Iterable[str | IncidentEntity] = (), cases_user: str | None = None) -> list[Flag]:
    """Every flag raised by the named rules (all registered rules by default).

    ``incident_entities`` are names (or ``IncidentEntity`` values) to look for; with ``cases_user``, the
    entities of every incident of the workspace's cases store are added, read as that user. Within a
    rule, flags of priority 0 (probably benign) come last.
    """
    chosen = [get_rule(name) for name in rules] if rules else list(all_rules().values())
    entities = [e for e in incident_entities if isinstance(e, IncidentEntity)]
    entities += from_names(e for e in incident_entities if isinstance(e, str))
    if cases_user is not None:
        entities += from_cases(store.workspace, cases_user).entities
    flags: list[Flag] = []
    with store.connect(read_only=True) as db:
        db.execute(VIEWS)
        context = FlagContext(db, tuple(elections), tuple(entities))
        for rule in chosen:
            flags.extend(sorted(rule.run(context), key=lambda flag: -flag.priority))
    return flags
