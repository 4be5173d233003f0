"""The error of an unparseable claim."""

from __future__ import annotations

from derive.errors import DeriveError


class ParseError(DeriveError):
    """A claim that cannot be parsed. ``position`` is the 0-based character offset of the
    problem in the claim text; the message names what was found and, where it can, what was
    expected there: ``unexpected '}' at 14, expected an expression``."""

    def __init__(self, message: str, position: int):
        super().__init__(message)
        self.position = position
