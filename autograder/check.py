"""``check``: a learner grades their own notebook against the hidden tests (scores and hints only).

The summary never holds hidden test source or an expected value: only what the
learner's own self-checks print (the verdict and the hint).
"""

from __future__ import annotations

import json
from pathlib import Path

from autograder.engine import Submission, grade_submissions
from autograder.intake import read_notebook, which_assignment
from autograder.results import NotebookResult
from autograder.sandbox.pool import Limits
from autograder.spec import AssignmentSpec

SUMMARY_VERSION = 1
"""Bumped when the JSON shape of ``result_summary`` changes (see autograder/README.md)."""


def check_notebook(path: Path | str, assignment: str | None = None, source_root: Path | str | None = None,
                   isolated: bool | None = None, limits: Limits | None = None) -> NotebookResult:
    """Grade one notebook against the course's hidden tests; return per-exercise scores and hints.

    Exercise families are judged on the learner's own variant (their id and ``COURSE_VARIANT_SALT``);
    a copy made from an older release is ``outdated_copy``, its new exercises ``not_in_copy``.

    ``assignment`` defaults to the one the notebook looks like. ``isolated`` defaults
    to using bubblewrap when it is installed (a learner checking their own notebook
    may run without it).
    """
    from autograder.course import course_source_root, load_all_assignments
    from autograder.sandbox.bwrap import SandboxUnavailable, find_bwrap

    path = Path(path).absolute()
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: pass the path of your notebook (.ipynb)")
    root = Path(source_root) if source_root else course_source_root()
    everything = load_all_assignments(root)
    if assignment is None:
        assignment = guess_assignment(path, everything)
    spec = next((a for a in everything if a.name == assignment), None)
    if spec is None:
        known = ", ".join(a.name for a in everything)
        raise ValueError(f"unknown assignment {assignment!r} (known: {known}); pass --assignment")
    if isolated is None:
        try:
            find_bwrap()
            isolated = True
        except SandboxUnavailable:
            isolated = False
    from course.variants import course_salt

    from autograder.course import with_release_fingerprints
    from autograder.families import VariantContext

    spec = with_release_fingerprints(spec, root)
    submission = Submission("self", (path,), learner_id=own_learner_id(path.parent))
    variants = VariantContext(salt=course_salt())  # the learner's own salt (the hub's); no roster: no one else's
    results = list(grade_submissions(spec, [submission], everything, limits or Limits(), 1, isolated, variants))
    return results[0].notebooks[0]


def own_learner_id(folder: Path) -> str | None:
    """The learner id whose exercise variants the notebook in ``folder`` holds (``course.variants``), if any."""
    try:
        from course.variants import ID_FILE, learner_id
    except ImportError:
        return None
    workspace = folder if (folder / ID_FILE).is_file() else None
    return learner_id(workspace, create=False)


def guess_assignment(path: Path, everything: list[AssignmentSpec]) -> str:
    """The assignment ``path`` is, by its file name, else by its cells; ValueError when it cannot tell."""
    for spec in everything:
        if any(path.name == n.filename or path.name.endswith("_" + n.filename) for n in spec.notebooks):
            return spec.name
    intake = read_notebook(path)
    if intake.ok:
        name, _ = which_assignment(intake.notebook, everything)
        if name is not None:
            return name
    raise ValueError(f"cannot tell which assignment {path} is: pass --assignment")


def result_summary(result: NotebookResult) -> dict:
    """A JSON-ready summary (no hidden test source, no expected values); its shape is in autograder/README.md."""
    return {"version": SUMMARY_VERSION, "notebook": result.notebook,
            "status": result.status, "message": result.message, "score": result.score,
            "max_score": result.max_score, "file": result.file,
            "exercises": [e.as_dict() for e in result.exercises], "manual": result.manual}


def dumps_summary(result: NotebookResult) -> str:
    return json.dumps(result_summary(result), indent=1, ensure_ascii=False)
