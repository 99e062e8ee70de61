"""The grading engine: pick the notebook, read it, plan it, run it sandboxed, judge it.

``prepare`` does everything that needs no learner code (choosing the file, reading
it, recognising the assignment, aligning cells); ``finish`` turns the sandbox's
reply into scores with the trusted judge. ``grade_submissions`` runs many
submissions through the local worker pool; ``grade_one`` grades one submission on
any runner (the Dask workers use it with their own warm sandboxes).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from autograder import statuses
from autograder.course import course_digest
from autograder.intake import Intake, match_score, read_notebook, which_assignment
from autograder.families import VariantContext
from autograder.judge import NO_VARIANTS, deleted, judge, not_reached
from autograder.notebook_out import autograded_notebook
from autograder.plan import Plan, plan_notebook
from autograder.results import ExerciseResult, NotebookResult, SubmissionResult
from autograder.sandbox.bwrap import SandboxSettings
from autograder.sandbox.pool import Limits, WorkerPool
from autograder.spec import AssignmentSpec, NotebookSpec

GRADER_VERSION = "3"
"""Part of every fingerprint: bump it when a change to grading should regrade everything."""

LMS_SEPARATORS = ("_", "-", " ", ".")
WARM_IMPORTS = ("numpy", "matplotlib", "matplotlib.pyplot", "ipywidgets", "course")

Runner = Callable[[list[dict], Limits, str | None, str], dict]
"""Runs one notebook's sandbox job (cells, limits, learner, variant salt) and returns the worker's reply."""
OUTDATED_HINT = ("your notebook is a copy of another version of the course than the current one{missing}. Get the "
                 "new version with `python -m course.lab update` (it is written beside your copy, with your answers "
                 "copied in)")


@dataclass(frozen=True)
class Submission:
    """One student's collected files for an assignment, and the files ``collect`` had to skip.

    Attributes:
        student: the student id.
        files: the submitted files (readable paths).
        skipped: (file name, status, reason) of each file collect did not store (e.g. ``too_large``).
        learner_id: whose exercise variants (``course.variants``) the notebook holds; default the student id.
    """

    student: str
    files: tuple[Path, ...]
    skipped: tuple[tuple[str, str, str], ...] = ()
    learner_id: str | None = None

    @property
    def learner(self) -> str:
        return self.learner_id or self.student


@dataclass
class Prepared:
    """A notebook ready to run (``plan`` set) or already decided (``result`` set)."""

    spec: NotebookSpec
    result: NotebookResult | None = None
    plan: Plan | None = None
    intake: Intake | None = None
    status: str = statuses.GRADED
    notes: list[str] = field(default_factory=list)
    outdated: bool = False
    """The notebook is a learner copy of another release than the course's current one."""


# --------------------------------------------------------------------------- choosing and reading

def _named_like(name: str, spec: NotebookSpec) -> bool:
    return name == spec.filename or any(name.endswith(sep + spec.filename) for sep in LMS_SEPARATORS)


def choose_file(spec: NotebookSpec, files: list[Path], only_notebook: bool,
                skipped: tuple[tuple[str, str, str], ...] = ()) -> tuple[Path | None, str, str]:
    """The submitted file to grade as ``spec``: (path, status, note)."""
    notebooks = [f for f in files if f.suffix.lower() == ".ipynb"]
    exact = [f for f in notebooks if f.name == spec.filename]
    if exact:
        return exact[0], statuses.GRADED, ""
    prefixed = [f for f in notebooks if _named_like(f.name, spec)]
    if prefixed:
        return sorted(prefixed)[-1], statuses.GRADED, ""
    skipped_notebooks = [s for s in skipped if s[0].lower().endswith(".ipynb")]
    for name, status, reason in sorted(skipped_notebooks, key=lambda s: not _named_like(Path(s[0]).name, spec)):
        if _named_like(Path(name).name, spec) or not notebooks:
            return None, status, f"{name} was not collected: {reason}"
    if only_notebook and notebooks:
        best = max(notebooks, key=lambda f: (_quick_score(f, spec), f.stat().st_mtime, f.name))
        return best, statuses.WRONG_FILENAME, f"graded {best.name!r} as {spec.filename!r}"
    if skipped and not files:
        name, status, reason = skipped[0]
        return None, status, f"{name} was not collected: {reason}"
    if not files:
        return None, statuses.MISSING_NOTEBOOK, "no file was submitted"
    names = ", ".join(sorted(f.name for f in files)[:10])
    return None, statuses.MISSING_NOTEBOOK, f"no {spec.filename} among the submitted files ({names})"


