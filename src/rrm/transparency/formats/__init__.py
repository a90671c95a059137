"""Formats of ad libraries, donation registers and reference files; see ``registry``."""

from rrm.transparency.formats.base import Committee, MoneyFormat, ParseResult, ReadOptions
from rrm.transparency.formats.registry import all_formats, detect, get_format, register

__all__ = ["Committee", "MoneyFormat", "ParseResult", "ReadOptions", "all_formats", "detect", "get_format", "register"]
