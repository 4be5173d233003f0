"""The one exception type users see: every domain error becomes one line on stderr and exit 2."""

from __future__ import annotations


class DeriveError(Exception):
    """A problem with the user's input (network file, values file, options), worded for them."""


class ShapeError(DeriveError):
    """Two operands whose shapes do not fit together."""
