"""Cells of every CSV and XLSX the portal writes, made safe for a spreadsheet.

A cell a spreadsheet would run as a formula (it starts with =, +, -, @, a tab or a carriage
return) gets a leading quote; an import takes it off again, so export → import is an identity.
Every writer of a CSV or XLSX goes through `neutralise`.
"""

from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Prefix a quote to text a spreadsheet would run as a formula (=, +, -, @, tab, CR)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def unneutralise(value):
    """Undo `neutralise` on a cell read back from a file the portal wrote."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value
