"""Headless mode: explorers and widgets return cheap placeholders instead of building figures.

Set the environment variable ``COURSE_HEADLESS=1`` (the grader does, so "Run All" under the
grader costs next to nothing). Any other value, or no value, means normal interactive mode.
"""

from __future__ import annotations

import os

ENV_VAR = "COURSE_HEADLESS"


def is_headless() -> bool:
    """True when ``COURSE_HEADLESS`` is set to ``1`` (read on every call, never cached)."""
    return os.environ.get(ENV_VAR, "").strip() == "1"


class Placeholder:
    """What a notebook-facing widget call returns in headless mode: one line of text, nothing drawn."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}: not shown ({ENV_VAR}=1)>"

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/plain": repr(self)}
