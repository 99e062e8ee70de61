"""Exercise families: every learner gets their own numbers for the same skill.

A ``Family`` draws an exercise's parameters from a seed (presets and round values,
never random floats), renders its statement with them, and judges an answer
against the values those parameters imply. The seed is a hash of the course salt,
the learner's id, the family's key and an attempt number:

- attempt 0 is the learner's **own variant**: the one the notebook shows and the
  grader grades;
- attempts 1, 2, ... are **practice** variants ("practise again"), which never
  change the graded answer.

Whose numbers (``learner_id``), first match wins:

1. ``COURSE_LEARNER_ID``: set by the cohort autograder for the student it grades;
2. stock ``nbgrader autograde`` (``NBGRADER_EXECUTION=autograde``): the student
   folder it runs in, ``autograded/<student>/<assignment>/``;
3. ``JUPYTERHUB_USER``: the hub's user name (nbgrader's student id on a hub);
4. the id kept in the learner's workspace (``.learner-id``), which the learner
   may set once (``python -m course.variants set-id NAME``); failing that a
   random id is created there and kept.

The course salt (``COURSE_VARIANT_SALT``) lets an instructor make variants
unpredictable from public ids; every kernel and the grader must see the same salt.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from course.exercise import AnswerError, Exercise, Mistake

SALT_ENV = "COURSE_VARIANT_SALT"
LEARNER_ENV = "COURSE_LEARNER_ID"
HUB_USER_ENV = "JUPYTERHUB_USER"
WORKSPACE_ENV = "COURSE_WORKSPACE"
PROGRESS_ENV = "COURSE_PROGRESS_FILE"
ID_FILE = ".learner-id"
PRACTICE_FILE = ".practice.json"
ANONYMOUS = "anonymous"
OUTPUT_KEY = "course_variant"
"""Key of the display metadata that records which variant a notebook showed."""

_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.@+-]{1,128}$")


def workspace_dir() -> Path | None:
    """The learner's workspace: ``COURSE_WORKSPACE``, else the folder of the progress file, else None."""
    if os.environ.get(WORKSPACE_ENV):
        return Path(os.environ[WORKSPACE_ENV])
    if os.environ.get(PROGRESS_ENV):
        return Path(os.environ[PROGRESS_ENV]).parent
    return None


def _autograded_student(cwd: Path) -> str | None:
    """The student of stock nbgrader's autograde run: it executes in autograded/<student>/<assignment>/."""
    if os.environ.get("NBGRADER_EXECUTION") != "autograde":
        return None
    if cwd.parent.parent.name == "autograded":
        return cwd.parent.name
    return None


def valid_id(learner: str) -> str:
    """``learner`` if it is a usable id (1-128 letters, digits, ``_.@+-``); ValueError otherwise."""
    if not _ID_PATTERN.match(learner or ""):
        raise ValueError(f"learner id {learner!r}: use 1-128 letters, digits or _.@+- (no spaces)")
    return learner


def learner_id(workspace: Path | None = None, *, cwd: Path | None = None, create: bool = True) -> str:
    """Whose numbers: see the module docstring for the order; ``anonymous`` with no workspace at all."""
    if os.environ.get(LEARNER_ENV):
        return valid_id(os.environ[LEARNER_ENV])
    student = _autograded_student(cwd or Path.cwd())
    if student:
        return student
    if os.environ.get(HUB_USER_ENV):
        return os.environ[HUB_USER_ENV]
    workspace = workspace or workspace_dir()
    if workspace is None:
        return ANONYMOUS
    id_file = workspace / ID_FILE
    if id_file.exists():
        return valid_id(id_file.read_text(encoding="utf-8").strip())
    if not create:
        return ANONYMOUS
    learner = f"learner-{secrets.token_hex(4)}"
    set_learner_id(workspace, learner)
    return learner


def set_learner_id(workspace: Path, learner: str) -> Path:
    """Keep ``learner`` as the workspace's id (the learner's own choice, set once); return the file."""
    workspace.mkdir(parents=True, exist_ok=True)
    path = workspace / ID_FILE
    path.write_text(valid_id(learner) + "\n", encoding="utf-8")
    return path


def course_salt() -> str:
    """The instructor's salt (empty for self-paced learners)."""
    return os.environ.get(SALT_ENV, "")


def seed(family_key: str, learner: str, attempt: int = 0, salt: str | None = None) -> int:
    """A 64-bit seed from salt, learner, family and attempt (stable across machines and Python versions)."""
    salt = course_salt() if salt is None else salt
    text = "\x1f".join((salt, learner, family_key, str(int(attempt))))
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


