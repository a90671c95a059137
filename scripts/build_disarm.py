#!/usr/bin/env python3
"""Build RRM's compact DISARM data from the DISARM Foundation's upstream files.

    python scripts/build_disarm.py [--source ../shared/data/disarm] [--output src/rrm/frameworks/data]

Reads ``upstream/DISARM_FRAMEWORKS_MASTER.xlsx`` (the canonical master: phases, tactics, techniques,
countermeasures, detections, metatechniques, response types, actor types) and
``upstream/DISARM_FRAMEWORKS_MASTER_0_1.xlsx`` (the 2022 v0.1 techniques), cross-checks the technique
ids against ``upstream/DISARM_STIX_bundle.json``, and writes

- ``disarm.json``: the compact data ``rrm.frameworks.disarm`` loads;
- ``LICENSE-DISARM.md``: CC BY-SA 4.0 with the attribution to the DISARM Foundation.

The blue framework's links to techniques are a free-text cell written against v0.1 (AMITT-era) technique
ids and names. Each link is resolved here, and the way it was resolved is kept with it:

- ``current``: the id exists in the current red framework and the name written matches its name;
- ``v0.1``: the id is read as a v0.1 id and mapped to current ids through the v0.1 table's
  "changes to v0.2" column ("no change", "merged into technique T0003", "split into ..."), the current
  table's "split from T0001" notes, an exact name match, or the small curated crosswalk below;
- ``unresolved``: none of these applies (for example the deleted platform techniques T0031-T0038);
  the link is kept, flagged, with no current technique.

Running the script twice on the same input writes the same bytes (a test checks the shipped file).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl

from rrm.frameworks.disarm import DISARM_BLUE_WARNING as BLUE_WARNING

FORMAT_VERSION = 1
UPSTREAM_REPOSITORY = "https://github.com/DISARMFoundation/DISARMframeworks"
UPSTREAM_COMMIT = "49df5f649e16dfbf11e3859913c256c875c02692"
UPSTREAM_COMMIT_DATE = "2025-02-10"
PAGES = f"{UPSTREAM_REPOSITORY}/blob/main/generated_pages"


# v0.1 techniques whose "changes to v0.2" note points at a v0.2 sub-technique number (ST0064...) that no
# longer exists, mapped by RRM to the current technique that plainly carries the same meaning. Reviewed
# by hand; anything less clear stays unresolved.
CURATED_V0_1 = {
    "T0008": ("T0098.001",),  # Create fake or imposter news sites -> Create Inauthentic News Sites
    "T0021": ("T0115.001",),  # Memes -> Share Memes
    "T0026": ("T0085.007",),  # Create pseudoscientific or disingenuous research -> Create Fake Research
    "T0051": ("T0116.001",),  # Fabricate social media comment -> Post Inauthentic Social Media Comment
    "T0052": ("T0049.007",),  # Tertiary sites amplify news -> Inauthentic Sites Amplify News and Narratives
    "T0053": ("T0049.001",),  # Twitter trolls amplify and manipulate -> Trolls Amplify and Manipulate
    "T0054": ("T0049.003",),  # Twitter bots amplify -> Bots Amplify via Automated Forwarding and Reposting
    "T0055": ("T0015.001",),  # Use hashtag -> Use Existing Hashtag
    "T0067": ("T0075.001",),  # Plan to discredit credible sources -> Discredit Credible Sources
}

_TECHNIQUE_ID = re.compile(r"^T\d{4}(\.\d{3})?$")
_LINK = re.compile(r"\b(T\d{4}(?:\.\d{3})?|TA\d{2})\s*-\s*")
_PREFIXED_ID = re.compile(r"\b([A-Z]{1,2}\d{2,5})\b")


class BuildError(Exception):
    """The upstream files are not what this script expects."""


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value)


def _rows(workbook: Any, sheet: str, source: Path) -> Iterator[dict[str, str]]:
    if sheet not in workbook.sheetnames:
        raise BuildError(f"{source}: no sheet {sheet!r}")
    rows = workbook[sheet].iter_rows(values_only=True)
    header = [_text(cell) for cell in next(rows)]
    if "disarm_id" not in header:
        raise BuildError(f"{source}, sheet {sheet!r}: no disarm_id column")
    for row in rows:
        record = {name: _text(cell) for name, cell in zip(header, row, strict=False) if name}
        if record.get("disarm_id"):
            yield record


def _load(path: Path) -> Any:
    if not path.is_file():
        raise BuildError(f"{path} is missing")
    return openpyxl.load_workbook(path, read_only=True, data_only=True)


def _norm(name: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", name.lower()))


def _ids(cell: str, prefix: str) -> list[str]:
    return [match for match in _PREFIXED_ID.findall(cell) if match.startswith(prefix)]


def _parse_links(cell: str) -> tuple[list[tuple[str, str]], list[str], bool]:
    """The free-text techniques cell: (technique id, name written) pairs, tactic ids, and 'All'."""
    matches = list(_LINK.finditer(cell))
    techniques: list[tuple[str, str]] = []
    tactics: list[str] = []
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(cell)
        name = cell[match.end() : end].strip()
        if match.group(1).startswith("TA"):
            tactics.append(match.group(1))
        else:
            techniques.append((match.group(1), name))
    return techniques, tactics, cell.strip().lower() == "all"


class _Resolver:
    def __init__(self, current: dict[str, dict[str, str]], legacy: dict[str, dict[str, str]]) -> None:
        self.current = current
        self.legacy = legacy
        self.by_name = {_norm(row["name"]): tid for tid, row in current.items()}
        self.split_from: dict[str, list[str]] = {}
        for tid, row in current.items():
            for old in re.findall(r"split from (T\d{4})", row.get("changes from v0.1", ""), re.I):
                self.split_from.setdefault(old.upper(), []).append(tid)

    def legacy_targets(self, old_id: str) -> tuple[list[str], str]:
        """Current ids for a v0.1 id, and how they were found ('' when not found)."""
        row = self.legacy[old_id]
        change = row.get("changes to v0.2", "").lower()
        named: list[str] = []
        for tid in re.findall(r"T\d{4}(?:\.\d{3})?", row.get("changes to v0.2", "")):
            if tid in self.current:
                named.append(tid)
            elif tid in self.legacy and tid != old_id:  # merged into another v0.1 technique: follow it
                named.extend(self.legacy_targets(tid)[0])
        if ("merged into technique" in change or "split into" in change) and named:
            return named, "v0.1 change note"
        if "split into" in change and old_id in self.split_from:
            return sorted(self.split_from[old_id]), "split-from note"
        if old_id in self.current and ("no change" in change or "moved to tactic" in change):
            return [old_id], "same id"
        if _norm(row["name"]) in self.by_name:
            return [self.by_name[_norm(row["name"])]], "name"
        if old_id in CURATED_V0_1:
            return list(CURATED_V0_1[old_id]), "curated crosswalk"
        return [], ""

    def link(self, written_id: str, written_name: str) -> dict[str, Any]:
        link: dict[str, Any] = {"written_id": written_id, "written_name": written_name}
        current = self.current.get(written_id)
        if current is not None and _norm(written_name) == _norm(current["name"]):
            return {**link, "technique_ids": [written_id], "basis": "current", "method": "id and name"}
        if written_id in self.legacy:
            targets, method = self.legacy_targets(written_id)
            if targets:
                return {**link, "technique_ids": targets, "basis": "v0.1", "method": method}
            return {**link, "technique_ids": [], "basis": "unresolved", "method": "no current technique"}
        if current is not None:
            return {**link, "technique_ids": [written_id], "basis": "current", "method": "id only"}
        return {**link, "technique_ids": [], "basis": "unresolved", "method": "unknown id"}


def build(source: Path) -> dict[str, Any]:
    """Everything RRM ships about DISARM, as one JSON-ready dictionary."""
    master_path = source / "upstream" / "DISARM_FRAMEWORKS_MASTER.xlsx"
    legacy_path = source / "upstream" / "DISARM_FRAMEWORKS_MASTER_0_1.xlsx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about the unknown extensions Numbers writes
        return _build(source, _load(master_path), master_path, _load(legacy_path), legacy_path)


def _build(source: Path, master: Any, master_path: Path, legacy_book: Any, legacy_path: Path) -> dict[str, Any]:

    phases = [
        {"id": r["disarm_id"], "name": r["name"], "description": r["summary"], "rank": int(float(r["rank"]))}
        for r in _rows(master, "phases", master_path)
    ]
    tactics = [
        {
            "id": r["disarm_id"],
            "name": r["name"],
            "description": r["summary"],
            "phase_id": r["phase_id"],
            "rank": int(float(r["rank"])),
        }
        for r in _rows(master, "tactics", master_path)
    ]
    tactic_ids = {t["id"] for t in tactics}
    current = {r["disarm_id"]: r for r in _rows(master, "techniques", master_path)}
    techniques = []
    for tid, r in current.items():
        if not _TECHNIQUE_ID.match(tid):
            raise BuildError(f"{master_path}, sheet 'techniques': bad id {tid!r}")
        if r["tactic_id"] not in tactic_ids:
            raise BuildError(f"{master_path}, sheet 'techniques', {tid}: unknown tactic {r['tactic_id']!r}")
        parent = tid.split(".")[0] if "." in tid else None
        if parent is not None and parent not in current:
            raise BuildError(f"{master_path}, sheet 'techniques', {tid}: parent {parent} is missing")
        techniques.append(
            {"id": tid, "name": r["name"], "description": r["summary"], "tactic_id": r["tactic_id"], "parent_id": parent}
        )
    _check_stix(source / "upstream" / "DISARM_STIX_bundle.json", set(current))

    legacy = {r["disarm_id"]: r for r in _rows(legacy_book, "techniques", legacy_path)}
    resolver = _Resolver(current, legacy)
    crosswalk = {}
    for old_id, row in sorted(legacy.items()):
        targets, method = resolver.legacy_targets(old_id)
        crosswalk[old_id] = {
            "name": row["name"],
            "change": row.get("changes to v0.2", ""),
            "technique_ids": targets,
            "method": method or "unresolved",
        }

    def blue(sheet: str, incidents_column: str) -> list[dict[str, Any]]:
        objects = []
        for r in _rows(master, sheet, master_path):
            links, tactic_scope, everything = _parse_links(r.get("techniques", ""))
            tactic = _ids(r.get("tactic", ""), "TA")
            objects.append(
                {
                    "id": r["disarm_id"],
                    "name": r["name"],
                    "description": r["summary"],
                    "metatechnique_ids": _ids(r.get("metatechnique", ""), "M"),
                    "responsetype_id": next(iter(_ids(r.get("responsetype", ""), "D")), None),
                    "tactic_id": tactic[0] if tactic else None,
                    "actortype_ids": _ids(r.get("actortypes", ""), "A"),
                    "incident_ids": _ids(r.get(incidents_column, ""), "I"),
                    "how_found": r.get("how_found", ""),
                    "tags": r.get("tags", "").split(),
                    "links": [resolver.link(tid, name) for tid, name in links],
                    "tactic_scope_ids": tactic_scope,
                    "applies_to_all": everything,
                }
            )
        return objects

    def simple(sheet: str) -> list[dict[str, str]]:
        return [
            {"id": r["disarm_id"], "name": r["name"], "description": r.get("summary", "")}
            for r in _rows(master, sheet, master_path)
        ]

    return {
        "format_version": FORMAT_VERSION,
        "source": {
            "repository": UPSTREAM_REPOSITORY,
            "commit": UPSTREAM_COMMIT,
            "commit_date": UPSTREAM_COMMIT_DATE,
            "files": [
                "DISARM_MASTER_DATA/DISARM_FRAMEWORKS_MASTER.xlsx",
                "DISARM_MASTER_DATA/2022-06-30_DISARM_0_1/DISARM_FRAMEWORKS_MASTER_0_1.xlsx",
            ],
            "licence": "CC BY-SA 4.0",
            "attribution": "DISARM Foundation",
            "pages": PAGES,
        },
        "blue_warning": BLUE_WARNING,
        "phases": phases,
        "tactics": tactics,
        "techniques": techniques,
        "countermeasures": blue("countermeasures", "incident_ids"),
        "detections": blue("detections", "incidents"),
        "metatechniques": simple("metatechniques"),
        "responsetypes": simple("responsetypes"),
        "actortypes": simple("actortypes"),
        "v0_1_crosswalk": crosswalk,
    }


def _check_stix(path: Path, technique_ids: set[str]) -> None:
    if not path.is_file():
        raise BuildError(f"{path} is missing")
    bundle = json.loads(path.read_text(encoding="utf-8"))
    stix_ids = {
        obj["external_references"][0]["external_id"]
        for obj in bundle.get("objects", [])
        if obj.get("type") == "attack-pattern"
    }
    if stix_ids != technique_ids:
        raise BuildError(
            f"{path}: the STIX bundle and the xlsx disagree on {sorted(stix_ids ^ technique_ids)[:10]}"
        )


LICENCE_HEADER = """\
# DISARM data: licence and attribution

