"""Ingest formats: each module registers one or more formats with ``registry.register``."""

from rrm.corpus.formats.base import IngestFormat, RawBatch, Rejection
from rrm.corpus.formats.registry import all_formats, detect, get_format, register

__all__ = ["IngestFormat", "RawBatch", "Rejection", "all_formats", "detect", "get_format", "register"]
