"""Every error RRM raises on purpose.

The library raises these exceptions with their context as attributes; only the edges (the CLI and the
web API) turn them into messages, exit codes and the one JSON error shape.

    RRMError                    base class; ``.message`` is the text shown to people
    ├── WorkspaceError          the workspace folder cannot be used
    ├── NotFoundError           a named thing (batch, finding, incident...) does not exist
    ├── InputError              untrusted input is unusable; carries ``source``, ``line``, ``field``
    │   ├── UnknownFormatError      no registered format recognises the input
    │   ├── FormatMismatchError     the input is not in the format that was asked for
    │   ├── ArchiveLimitError       a compressed input expands beyond the allowed size or ratio
    │   └── MappingError            a column mapping names a field or column that does not exist
    ├── ConflictError           a change was based on a stale version of what it changes
    ├── SignatureError          a shared bundle is unsigned, signed by an unknown key, or altered
    ├── SharingDeniedError      an export would exceed what the partner may receive; ``tlp``, ``ceiling``, ``partner``
    ├── SyncError               a partner node could not be synced; ``node``, ``stage``, ``status``
    ├── PermissionDeniedError   the acting user's role does not allow the action; ``user``, ``role``, ``action``
    └── StateError              the thing is not in a state that allows the action
        └── InvalidTransitionError  a status change the workflow does not allow; ``current``, ``requested``
"""

from __future__ import annotations

__all__ = [
    "ArchiveLimitError",
    "ConflictError",
    "FormatMismatchError",
    "InputError",
    "InvalidTransitionError",
    "MappingError",
    "NotFoundError",
    "PermissionDeniedError",
    "RRMError",
    "SharingDeniedError",
    "SignatureError",
    "StateError",
    "SyncError",
    "UnknownFormatError",
    "WorkspaceError",
]


class RRMError(Exception):
    """Base of every error RRM raises on purpose."""

    code = "rrm_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WorkspaceError(RRMError):
    code = "workspace_error"


class NotFoundError(RRMError):
    code = "not_found"


class ConflictError(RRMError):
    code = "conflict"


class PermissionDeniedError(RRMError):
    """The acting user may not do this: their role is too low, or they act for another partner."""

    code = "permission_denied"

    def __init__(self, message: str, *, user: str, role: str | None, action: str) -> None:
        super().__init__(message)
        self.user = user
        self.role = role
        self.action = action


class StateError(RRMError):
    """The thing acted on is not in a state that allows the action (e.g. a database not migrated)."""

    code = "state_error"


class InvalidTransitionError(StateError):
    """A status change that the workflow does not allow."""

    code = "invalid_transition"

    def __init__(self, message: str, *, current: str, requested: str) -> None:
        super().__init__(message)
        self.current = current
        self.requested = requested


class InputError(RRMError):
    """Untrusted input could not be used. The place is named as precisely as it is known."""

    code = "input_error"

    def __init__(
        self, message: str, *, source: str | None = None, line: int | None = None, field: str | None = None
    ) -> None:
        self.source = source
        self.line = line
        self.field = field
        self.reason = message
        super().__init__(self._place() + message)

    def _place(self) -> str:
        parts = []
        if self.source is not None:
            parts.append(self.source)
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        return (", ".join(parts) + ": ") if parts else ""


class UnknownFormatError(InputError):
    code = "unknown_format"


class FormatMismatchError(InputError):
    code = "format_mismatch"


class ArchiveLimitError(InputError):
    code = "archive_limit"


class MappingError(InputError):
    code = "mapping_error"


class SignatureError(RRMError):
    code = "signature_error"


class SharingDeniedError(RRMError):
    """Sharing this would exceed what the partner's agreement allows (its TLP ceiling)."""

    code = "sharing_denied"

    def __init__(self, message: str, *, tlp: str, ceiling: str, partner: str | None) -> None:
        super().__init__(message)
        self.tlp = tlp
        self.ceiling = ceiling
        self.partner = partner


class SyncError(RRMError):
    """A partner TAXII node could not be reached or answered wrongly (``stage``: pull or push)."""

    code = "sync_error"

    def __init__(self, message: str, *, node: str, stage: str, status: int | None = None) -> None:
        super().__init__(message)
        self.node = node
        self.stage = stage
        self.status = status
