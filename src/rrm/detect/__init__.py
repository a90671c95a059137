"""Detection of coordinated behaviour: detectors, significance, fusion, communities and findings.

    from rrm.detect import DetectionParams, FindingsStore, detect
    result = detect(CorpusStore(workspace), DetectionParams(window_seconds=60))
    FindingsStore(workspace).save(result)
"""

from rrm.detect.detectors import Detector, detector_names, get_detector, register_detector
from rrm.detect.explain import EdgeExplanation, explain_edge
from rrm.detect.findings import FindingsStore
from rrm.detect.model import EDGE_SCHEMA, EVIDENCE_SCHEMA, Community, DetectionRun, EvidencePost, NullModelReport
from rrm.detect.params import DetectionParams
from rrm.detect.pipeline import DetectionResult, detect

__all__ = [
    "EDGE_SCHEMA",
    "EVIDENCE_SCHEMA",
    "Community",
    "DetectionParams",
    "DetectionResult",
    "DetectionRun",
    "Detector",
    "EdgeExplanation",
    "EvidencePost",
    "FindingsStore",
    "NullModelReport",
    "detect",
    "detector_names",
    "explain_edge",
    "get_detector",
    "register_detector",
]
