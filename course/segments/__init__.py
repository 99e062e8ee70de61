"""The course's segments, one sub-package each, found by looking in this folder.

A segment's room is ``course/segments/<name>/``:

- ``__init__.py`` declares ``SEGMENT``: its number, nbgrader assignment, title and what it teaches;
- ``checks.py`` holds its exercises (``EXERCISES``);
- ``explorer.py``, ``plot.py`` (and ``view.py``) hold its interactive figure.

Nothing lists the segments: adding a folder here (and its notebook under ``source/``)
adds a segment to the start page, the tests, the benchmarks and the grader's warm-up.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Segment:
    """One lecture segment and its nbgrader assignment.

    Attributes:
        number: two-digit order in the course, e.g. "01".
        assignment: nbgrader assignment name, also the notebook's stem.
        title: the lecture segment's title.
        teaches: one line on what it teaches.
        package: the sub-package of ``course.segments`` that holds it.
    """

    number: str
    assignment: str
    title: str
    teaches: str
    package: str

    def module(self, name: str):
        """Import and return one of the segment's modules, e.g. ``"checks"``; import errors propagate."""
        return importlib.import_module(f"{__name__}.{self.package}.{name}")

    def exercises(self) -> tuple:
        """The segment's exercise definitions (its checks module's ``EXERCISES``)."""
        return tuple(self.module("checks").EXERCISES)


def _discover() -> tuple[Segment, ...]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.ispkg:
            segment = importlib.import_module(f"{__name__}.{info.name}").SEGMENT
            if segment.package != info.name:
                raise ValueError(f"course/segments/{info.name}/__init__.py declares package {segment.package!r}")
            found.append(segment)
    numbers = [s.number for s in found]
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"two segments share a number: {sorted(numbers)}")
    return tuple(sorted(found, key=lambda s: s.number))


@cache
def all_segments() -> tuple[Segment, ...]:
    """Every segment, in course order."""
    return _discover()


def by_assignment(assignment: str) -> Segment:
    """The segment whose nbgrader assignment is ``assignment``; KeyError naming the choices otherwise."""
    for segment in all_segments():
        if segment.assignment == assignment:
            return segment
    raise KeyError(f"no segment for assignment {assignment!r}; known: {[s.assignment for s in all_segments()]}")


def __getattr__(name: str):
    # SEGMENTS is computed on first use, so importing this package has no side effects.
    if name == "SEGMENTS":
        return all_segments()
    raise AttributeError(name)
