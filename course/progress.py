"""The learner's progress: which exercises their last self-check passed.

Stored as JSON in the file named by the environment variable
``COURSE_PROGRESS_FILE`` (``make lab`` sets it to ``my-work/.progress.json``).
Without that variable nothing is recorded: grading runs and tests leave no trace.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

ENV_VAR = "COURSE_PROGRESS_FILE"


def progress_file() -> Path | None:
    """Where progress is kept, or None when not in a learner's lab."""
    value = os.environ.get(ENV_VAR)
    return Path(value) if value else None


def load(path: Path | None = None) -> dict[str, bool]:
    """variable -> passed at its last self-check; empty if no file or an unreadable one."""
    path = path or progress_file()
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): bool(v) for k, v in data.items()} if isinstance(data, dict) else {}


def record(variable: str, passed: bool, path: Path | None = None) -> None:
    """Remember the latest verdict for ``variable`` (atomic write; silent if not in a learner's lab)."""
    path = path or progress_file()
    if path is None:
        return
    data = load(path)
    data[variable] = passed
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        pass  # progress is a convenience; never break the learner's cell over it
