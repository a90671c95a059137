"""RRM: a Rapid Response Mechanism against foreign information manipulation and interference (FIMI).

The library is the product; the ``rrm`` command and the web application are thin layers over it.
What may be imported from ``rrm`` directly is listed in ``__all__``; everything else is reached
through its package (``rrm.corpus``, ``rrm.detect``, ``rrm.frameworks``, ``rrm.cases``,
``rrm.share``, ``rrm.transparency``). Names are imported on first use, so ``import rrm`` is cheap.

    from rrm import CorpusStore, Workspace, ingest, detect, FindingsStore
    store = CorpusStore(Workspace.resolve("rrm-workspace"))
    ingest(store, ["tweets.csv"])
    FindingsStore(store.workspace).save(detect(store))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rrm._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from rrm.corpus import (
        Account,
        BatchRecord,
        CorpusStats,
        CorpusStore,
        IngestReport,
        Post,
        canonicalise,
        corpus_stats,
        export_posts,
        ingest,
        registrable_domain,
    )
    from rrm.detect import DetectionParams, DetectionResult, FindingsStore, detect
    from rrm.errors import (
        ArchiveLimitError,
        ConflictError,
        FormatMismatchError,
        InputError,
        MappingError,
        NotFoundError,
        RRMError,
        UnknownFormatError,
        WorkspaceError,
    )
    from rrm.frameworks.disarm import load_disarm
    from rrm.frameworks.tlp import TLP
    from rrm.workspace import Workspace

__version__ = "0.1.0"

_EXPORTS = {
    "Account": "rrm.corpus",
    "BatchRecord": "rrm.corpus",
    "CorpusStats": "rrm.corpus",
    "CorpusStore": "rrm.corpus",
    "IngestReport": "rrm.corpus",
    "Post": "rrm.corpus",
    "canonicalise": "rrm.corpus",
    "corpus_stats": "rrm.corpus",
    "export_posts": "rrm.corpus",
    "ingest": "rrm.corpus",
    "registrable_domain": "rrm.corpus",
    "DetectionParams": "rrm.detect",
    "DetectionResult": "rrm.detect",
    "FindingsStore": "rrm.detect",
    "detect": "rrm.detect",
    "ArchiveLimitError": "rrm.errors",
    "ConflictError": "rrm.errors",
    "FormatMismatchError": "rrm.errors",
    "InputError": "rrm.errors",
    "MappingError": "rrm.errors",
    "NotFoundError": "rrm.errors",
    "RRMError": "rrm.errors",
    "UnknownFormatError": "rrm.errors",
    "WorkspaceError": "rrm.errors",
    "load_disarm": "rrm.frameworks.disarm",
    "TLP": "rrm.frameworks.tlp",
    "Workspace": "rrm.workspace",
}
"""Public name → the module that defines it."""

__all__ = [
    "TLP",
    "Account",
    "ArchiveLimitError",
    "BatchRecord",
    "ConflictError",
    "CorpusStats",
    "CorpusStore",
    "DetectionParams",
    "DetectionResult",
    "FindingsStore",
    "FormatMismatchError",
    "IngestReport",
    "InputError",
    "MappingError",
    "NotFoundError",
    "Post",
    "RRMError",
    "UnknownFormatError",
    "Workspace",
    "WorkspaceError",
    "__version__",
    "canonicalise",
    "corpus_stats",
    "detect",
    "export_posts",
    "ingest",
    "load_disarm",
    "registrable_domain",
]


__getattr__, __dir__ = _lazy_exports(globals(), _EXPORTS, __all__)
