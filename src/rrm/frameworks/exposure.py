"""The EEAS FIMI exposure matrix and the other compiled vocabularies of the sharing layer.

The exposure matrix sorts the channels that spread FIMI by how they are tied to a state: official state
channels, state-controlled outlets, state-linked and state-aligned channels (3rd EEAS report on FIMI
threats, March 2025). The wording here is a summary from a secondary reading, **not official text**;
``SOURCE_NOTE`` says so and should be shown with it. The EU FIMI toolbox dimensions were written from
memory and are unverified (``EU_FIMI_TOOLBOX_NOTE``). The EUvsDisinfo case fields describe the records of
the EUvsDisinfo database.
"""

from __future__ import annotations

import enum
from typing import Any

from rrm.errors import InputError
from rrm.frameworks._data import vocabulary

__all__ = [
    "EU_FIMI_TOOLBOX_NOTE",
    "SOURCE_NOTE",
    "ExposureCategory",
    "eu_fimi_toolbox_dimensions",
    "euvsdisinfo_case_fields",
    "indicator_dimensions",
]

SOURCE_NOTE = (
    "Summarised from a secondary reading of the 3rd EEAS Report on FIMI Threats (March 2025), ch. 2; "
    "not the official wording."
)
EU_FIMI_TOOLBOX_NOTE = "Written from memory of EEAS public material; not verified against a primary text."


class ExposureCategory(enum.IntEnum):
    """How a channel is tied to a state, from the most overt (1) to the least attributable (4)."""

    OFFICIAL_STATE_CHANNEL = 1
    STATE_CONTROLLED_OUTLET = 2
    STATE_LINKED = 3
    STATE_ALIGNED = 4

    def _data(self) -> dict[str, Any]:
        for entry in vocabulary("eeas_fimi_exposure_matrix")["categories"]:
            if entry["code"] == self.value:
                return entry  # type: ignore[no-any-return]
        raise LookupError(self.value)  # pragma: no cover - the shipped data has all four

    @property
    def label(self) -> str:
        return str(self._data()["label"])

    @property
    def attribution(self) -> str:
        """overt, self-attributed / overt / covert but attributed / non-attributed."""
        return str(self._data()["attribution"])

    @property
    def definition(self) -> str:
        return str(self._data()["definition"])

    @classmethod
    def parse(cls, text: str, *, source: str | None = None) -> ExposureCategory:
        """``2``, ``state-controlled``, ``STATE_LINKED``, ``State-aligned channels``..."""
        key = "".join(ch for ch in str(text).lower() if ch.isalnum())
        for category in cls:
            names = {str(category.value), category.name.lower().replace("_", ""), _alnum(category.label)}
            if key in names or (len(key) >= 8 and any(name.startswith(key) for name in names)):
                return category
        raise InputError(
            f"{str(text)[:40]!r} is not an EEAS exposure category (official state channel, state-controlled "
            "outlet, state-linked, state-aligned)",
            source=source,
            field="exposure",
        )


def _alnum(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def indicator_dimensions() -> dict[str, list[str]]:
    """The dimensions of the matrix's attribution indicators: type, confidence, access."""
    dimensions = vocabulary("eeas_fimi_exposure_matrix")["indicator_dimensions"]
    return {name: list(values) for name, values in dimensions.items()}


def eu_fimi_toolbox_dimensions() -> list[str]:
    """The four dimensions of the EU FIMI toolbox (unverified: see ``EU_FIMI_TOOLBOX_NOTE``)."""
    return list(vocabulary("eu_fimi_toolbox")["dimensions"])


def euvsdisinfo_case_fields() -> list[str]:
    """The fields of an EUvsDisinfo case record."""
    return list(vocabulary("euvsdisinfo_case_fields")["fields"])