def _quick_score(path: Path, spec: NotebookSpec) -> float:
    intake = read_notebook(path)
    return match_score(intake.notebook, spec) if intake.ok else -1.0


def prepare(assignment: AssignmentSpec, submission: Submission, others: list[AssignmentSpec]) -> list[Prepared]:
    """Everything that can be decided before running learner code, per notebook of ``assignment``."""
    prepared = []
    files = list(submission.files)
    for spec in assignment.notebooks:
        path, status, note = choose_file(spec, files, len(assignment.notebooks) == 1, submission.skipped)
        if path is None:
            prepared.append(Prepared(spec, result_without_run(spec, status, note)))
            continue
        intake = read_notebook(path)
        if not intake.ok:
            prepared.append(Prepared(spec, result_without_run(spec, intake.status, intake.message, path.name)))
            continue
        wrong = _wrong_assignment(intake.notebook, spec, assignment, others)
        if wrong:
            prepared.append(Prepared(spec, result_without_run(spec, statuses.WRONG_ASSIGNMENT, wrong, path.name)))
            continue
        plan = plan_notebook(spec, intake.notebook)
        outdated = is_outdated_copy(intake.notebook, spec)
        repairs = plan.notes
        if outdated and plan.version_notes:  # what another release explains is not tampering
            repairs = [n for n in plan.notes if n not in set(plan.version_notes)]
            repairs.append(outdated_note(plan))
        notes = ([note] if note else []) + intake.notes + repairs
        if outdated and plan.version_notes and len(repairs) == 1:
            status = statuses.most_severe([status, statuses.OUTDATED_COPY])
        elif plan.tampered:
            status = statuses.CELLS_TAMPERED
        prepared.append(Prepared(spec, plan=plan, intake=intake, status=status, notes=notes, outdated=outdated))
    return prepared


def outdated_note(plan: Plan) -> str:
    """The one note on an outdated copy: which exercises it lacks, and how to get the new version."""
    count = len(plan.deleted_tests)
    missing = (f": {count} exercise{'s' * (count > 1)} added since ({', '.join(plan.deleted_tests)}) "
               f"{'are' if count > 1 else 'is'} not in it and score 0 here" if count else
               ": its course cells were replaced by the current version's")
    return OUTDATED_HINT.format(missing=missing)


def is_outdated_copy(notebook: dict, spec: NotebookSpec) -> bool:
    """Whether ``notebook`` is a learner copy (``course.workspace`` stamps its release fingerprint) made from
    another release than the course's current one (``spec.release_fingerprint``, when known)."""
    from course.workspace import METADATA_KEY

    stamp = notebook.get("metadata", {}).get(METADATA_KEY) if isinstance(notebook.get("metadata"), dict) else None
    recorded = stamp.get("release_fingerprint") if isinstance(stamp, dict) else None
    return isinstance(recorded, str) and spec.release_fingerprint is not None and recorded != spec.release_fingerprint


def _wrong_assignment(notebook: dict, spec: NotebookSpec, assignment: AssignmentSpec,
                      others: list[AssignmentSpec]) -> str:
    own = match_score(notebook, spec)
    other, other_score = which_assignment(notebook, [a for a in others if a.name != assignment.name])
    if other is not None and other_score > own:
        return f"the notebook is assignment {other!r}, not {assignment.name!r}"
    if own == 0:
        return (f"the notebook has none of {assignment.name!r}'s cells (its nbgrader cell metadata is "
                "missing): it is not a copy of the released notebook")
    return ""


def result_without_run(spec: NotebookSpec, status: str, message: str, file: str | None = None) -> NotebookResult:
    """A notebook decided without running it: ``status`` with 0 points on every test."""
    exercises = [ExerciseResult(t.grade_id, 0.0, t.points, "not_graded", statuses.describe(status), "", status)
                 for t in spec.tests]
    return NotebookResult(spec.name, status, message, exercises=exercises, max_score=spec.max_score, file=file)