@dataclass(frozen=True)
class Family:
    """A numeric exercise whose parameters are drawn per learner.

    Attributes:
        key: stable id, e.g. "01-critical-batch"; part of the seed.
        variable: the learner's variable holding the answer.
        unit: unit the answer is asked in.
        draw: rng -> parameters (choose from presets and round values).
        statement: ``str.format`` template rendered with the parameters (Markdown).
        answer: parameters -> expected value [unit].
        mistakes: parameters -> likely wrong answers with their hints.
        rel_tol: accepted relative error [fraction].
        magnitude: (low, high) a sensible answer lies in [unit].
    """

    key: str
    variable: str
    unit: str
    draw: Callable[[random.Random], Mapping] = field(repr=False)
    statement: str = field(repr=False)
    answer: Callable[[Mapping], float] = field(repr=False)
    mistakes: Callable[[Mapping], tuple[Mistake, ...]] = field(default=lambda params: (), repr=False)
    rel_tol: float = 0.02
    magnitude: tuple[float, float] | None = None

    def params(self, learner: str | None = None, attempt: int = 0, salt: str | None = None) -> dict:
        """The parameters of ``learner``'s variant ``attempt`` (the current learner's own by default).

        Without ``learner`` this reads the current learner's id and never creates one
        (``show`` and ``check``, at the notebook's edge, do that).
        """
        learner = learner_id(create=False) if learner is None else learner
        return dict(self.draw(random.Random(seed(self.key, learner, attempt, salt))))

    def exercise(self, params: Mapping) -> Exercise:
        """The plain exercise these parameters define."""
        frozen = dict(params)
        return Exercise(variable=self.variable, unit=self.unit, expected=lambda: float(self.answer(frozen)),
                        rel_tol=self.rel_tol, mistakes=tuple(self.mistakes(frozen)), magnitude=self.magnitude)

    def render(self, params: Mapping) -> str:
        """The statement with these parameters filled in (Markdown)."""
        return self.statement.format(**params)

    def verdict(self, value, *, learner: str | None = None, attempt: int = 0, salt: str | None = None) -> str | None:
        """None when ``value`` answers the learner's variant, else what is wrong (pure but for the learner id)."""
        return self.exercise(self.params(learner, attempt, salt)).verdict(value)

    def check(self, value) -> None:
        """The notebook's check cell: judges the learner's own variant, prints the verdict, records progress."""
        exercise = self.exercise(self.params(learner_id()))
        exercise.check(value)
        record_practice(self.key, 0, exercise.verdict(value) is None)

    def check_value(self, value) -> None:
        """Hidden test: raise AnswerError unless ``value`` answers the graded learner's own variant."""
        problem = self.verdict(value)
        if problem is not None:
            raise AnswerError(problem)

    def answers_variant_of(self, value, learners, salt: str | None = None) -> list[str]:
        """The learners in ``learners`` whose own variant ``value`` answers (to spot copied answers)."""
        return [learner for learner in learners if self.verdict(value, learner=learner, salt=salt) is None]

    def show(self) -> None:
        """Display the learner's own statement; the output records which variant it was."""
        from IPython.display import Markdown, display

        learner = learner_id()
        params = self.params(learner)
        record = {"family": self.key, "learner": learner, "attempt": 0, "params": _plain(params)}
        display(Markdown(self.render(params)), metadata={OUTPUT_KEY: record})

    def practise(self):
        """A fresh variant with its own answer box: practise the skill without touching the graded answer."""
        from course.widgets.practice import practice_widget

        return practice_widget(self)


def _plain(params: Mapping) -> dict:
    return {str(k): (v if isinstance(v, (int, float, str, bool)) or v is None else str(v)) for k, v in params.items()}


def practice_log(workspace: Path | None = None) -> dict:
    """family key -> {"own": bool, "fresh": int} from the workspace's practice file ({} outside a lab)."""
    workspace = workspace or workspace_dir()
    if workspace is None or not (workspace / PRACTICE_FILE).exists():
        return {}
    try:
        data = json.loads((workspace / PRACTICE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record_practice(family_key: str, attempt: int, right: bool, workspace: Path | None = None) -> None:
    """Remember a right answer on the own variant (attempt 0) or on a fresh one (attempt >= 1)."""
    workspace = workspace or workspace_dir()
    if workspace is None or not right:
        return
    log = practice_log(workspace)
    entry = log.setdefault(family_key, {"own": False, "fresh": 0})
    if attempt == 0:
        entry["own"] = True
    else:
        entry["fresh"] = int(entry.get("fresh", 0)) + 1
    temporary = workspace / (PRACTICE_FILE + ".tmp")
    temporary.write_text(json.dumps(log, indent=1, sort_keys=True), encoding="utf-8")
    temporary.replace(workspace / PRACTICE_FILE)


def mastered(family_key: str, own_right: bool, log: Mapping) -> bool:
    """Mastered: right on the learner's own variant and on at least one fresh variant."""
    entry = log.get(family_key, {})
    return bool(own_right or entry.get("own")) and int(entry.get("fresh", 0)) >= 1


def families(module) -> tuple[Family, ...]:
    """The families among a checks module's ``EXERCISES``."""
    return tuple(e for e in getattr(module, "EXERCISES", ()) if isinstance(e, Family))


def main(argv: list[str] | None = None) -> int:
    """``python -m course.variants set-id NAME`` / ``show-id``: the learner's id for their own numbers."""
    parser = argparse.ArgumentParser(description="Your id for your own exercise numbers")
    parser.add_argument("--workspace", type=Path, default=Path(__file__).resolve().parent.parent / "my-work")
    sub = parser.add_subparsers(dest="command", required=True)
    set_id = sub.add_parser("set-id", help="set your id once (before you start answering)")
    set_id.add_argument("name")
    sub.add_parser("show-id", help="print the id your numbers are drawn from")
    args = parser.parse_args(argv)
    try:
        if args.command == "set-id":
            existing = args.workspace / ID_FILE
            if existing.exists():
                print(f"{existing} already holds {existing.read_text().strip()!r}; changing it changes your numbers. "
                      f"Delete that file first if you really mean to.", file=sys.stderr)
                return 2
            print(f"your id is now {args.name!r} (kept in {set_learner_id(args.workspace, args.name)})")
        else:
            print(learner_id(args.workspace))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
