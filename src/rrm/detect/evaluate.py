"""Score a run's findings against labelled accounts: precision, recall, F1 and the adjusted Rand index.

The rule (also in ``docs/findings-outputs.md``):

- An account is **flagged** when it belongs to a community whose score is at least ``min_score``.
- An account is **positive** when its label names a campaign. Labels that are empty or say
  ``organic``/``none``/``benign``/``authentic`` (as campaign id or kind) are negative, like every
  account the labels file does not list.
- Overall precision = flagged positives / flagged; recall = flagged positives / positives.
- Per label: each flagged community is assigned the most common label among its accounts (negatives
  included, ties broken by name); the accounts of the communities assigned to label L are the
  predictions for L. precision_L = predicted with label L / predicted for L; recall_L = predicted with
  label L / accounts labelled L.
- Adjusted Rand index (Hubert & Arabie 1985) of the flagged communities against the labels, over the
  universe of accounts (the corpus's accounts when known, else every labelled or flagged account);
  every unflagged account is in one "none" cluster, and so is every negative account.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rrm.corpus.formats.base import Rejection
from rrm.detect.exports import RunFindings
from rrm.errors import InputError, NotFoundError
from rrm.workspace import Workspace

__all__ = [
    "NEGATIVE_LABELS",
    "Evaluation",
    "LabelScore",
    "Labels",
    "adjusted_rand_index",
    "evaluate",
    "evaluate_workspace",
    "load_labels",
]

NEGATIVE_LABELS = frozenset({"", "organic", "none", "benign", "authentic"})
_NONE = "\x00none"


@dataclass(frozen=True)
class Labels:
    """Account (``platform:account_id``) → label, and the rows of the file that could not be used."""

    labels: dict[str, str]
    rejected: tuple[Rejection, ...] = ()


@dataclass(frozen=True)
class LabelScore:
    label: str
    accounts: int  # accounts with this label
    predicted: int  # accounts in communities assigned to this label
    correct: int
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class Evaluation:
    run_id: str
    min_score: float
    accounts: int  # the universe
    positives: int
    flagged: int
    true_positives: int
    precision: float
    recall: float
    f1: float
    adjusted_rand_index: float
    per_label: tuple[LabelScore, ...]


def is_negative(label: str) -> bool:
    return all(part.strip().lower() in NEGATIVE_LABELS for part in label.split(":"))


def load_labels(path: Path) -> Labels:
    """Read a labels CSV: ``platform, account_id, campaign_id, campaign_kind`` (the scenario generator's)
    or any CSV with ``account`` and ``label`` columns. Bad rows are rejected with their line."""
    if not path.is_file():
        raise NotFoundError(f"no labels file {path}")
    source = str(path)
    labels: dict[str, str] = {}
    rejected: list[Rejection] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in (reader.fieldnames or [])]
            reader.fieldnames = header
            if {"platform", "account_id", "campaign_id"} <= set(header):
                shape = "scenario"
            elif {"account", "label"} <= set(header):
                shape = "plain"
            else:
                raise InputError(
                    "a labels file needs the columns platform, account_id, campaign_id[, campaign_kind] "
                    "or account, label",
                    source=source,
                    line=1,
                )
            for row in reader:
                line = reader.line_num
                if None in row:
                    rejected.append(Rejection(source, line, None, "more cells than the header has"))
                    continue
                cells = {k: (v or "").strip() for k, v in row.items()}
                if shape == "scenario":
                    if not cells["platform"] or not cells["account_id"]:
                        field = "platform" if not cells["platform"] else "account_id"
                        rejected.append(Rejection(source, line, field, "empty"))
                        continue
                    account = f"{cells['platform']}:{cells['account_id']}"
                    kind = cells.get("campaign_kind", "")
                    label = f"{cells['campaign_id']}:{kind}" if kind else cells["campaign_id"]
                else:
                    account, label = cells["account"], cells["label"]
                    if not account:
                        rejected.append(Rejection(source, line, "account", "empty"))
                        continue
                if account in labels and labels[account] != label:
                    rejected.append(Rejection(source, line, None, f"account {account!r} has two labels"))
                    continue
                labels[account] = label
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", source=source) from exc
    except csv.Error as exc:
        raise InputError(f"unreadable CSV: {exc}", source=source) from exc
    return Labels(labels, tuple(rejected))


def adjusted_rand_index(truth: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    """The adjusted Rand index of two clusterings of the same items (1 = identical, ~0 = chance)."""
    if len(truth) != len(predicted):
        raise ValueError("the two clusterings must cover the same items")
    n = len(truth)
    if n < 2:
        return 1.0
    _, t = np.unique(np.asarray([str(x) for x in truth]), return_inverse=True)
    _, p = np.unique(np.asarray([str(x) for x in predicted]), return_inverse=True)
    table = np.zeros((int(t.max()) + 1, int(p.max()) + 1), dtype=np.int64)
    np.add.at(table, (t, p), 1)

    def pairs(x: np.ndarray) -> float:
        return float((x * (x - 1) // 2).sum())

    index = pairs(table)
    rows, cols = pairs(table.sum(axis=1)), pairs(table.sum(axis=0))
    expected = rows * cols / (n * (n - 1) / 2)
    maximum = (rows + cols) / 2
    if maximum == expected:  # both clusterings are one cluster, or both all singletons
        return 1.0
    return (index - expected) / (maximum - expected)


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def evaluate(
    findings: RunFindings,
    labels: dict[str, str],
    min_score: float = 0.0,
    universe: Iterable[str] | None = None,
) -> Evaluation:
    """Score the run's communities against ``labels`` (see the module docstring for the rule)."""
    run = findings.run
    scores = {c.community_id: c.score for c in run.communities}
    flagged = {
        account: community
        for account, community in findings.memberships.items()
        if scores.get(community, float("-inf")) >= min_score
    }
    positive = {account: label for account, label in labels.items() if not is_negative(label)}
    accounts = set(universe) if universe is not None else set()
    accounts |= set(labels) | set(flagged)

    true_positives = sum(1 for account in flagged if account in positive)
    precision = _ratio(true_positives, len(flagged))
    recall = _ratio(true_positives, len(positive))

    members: dict[str, list[str]] = {}
    for account, community in flagged.items():
        members.setdefault(community, []).append(account)
    assigned: dict[str, list[str]] = {}
    for _community, accts in sorted(members.items()):
        votes = Counter(positive.get(a, _NONE) for a in accts)
        label = min(votes, key=lambda name: (-votes[name], name))
        assigned.setdefault(label, []).extend(accts)
    per_label = []
    for label, size in sorted(Counter(positive.values()).items()):
        predicted = assigned.get(label, [])
        correct = sum(1 for a in predicted if positive.get(a) == label)
        p, r = _ratio(correct, len(predicted)), _ratio(correct, size)
        per_label.append(LabelScore(label, size, len(predicted), correct, p, r, _f1(p, r)))

    ordered = sorted(accounts)
    ari = adjusted_rand_index(
        [positive.get(a, _NONE) for a in ordered], [flagged.get(a, _NONE) for a in ordered]
    )
    return Evaluation(
        run_id=run.run_id,
        min_score=min_score,
        accounts=len(ordered),
        positives=len(positive),
        flagged=len(flagged),
        true_positives=true_positives,
        precision=precision,
        recall=recall,
        f1=_f1(precision, recall),
        adjusted_rand_index=ari,
        per_label=tuple(per_label),
    )


def corpus_accounts(workspace: Workspace) -> list[str]:
    """Every account with a post in the workspace's corpus, as ``platform:account_id``."""
    from rrm.corpus.store import CorpusStore

    db = CorpusStore(workspace).connect()
    try:
        rows = db.execute("SELECT DISTINCT platform || ':' || account_id FROM posts").fetchall()
    finally:
        db.close()
    return [row[0] for row in rows]


def evaluate_workspace(
    workspace: Workspace, labels_path: Path, run_id: str | None = None, min_score: float = 0.0
) -> tuple[Evaluation, Labels]:
    """Evaluate a stored run (the latest when ``run_id`` is None) against a labels file, over the corpus."""
    from rrm.detect.findings import FindingsStore

    labels = load_labels(labels_path)
    findings = FindingsStore(workspace).load(run_id)
    return evaluate(findings, labels.labels, min_score, corpus_accounts(workspace)), labels