# --------------------------------------------------------------------------- judging a run

def finish(prepared: Prepared, reply: dict, learner: str | None = None,
           variants: VariantContext = NO_VARIANTS) -> NotebookResult:
    """Judge the sandbox's ``reply`` for a prepared notebook of ``learner`` (exercise families with ``variants``'
    salt and roster); build the autograded notebook."""
    spec, plan = prepared.spec, prepared.plan
    run_status = _run_status(reply)
    captures = reply.get("captures") if isinstance(reply.get("captures"), dict) else {}
    where = _where(plan, reply.get("last_cell"))
    why = (f"{reply.get('detail') or run_status}{where}" if run_status != "ok"
           else "the notebook never got to this test cell")
    exercises = []
    for test in spec.tests:
        if test.grade_id in plan.deleted_tests:
            exercises.append(not_in_copy(test) if prepared.outdated else deleted(test))
        elif isinstance(captures.get(test.grade_id), dict):
            exercises.append(judge(test, captures[test.grade_id], learner, variants))
        else:
            exercises.append(not_reached(test, why))
    notes = list(prepared.notes)
    status = prepared.status
    if run_status != "ok":
        status = run_status
        notes.insert(0, why)
    copied = [e.grade_id for e in exercises if e.outcome == statuses.WRONG_VARIANT]
    if copied:
        status = statuses.most_severe([status, statuses.WRONG_VARIANT])
        notes.append(f"{', '.join(copied)}: answered with another student's numbers, not this notebook's own "
                     "variant; scored 0")
    result = NotebookResult(spec.name, status, "; ".join(notes), notes, exercises,
                            [m.grade_id for m in spec.manual], spec.max_score,
                            prepared.intake.path.name if prepared.intake else None,
                            seconds=float(reply.get("seconds") or 0.0))
    result.autograded = autograded_notebook(spec, prepared.intake.notebook, plan, reply, exercises,
                                            status, result.message)
    return result


def not_in_copy(test) -> ExerciseResult:
    """A test cell added to the course after the learner's copy was made: 0 points, and how to update."""
    return ExerciseResult(test.grade_id, 0.0, test.points, "not_in_copy",
                          "this exercise is new in the course's current version and is not in your copy: get the "
                          "new version with `python -m course.lab update`", "", "NotInCopy")


def _run_status(reply: dict) -> str:
    status = reply.get("status")
    events = {e.get("what") for e in reply.get("events", []) if isinstance(e, dict)}
    if status == "ok":
        if "memory" in events:
            return statuses.MEMORY_LIMIT
        if "disk" in events:
            return statuses.OUTPUT_LIMIT
        return "ok"
    if status in statuses.RUNTIME_PROBLEMS or status == statuses.SANDBOX_ERROR:
        return status
    return statuses.KERNEL_DIED


def _where(plan: Plan, last_job_cell) -> str:
    if not isinstance(last_job_cell, int) or last_job_cell < 0:
        return ""
    for number, entry in enumerate(plan.entries):
        if entry.job_index == last_job_cell:
            first_line = next((line.strip() for line in entry.run_source.splitlines() if line.strip()), "")
            return f" (in cell {number}: {first_line[:60]!r})"
    return ""


# --------------------------------------------------------------------------- submissions

def fingerprint(assignment: AssignmentSpec, submission: Submission, limits: Limits, course: str | None = None,
                salt: str = "") -> str:
    """Changes whenever the submission's bytes (or skipped files), the source notebook, the course package
    (the hidden tests' expected values come from it; ``course`` is its digest, computed when not given),
    the variant salt (every family's numbers), the limits or the grader change."""
    limit_values = (float(limits.timeout_s), int(limits.memory_bytes), int(limits.output_bytes),
                    int(limits.file_bytes), int(limits.max_tasks))  # 20 and 20.0 s are the same limit
    course = course or course_digest()
    salted = hashlib.sha256(salt.encode()).hexdigest() if salt else ""
    digest = hashlib.sha256(f"{GRADER_VERSION}|{assignment.sha256}|{course}|{limit_values}|{salted}".encode())
    for path in sorted(submission.files):
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    for name, status, reason in sorted(submission.skipped):
        digest.update(f"skipped\0{name}\0{status}\0{reason}".encode())
    return digest.hexdigest()


