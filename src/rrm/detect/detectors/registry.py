"""The registry of detectors.

Built-in detectors are the modules of this package; each registers itself when imported, and every
module here is imported on first use, so adding a detector is adding one module. Other packages add
detectors through the ``rrm.detectors`` entry-point group, each entry point naming a ``Detector``
class or instance.
"""

from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import entry_points

from rrm.detect.detectors.base import Detector
from rrm.errors import NotFoundError

__all__ = ["detector_names", "get_detector", "register_detector"]

_DETECTORS: dict[str, Detector] = {}
_loaded = False
_INFRASTRUCTURE = {"base", "registry"}


def register_detector(detector: Detector) -> Detector:
    """Make ``detector`` available under its name (a later registration of the same name replaces it)."""
    _DETECTORS[detector.name] = detector
    return detector


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    package = importlib.import_module("rrm.detect.detectors")
    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in _INFRASTRUCTURE:
            importlib.import_module(f"rrm.detect.detectors.{module.name}")
    for entry in entry_points(group="rrm.detectors"):
        made = entry.load()
        register_detector(made() if isinstance(made, type) else made)


def detector_names() -> list[str]:
    """The names of every registered detector, sorted."""
    _load()
    return sorted(_DETECTORS)


def get_detector(name: str) -> Detector:
    _load()
    if name not in _DETECTORS:
        raise NotFoundError(f"unknown detector {name!r}; known detectors: {', '.join(sorted(_DETECTORS))}")
    return _DETECTORS[name]
