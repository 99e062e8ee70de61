"""A dependency-free progress bar for long batches (redrawn in place on a terminal, a line per 10% otherwise)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 30


class ProgressBar:
    """``done/total [=====>   ] rate eta`` on ``stream`` (stderr by default)."""

    def __init__(self, total: int, label: str, stream: TextIO | None = None):
        self.total = max(0, int(total))
        self.label = label
        self.stream = stream or sys.stderr
        self.done = 0
        self.started = time.monotonic()
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_decile = -1

    def advance(self, note: str = "") -> None:
        """Count one item done; ``note`` (e.g. its status) is shown at the end of the line."""
        self.done += 1
        if self.interactive:
            self.stream.write("\r" + self.line(note) + "\x1b[K")
            self.stream.flush()
        else:
            decile = (10 * self.done) // self.total if self.total else 10
            if decile != self._last_decile:
                self._last_decile = decile
                self.stream.write(self.line(note) + "\n")
                self.stream.flush()

    def line(self, note: str = "") -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        fraction = self.done / self.total if self.total else 1.0
        filled = int(fraction * BAR_WIDTH)
        bar = "=" * filled + (">" if filled < BAR_WIDTH else "") + " " * max(0, BAR_WIDTH - filled - 1)
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        return (f"{self.label} {self.done}/{self.total} [{bar}] {rate:.1f}/s eta {eta:.0f}s"
                + (f"  {note}" if note else ""))

    def close(self) -> None:
        if self.interactive:
            self.stream.write("\n")
            self.stream.flush()
