"""Detection of coordinated behaviour: detectors, significance, fusion, communities and findings.

    from rrm.detect import DetectionParams, FindingsStore, detect
    result = detect(CorpusStore(workspace), DetectionParams(window_seconds=60))
    FindingsStore(workspace).save(result)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rrm._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from rrm.detect.detectors import (
        Detector,
        detector_names,
        get_detector,
        register_detector,
    )
    from rrm.detect.explain import (
        EdgeExplanation,
        explain_edge,
    )
    from rrm.detect.findings import (
        FindingsStore,
    )
    from rrm.detect.model import (
        EDGE_SCHEMA,
        EVIDENCE_SCHEMA,
        Community,
        DetectionRun,
        EvidencePost,
        NullModelReport,
    )
    from rrm.detect.params import (
        DetectionParams,
    )
    from rrm.detect.pipeline import (
        DetectionResult,
        detect,
    )

_EXPORTS = {
    "EDGE_SCHEMA": "rrm.detect.model",
    "EVIDENCE_SCHEMA": "rrm.detect.model",
    "Community": "rrm.detect.model",
    "DetectionParams": "rrm.detect.params",
    "DetectionResult": "rrm.detect.pipeline",
    "DetectionRun": "rrm.detect.model",
    "Detector": "rrm.detect.detectors",
    "EdgeExplanation": "rrm.detect.explain",
    "EvidencePost": "rrm.detect.model",
    "FindingsStore": "rrm.detect.findings",
    "NullModelReport": "rrm.detect.model",
    "detect": "rrm.detect.pipeline",
    "detector_names": "rrm.detect.detectors",
    "explain_edge": "rrm.detect.explain",
    "get_detector": "rrm.detect.detectors",
    "register_detector": "rrm.detect.detectors",
}
"""Public name → the module that defines it; imported on first use, so ``import rrm`` stays cheap."""

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



__getattr__, __dir__ = _lazy_exports(globals(), _EXPORTS, __all__)
