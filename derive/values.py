"""Numbers given in a file: a mapping from names to a number or nested lists of numbers.

Strict: a value is a real, finite number (true/false, text, null, infinity and NaN are refused)
or a rectangular nested list of them, at most :data:`MAX_RANK` deep and :data:`MAX_ENTRIES` in
all. Such files are read by :func:`derive.safeio.read_yaml` (bounded, no aliases), so a few
hundred bytes cannot expand into gigabytes, and nothing in them is evaluated.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from derive.errors import DeriveError
from derive.safeio import read_yaml, shown

MAX_FILE_BYTES = 1_000_000
MAX_RANK = 3  # samples x rows x columns
MAX_ENTRIES = 100_000
EXAMPLE = "W1: [[0.1, 0.2], [0.3, 0.4]]"


def to_array(value, where: str) -> np.ndarray:
    """``value`` (a number or nested lists) as a float64 array; a DeriveError naming ``where``."""
    count = [0]

    def walk(v, depth: int):
        if isinstance(v, bool) or not isinstance(v, int | float | list):
            raise DeriveError(f"{where} is {_kind(v)}, not a number or a nested list of numbers")
        if isinstance(v, list):
            if not v:
                raise DeriveError(f"{where} is an empty list")
            if depth >= MAX_RANK:
                raise DeriveError(f"{where} is nested deeper than {MAX_RANK} levels")
            return [walk(x, depth + 1) for x in v]
        count[0] += 1
        if count[0] > MAX_ENTRIES:
            raise DeriveError(f"{where} has more than {MAX_ENTRIES:,} numbers")
        if isinstance(v, int) and abs(v) > 10**300:
            raise DeriveError(f"{where}: {shown(v, 20)} is too large")
        if not math.isfinite(float(v)):
            raise DeriveError(f"{where}: {v} is not a finite number")
        return float(v)

    nested = walk(value, 0)
    try:
        return np.asarray(nested, dtype=float)
    except ValueError:
        raise DeriveError(f"{where} is not rectangular (its rows differ in length)") from None


def to_arrays(data, where: str) -> dict[str, np.ndarray]:
    """A mapping of names to values (see :func:`to_array`)."""
    if not isinstance(data, dict):
        raise DeriveError(
            f"{where}: expected a mapping of names to numbers or nested lists, like '{EXAMPLE}'"
        )
    out = {}
    for name, value in data.items():
        line = data.line_of(name) if hasattr(data, "line_of") else 0
        at = f"{where}:{line}: {shown(name, 40)}" if line else f"{where}: {shown(name, 40)}"
        if not isinstance(name, str):
            raise DeriveError(f"{at}: a name is text")
        out[name] = to_array(value, at)
    return out


def read_values(path: Path) -> dict[str, np.ndarray]:
    """A YAML values file (see the module's docstring)."""
    path = Path(path)
    data = read_yaml(path, MAX_FILE_BYTES, what="values file")
    return to_arrays(data, shown(path))


def _kind(value) -> str:
    if value is None:
        return "empty"
    if isinstance(value, list):
        return "an empty list"
    return shown(repr(value), 40)