def sandbox_settings(assignment: AssignmentSpec, isolated: bool = True) -> SandboxSettings:
    """Workers warmed with the assignment's own locked cells."""
    warm_cells = tuple(source for spec in assignment.notebooks for source in spec.warm_cells)
    return SandboxSettings(isolated=isolated, warm_imports=WARM_IMPORTS, warm_cells=warm_cells)


def prepare_safely(assignment: AssignmentSpec, submission: Submission,
                   others: list[AssignmentSpec]) -> list[Prepared]:
    """``prepare``, with a failure of the grader itself becoming each notebook's ``sandbox_error``."""
    try:
        return prepare(assignment, submission, others)
    except Exception as error:  # never let one submission stop the batch
        return [Prepared(spec, _grader_failure(spec, error)) for spec in assignment.notebooks]


def finish_safely(item: Prepared, reply: dict, learner: str | None = None,
                  variants: VariantContext = NO_VARIANTS) -> NotebookResult:
    """``finish``, with a failure of the grader itself becoming the notebook's ``sandbox_error``."""
    try:
        return finish(item, reply, learner, variants)
    except Exception as error:  # never let one submission stop the batch
        return _grader_failure(item.spec, error)


def grade_one(assignment: AssignmentSpec, submission: Submission, others: list[AssignmentSpec], limits: Limits,
              run: Runner, fingerprint_: str = "", variants: VariantContext = NO_VARIANTS) -> SubmissionResult:
    """Grade one submission, running its notebooks with ``run`` (exercise families with ``variants``)."""
    notebooks = []
    for item in prepare_safely(assignment, submission, others):
        if item.result is not None:
            notebooks.append(item.result)
        else:
            learner = submission.learner
            reply = run(item.plan.job_cells(), limits, learner, variants.salt)
            notebooks.append(finish_safely(item, reply, learner, variants))
    return SubmissionResult(submission.student, assignment.name, notebooks, fingerprint_)


def grade_submissions(assignment: AssignmentSpec, submissions: Iterable[Submission],
                      others: list[AssignmentSpec], limits: Limits, jobs: int,
                      isolated: bool = True, variants: VariantContext = NO_VARIANTS) -> Iterator[SubmissionResult]:
    """Grade submissions on a local pool of ``jobs`` warm sandboxes; yield each result as soon as it is complete.

    Exercise families are judged with ``variants``' salt (also given to the sandbox) and roster.

    A failure of the grader itself on one submission (a bug, a file it cannot handle)
    becomes that submission's ``sandbox_error``; the batch goes on.
    """
    waiting: dict[str, list] = {}
    run_queue = []
    course = course_digest()
    for submission in submissions:
        prepared = prepare_safely(assignment, submission, others)
        slots = [p.result for p in prepared]
        waiting[submission.student] = [slots, fingerprint(assignment, submission, limits, course, variants.salt)]
        for index, item in enumerate(prepared):
            if item.result is None:
                run_queue.append(((submission, index, item), item.plan.job_cells(), limits, submission.learner,
                                  variants.salt))
    for student in [s for s, (slots, _) in waiting.items() if None not in slots]:
        slots, fp = waiting.pop(student)
        yield SubmissionResult(student, assignment.name, slots, fp)
    if not run_queue:
        return
    with WorkerPool(sandbox_settings(assignment, isolated), jobs) as pool:
        for (submission, index, item), reply in pool.run_all(run_queue):
            student = submission.student
            slots, fp = waiting[student]
            slots[index] = finish_safely(item, reply, submission.learner, variants)
            if None not in slots:
                del waiting[student]
                yield SubmissionResult(student, assignment.name, slots, fp)


def _grader_failure(spec: NotebookSpec, error: Exception) -> NotebookResult:
    detail = f"the grader failed on this notebook ({type(error).__name__}: {str(error)[:400]})"
    return result_without_run(spec, statuses.SANDBOX_ERROR, detail)