`disarm.json` in this folder is derived from the DISARM frameworks by the **DISARM Foundation**
({repository}), commit `{commit}` ({commit_date}), files
`DISARM_MASTER_DATA/DISARM_FRAMEWORKS_MASTER.xlsx` and
`DISARM_MASTER_DATA/2022-06-30_DISARM_0_1/DISARM_FRAMEWORKS_MASTER_0_1.xlsx`.

RRM changed the form (a compact JSON written by `scripts/build_disarm.py`) and added the resolution of
the blue framework's v0.1 technique references to current technique ids (`links[].basis`, `method`,
`v0_1_crosswalk`). `disarm.json` is licensed under the Creative Commons Attribution-ShareAlike 4.0
International licence below, like its source. RRM's code keeps its own licence.

The DISARM Foundation's caution about the Blue framework (kept in `disarm.json` as `blue_warning` and
shown next to every countermeasure suggestion):

> {warning}

---

"""


def write(data: dict[str, Any], licence_text: str, output: Path) -> list[Path]:
    output.mkdir(parents=True, exist_ok=True)
    json_path = output / "disarm.json"
    json_path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    licence_path = output / "LICENSE-DISARM.md"
    header = LICENCE_HEADER.format(
        repository=UPSTREAM_REPOSITORY, commit=UPSTREAM_COMMIT, commit_date=UPSTREAM_COMMIT_DATE, warning=BLUE_WARNING
    )
    licence_path.write_text(header + licence_text.strip() + "\n", encoding="utf-8")
    return [json_path, licence_path]


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parents[1]
    shared = Path(os.environ.get("RRM_SHARED_DATA", root.parent / "shared" / "data"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--source", type=Path, default=shared / "disarm", help="the shared DISARM data folder")
    parser.add_argument("--output", type=Path, default=root / "src" / "rrm" / "frameworks" / "data")
    args = parser.parse_args(argv)
    try:
        data = build(args.source)
        licence = args.source / "LICENSE-DISARM-CC-BY-SA-4.0.md"
        if not licence.is_file():
            raise BuildError(f"{licence} is missing")
        written = write(data, licence.read_text(encoding="utf-8"), args.output)
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    links = [link for c in data["countermeasures"] for link in c["links"]]
    counts = {basis: sum(1 for link in links if link["basis"] == basis) for basis in ("current", "v0.1", "unresolved")}
    print(
        f"{len(data['techniques'])} techniques, {len(data['countermeasures'])} countermeasures, "
        f"{len(links)} counter links ({', '.join(f'{k}: {v}' for k, v in counts.items())})"
    )
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
