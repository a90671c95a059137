"""The entities of incidents that the ``incident-entity`` rule looks for in the money.

From the cases store (read through ``rrm.cases``, as a user allowed to read incidents), every
incident, open or closed, gives:

- its suspected actor;
- the accounts linked to it (``@baltic_news`` → ``baltic news``);
- the domains and the hosts of the URLs linked to it (``baltic-horizon.ee`` → ``baltic horizon``).

Posts and communities are not names and are left out. Names can also come from a file, one a line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from rrm.corpus.urls import registrable_domain
from rrm.workspace import Workspace

__all__ = ["IncidentEntities", "IncidentEntity", "from_cases", "from_names", "readable_name"]

_MIN_KEY = 3


@dataclass(frozen=True, slots=True)
class IncidentEntity:
    """A name to look for, and the incident that names it (``incident_id`` is None for names from a file)."""

    name: str
    kind: str
    """``suspected actor``, ``account``, ``domain``, ``url`` or ``named in a file``."""
    incident_id: int | None = None
    title: str | None = None
    status: str | None = None

    @property
    def label(self) -> str:
        if self.incident_id is None:
            return "entity named in a file, no incident"
        return f"incident {self.incident_id}: {self.title} ({self.status})"


@dataclass(frozen=True, slots=True)
class IncidentEntities:
    entities: tuple[IncidentEntity, ...]
    note: str
    """What was read, or why the cases store was not read."""


def readable_name(kind: str, ref: str) -> str:
    """The name hidden in an account handle, a domain or a URL (``baltic-horizon.ee`` → ``baltic horizon``)."""
    text = ref.strip()
    if kind in {"domain", "url"}:
        host = (urlsplit(text).hostname if kind == "url" else text.lower().split("/")[0]) or ""
        text = (registrable_domain(host) or host).split(".")[0]
    elif kind == "account":
        text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text.lstrip("@"))
    return " ".join(re.sub(r"[-_.]+", " ", text).split())


def from_names(names: Iterable[str]) -> tuple[IncidentEntity, ...]:
    return tuple(IncidentEntity(n.strip(), "named in a file") for n in names if len(n.strip()) >= _MIN_KEY)


def from_cases(workspace: Workspace, user: str | None) -> IncidentEntities:
    """Entities of every incident of the workspace's cases store, read as ``user``."""
    from rrm.cases import CasesDB, get_incident, list_incidents

    url = workspace.cases_database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return IncidentEntities((), "no cases database in this workspace")
    if not user:
        return IncidentEntities((), "the cases database was not read: say who you are (--user NAME or RRM_USER)")
    found: list[IncidentEntity] = []
    with CasesDB(url) as db:
        summaries = list_incidents(db, user)
        for summary in summaries:
            incident = get_incident(db, user, summary.id)
            status = str(incident.status)
            if incident.suspected_actor:
                found.append(IncidentEntity(incident.suspected_actor, "suspected actor", incident.id, incident.title,
                                            status))
            for link in incident.links:
                kind = str(link.kind)
                if kind in {"account", "domain", "url"}:
                    name = readable_name(kind, link.ref)
                    if len(name.replace(" ", "")) >= _MIN_KEY:
                        found.append(IncidentEntity(name, kind, incident.id, incident.title, status))
    return IncidentEntities(tuple(found), f"{len(found)} entities of {len(summaries)} incidents in the cases database")
