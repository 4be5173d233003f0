"""derive's own version, as installed (recorded in what it writes: keys, grading records)."""

from __future__ import annotations


def derive_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("derive")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "(not installed)"
