"""The error every reader raises for bad input data, below every other readers module so that all can raise it."""

from __future__ import annotations


class DataError(ValueError):
    """Bad input data; the message names file, line (or row) and field."""
