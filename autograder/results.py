"""Result types of grading, shared by the engine, the judge, the cluster and the gradebook.

Plain dataclasses of plain data (they cross process and machine boundaries: a Dask
task returns a ``SubmissionResult``); ``statuses`` is their only dependency.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from autograder import statuses


@dataclass(frozen=True)
class ExerciseResult:
    """The verdict on one test cell."""

    grade_id: str
    score: float
    max_score: float
    outcome: str
    message: str = ""
    stdout: str = ""
    error_name: str = ""
    matched: tuple[str, ...] = ()
    """For ``wrong_variant``: the roster students whose variant the answer fits (instructor only: never in
    ``as_dict``, feedback or the autograded notebook)."""

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    def as_dict(self) -> dict:
        """What the learner may see (``check --json``, the stored details); ``matched`` is left out."""
        return {"grade_id": self.grade_id, "score": self.score, "max_score": self.max_score,
                "outcome": self.outcome, "message": self.message}


@dataclass
class NotebookResult:
    """How one notebook of a submission was graded."""

    notebook: str
    status: str
    message: str = ""
    notes: list[str] = field(default_factory=list)
    exercises: list[ExerciseResult] = field(default_factory=list)
    manual: list[str] = field(default_factory=list)
    max_score: float = 0.0
    file: str | None = None
    autograded: dict | None = None
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return sum(e.score for e in self.exercises)


@dataclass
class SubmissionResult:
    """How one student's submission of one assignment was graded."""

    student: str
    assignment: str
    notebooks: list[NotebookResult]
    fingerprint: str = ""

    @property
    def status(self) -> str:
        return statuses.most_severe([n.status for n in self.notebooks])

    @property
    def score(self) -> float:
        return sum(n.score for n in self.notebooks)

    @property
    def max_score(self) -> float:
        return sum(n.max_score for n in self.notebooks)

    @property
    def needs_manual_grade(self) -> bool:
        return any(n.manual for n in self.notebooks)

    @property
    def message(self) -> str:
        parts = [f"{n.notebook}: {n.message}" if len(self.notebooks) > 1 else n.message
                 for n in self.notebooks if n.message]
        return "; ".join(parts)
