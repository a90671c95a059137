"""Demo stage 20: detect coordinated behaviour in the demo corpus and score it against the planted campaigns.

Detection runs with the default parameters (every detector) and the run is stored with
``FindingsStore``. When the latest stored run was made on the same corpus version with the same
parameters, it is reused instead of run again, so running the demo twice adds nothing. The lines
printed give each community with its score, its main behaviours and the planted campaign most of its
accounts belong to, then precision and recall per campaign (``rrm.detect.evaluate``), and where the
findings are.
"""

from __future__ import annotations

from collections import Counter

from rrm.demo.pipeline import DemoContext, StageResult, register_stage
from rrm.detect import DetectionParams, FindingsStore, detect
from rrm.detect.evaluate import evaluate
from rrm.detect.pipeline import DetectionResult

__all__ = ["run"]

_TOP_BEHAVIOURS = 3


def _latest_matching(findings: FindingsStore, version: str, params: DetectionParams) -> DetectionResult | None:
    runs = findings.runs()
    if not runs:
        return None
    latest = runs[-1]
    if latest.corpus_version != version or DetectionParams.from_dict(dict(latest.parameters)) != params:
        return None
    return findings.load(latest.run_id)


def run(context: DemoContext) -> StageResult:
    params = DetectionParams()
    findings = FindingsStore(context.workspace)
    result = _latest_matching(findings, context.store.version(), params)
    lines: list[str] = []
    if result is None:
        result = detect(context.store, params)
        findings.save(result)
        lines.append(f"Detection run {result.run.run_id}: {result.run.edges:,} edges tested, "
                     f"{result.run.significant_edges:,} significant (about {result.run.expected_false_edges:.1f} expected "
                     f"without coordination), {len(result.run.communities)} communities.")
    else:
        lines.append(f"Detection run {result.run.run_id} already covers this corpus with these parameters: not run again.")
    labels = context.scenario.labels
    for community in result.run.communities:
        planted = Counter(labels.get(a, "organic") for a in community.accounts)
        label, count = planted.most_common(1)[0]
        top = sorted(community.behaviours.items(), key=lambda item: (-item[1], item[0]))[:_TOP_BEHAVIOURS]
        behaviours = ", ".join(f"{name} ({edges} edges)" for name, edges in top)
        lines.append(f"{community.community_id}: {len(community.accounts)} accounts, score {community.score:.1f}; "
                     f"{behaviours}; {count} of {len(community.accounts)} accounts from {label}.")
    evaluation = evaluate(result, labels)
    lines.append(f"Against the planted campaigns: precision {evaluation.precision:.2f}, recall {evaluation.recall:.2f} "
                 f"({evaluation.true_positives} of {evaluation.positives} planted accounts flagged, "
                 f"{evaluation.flagged - evaluation.true_positives} organic accounts flagged).")
    for score in evaluation.per_label:
        lines.append(f"  {score.label}: precision {score.precision:.2f}, recall {score.recall:.2f} "
                     f"({score.correct} of {score.accounts} accounts).")
    lines.append(f"Explain a community with 'rrm explain C001 -w {context.workspace.root}'.")
    folder = findings.root / result.run.run_id
    return StageResult("Detection", tuple(lines), (folder,))


register_stage("detect", 20, run)
