"""Detectors: each turns the corpus into co-action edges between accounts (see ``registry``)."""

from rrm.detect.detectors.base import ActionDetector, Detector, Observation
from rrm.detect.detectors.registry import detector_names, get_detector, register_detector

__all__ = ["ActionDetector", "Detector", "Observation", "detector_names", "get_detector", "register_detector"]
