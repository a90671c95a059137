"""RRM: a Rapid Response Mechanism against foreign information manipulation and interference (FIMI).

The library is the product; the ``rrm`` command and the web application are thin layers over it.
What may be imported from ``rrm`` directly is listed in ``__all__``; everything else is internal
or reached through its package (``rrm.corpus``, ``rrm.detect``, ``rrm.frameworks``, ``rrm.cases``,
``rrm.transparency``).
"""

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
from rrm.workspace import Workspace

__version__ = "0.1.0"

__all__ = [
    "Account",
    "ArchiveLimitError",
    "BatchRecord",
    "ConflictError",
    "CorpusStats",
    "CorpusStore",
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
    "export_posts",
    "ingest",
    "registrable_domain",
]
