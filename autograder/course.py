"""Where the course is: the repository holding ``source/`` and the ``course`` package."""

from __future__ import annotations

from pathlib import Path

from autograder.spec import AssignmentSpec, list_assignments, load_assignment

REPO_ROOT = Path(__file__).resolve().parent.parent


def course_source_root() -> Path:
    """The course repository's ``source/`` (instructor notebooks with hidden tests)."""
    root = REPO_ROOT / "source"
    if not root.is_dir():
        raise FileNotFoundError(f"{root} does not exist: run the autograder from the course repository")
    return root


def load_all_assignments(source_root: Path) -> list[AssignmentSpec]:
    """Every assignment under ``source_root``; one that cannot be read raises SpecError naming it."""
    return [load_assignment(source_root, name) for name in list_assignments(source_root)]


def is_inside(path: Path, folder: Path) -> bool:
    """True when ``path`` is ``folder`` or lies under it (after resolving links)."""
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
    except ValueError:
        return False
    return True
