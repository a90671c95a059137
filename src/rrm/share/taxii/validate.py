"""Checking STIX 2.1 objects received from partners before anything is stored."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import stix2
from stix2.exceptions import STIXError

from rrm.errors import InputError

__all__ = ["MAX_DEPTH", "checked_object", "checked_objects", "checked_shape", "depth"]

MAX_DEPTH = 24
_ID = re.compile(r"^([a-z0-9][a-z0-9-]*[a-z0-9])--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _known_types() -> frozenset[str]:
    from stix2.v21 import OBJ_MAP, OBJ_MAP_OBSERVABLE

    return frozenset(OBJ_MAP) | frozenset(OBJ_MAP_OBSERVABLE)


_KNOWN = _known_types()


def depth(value: object, limit: int = MAX_DEPTH) -> int:
    """How deeply ``value`` nests (stops counting past ``limit``)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    deepest = 0
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > limit:
            return level
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def checked_shape(obj: object, place: str, *, deep: bool = True) -> dict[str, Any]:
    """``obj`` when it is a JSON object with a well-formed STIX 2.1 ``type`` and ``id`` (no deeper check).

    Raises ``InputError`` naming ``place`` (e.g. ``object 3``) and the object's id when known.
    ``deep=False`` skips the nesting check (for trusted data loaded in bulk).
    """
    if not isinstance(obj, dict):
        raise InputError("is not a JSON object", source=place)
    if deep and depth(obj) > MAX_DEPTH:
        raise InputError(f"nests deeper than {MAX_DEPTH} levels", source=place)
    object_type, object_id = obj.get("type"), obj.get("id")
    if not isinstance(object_type, str) or not isinstance(object_id, str):
        raise InputError("has no type or id", source=place)
    match = _ID.match(object_id)
    if match is None or match.group(1) != object_type:
        raise InputError(f"id {object_id[:80]!r} is not '{object_type[:60]}--<uuid>'", source=place, field="id")
    if object_type not in _KNOWN and not object_type.startswith("x-"):
        raise InputError(f"unknown STIX type {object_type[:60]!r}", source=f"{place} ({object_id})", field="type")
    if obj.get("spec_version", "2.1") != "2.1":
        raise InputError("only STIX 2.1 is accepted", source=f"{place} ({object_id})", field="spec_version")
    return obj


def checked_object(obj: object, place: str) -> dict[str, Any]:
    """``obj`` when it is a valid STIX 2.1 object of a known type (or an ``x-`` custom type)."""
    checked = checked_shape(obj, place)
    if checked["type"] in _KNOWN:
        try:
            stix2.parse(checked, allow_custom=True, version="2.1")
        except (STIXError, ValueError, TypeError, KeyError) as exc:
            raise InputError(f"invalid STIX 2.1: {exc}", source=f"{place} ({checked['id']})") from exc
    return checked


def checked_objects(raw_objects: Sequence[object]) -> list[dict[str, Any]]:
    """The objects, each a valid STIX 2.1 object of a known type (or an ``x-`` custom type).

    Raises ``InputError`` naming the first bad object (its position and id) and the problem.
    """
    return [checked_object(obj, f"object {position}") for position, obj in enumerate(raw_objects)]
