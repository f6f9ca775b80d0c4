"""The error every reader raises for bad input data, below every other readers module so that all can raise it."""

from __future__ import annotations

from dsforge.pipelines.core.errors import DsforgeError


class DataError(DsforgeError, ValueError):
    """Bad input data; the message names file, line (or row) and field."""

    hint = "fix or replace the input the message names (without --strict, bad rows are rejected, not fatal)"
