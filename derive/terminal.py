"""A progress bar for long commands: redrawn in place on a terminal, silent when piped."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """``[#####.....] 120/250 label``, on one line of stderr, at most ten redraws a second."""

    def __init__(self, total: int, width: int = 30, stream: TextIO | None = None):
        self.total, self.width = max(total, 1), width
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.last = 0.0

    def update(self, done: int, label: str = "") -> None:
        now = time.monotonic()
        if not self.live or (now - self.last < 0.1 and done < self.total):
            return
        self.last = now
        filled = self.width * done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r[{bar}] {done}/{self.total} {label}\x1b[K")
        self.stream.flush()

    def clear(self) -> None:
        """Wipe the bar so that a line printed next starts clean."""
        if self.live:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
