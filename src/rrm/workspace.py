"""The workspace: the one folder that holds all state of an installation."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rrm.errors import WorkspaceError

__all__ = ["DEFAULT_WORKSPACE", "Workspace"]

DEFAULT_WORKSPACE = Path("rrm-workspace")


@dataclass(frozen=True)
class Workspace:
    """Where the corpus, the cases database, exports and reports of one installation live."""

    root: Path

    @classmethod
    def resolve(cls, path: str | Path | None = None) -> Workspace:
        """The workspace named by ``path``, else by ``RRM_HOME``, else ``./rrm-workspace``."""
        chosen = Path(path) if path is not None else Path(os.environ.get("RRM_HOME") or DEFAULT_WORKSPACE)
        return cls(chosen.expanduser().absolute())

    def ensure(self) -> Workspace:
        if self.root.exists() and not self.root.is_dir():
            raise WorkspaceError(f"workspace {self.root} exists and is not a folder")
        try:
            for folder in (self.root, self.corpus_dir, self.exports_dir, self.reports_dir):
                folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkspaceError(f"cannot create workspace {self.root}: {exc.strerror}") from exc
        return self

    @property
    def corpus_dir(self) -> Path:
        return self.root / "corpus"

    @property
    def exports_dir(self) -> Path:
        return self.root / "exports"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def findings_dir(self) -> Path:
        return self.root / "findings"

    @property
    def cases_database_url(self) -> str:
        return os.environ.get("RRM_DATABASE_URL") or f"sqlite:///{self.root / 'cases.sqlite'}"
