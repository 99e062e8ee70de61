"""Where the course is: the repository holding ``source/`` and the ``course`` package."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from pathlib import Path

from autograder.spec import AssignmentSpec, list_assignments, load_assignment

REPO_ROOT = Path(__file__).resolve().parent.parent


def course_source_root() -> Path:
    """The course repository's ``source/`` (instructor notebooks with hidden tests)."""
    root = REPO_ROOT / "source"
    if not root.is_dir():
        raise FileNotFoundError(f"{root} does not exist: run the autograder from the course repository")
    return root


def course_digest(package: Path | None = None) -> str:
    """SHA-256 over every file of the ``course`` package (names and bytes; caches left out).

    The hidden tests take their expected values from this package, so the grading
    fingerprint includes it: editing ``course/models`` regrades the affected submissions.
    """
    if package is None:
        from autograder.sandbox.bwrap import find_course_package

        package = find_course_package()
    package = Path(package).resolve()
    files = sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                   and not any(part.startswith(".") for part in p.relative_to(package).parts))
    signature = tuple((p.relative_to(package).as_posix(), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    return _digest_of(package, signature)


@functools.lru_cache(maxsize=8)
def _digest_of(package: Path, signature: tuple) -> str:
    """The digest itself, recomputed only when a file's name, time or size changed."""
    digest = hashlib.sha256()
    for name, _, _ in signature:
        digest.update(name.encode() + b"\0")
        digest.update(hashlib.sha256((package / name).read_bytes()).digest())
    return digest.hexdigest()


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


def with_release_fingerprints(assignment: AssignmentSpec, course_source: Path) -> AssignmentSpec:
    """``assignment`` with each notebook's current release fingerprint, from the course's ``release/`` beside
    ``course_source``, when that release was made from the same source notebook (byte for byte)."""
    from course.workspace import fingerprint

    notebooks = []
    for spec in assignment.notebooks:
        source = Path(course_source) / assignment.name / spec.filename
        release = Path(course_source).parent / "release" / assignment.name / spec.filename
        known = None
        try:
            if release.is_file() and source.is_file() and source.read_bytes() == spec.path.read_bytes():
                known = fingerprint(json.loads(release.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            known = None
        notebooks.append(dataclasses.replace(spec, release_fingerprint=known))
    return dataclasses.replace(assignment, notebooks=tuple(notebooks))
