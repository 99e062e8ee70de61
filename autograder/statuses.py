"""The fixed vocabulary of submission statuses, each with what the instructor can do about it.

A status is recorded for every (student, assignment) pair and exported next to the
score. ``graded``, ``cells_tampered``, ``wrong_filename`` and ``outdated_copy`` are graded
normally; ``wrong_variant`` is graded with the copied family answers at 0;
the run-time statuses keep the points of the tests reached before the problem;
the file statuses score 0 because there is nothing to run.
"""

from __future__ import annotations

GRADED = "graded"
CELLS_TAMPERED = "cells_tampered"
WRONG_FILENAME = "wrong_filename"
NOT_SUBMITTED = "not_submitted"
MISSING_NOTEBOOK = "missing_notebook"
EMPTY_FILE = "empty_file"
NOT_UTF8 = "not_utf8"
NOT_JSON = "not_json"
NOT_A_NOTEBOOK = "not_a_notebook"
TOO_LARGE = "too_large"
WRONG_ASSIGNMENT = "wrong_assignment"
KERNEL_DIED = "kernel_died"
TIMEOUT = "timeout"
OUTPUT_LIMIT = "output_limit"
MEMORY_LIMIT = "memory_limit"
PROCESS_LIMIT = "process_limit"
SANDBOX_ERROR = "sandbox_error"
UNMATCHED_FILE = "unmatched_file"
WRONG_VARIANT = "wrong_variant"
OUTDATED_COPY = "outdated_copy"

ADVICE: dict[str, str] = {
    GRADED: "Graded.",
    CELLS_TAMPERED: ("Graded with the course's own test cells put back: the submission had deleted, duplicated, "
                     "edited or re-typed grade cells (listed). A deleted test scores 0."),
    WRONG_FILENAME: ("Graded, but the notebook had another file name (given). Ask the student to keep the "
                     "released name next time."),
    NOT_SUBMITTED: "Nothing was collected for this student. Collect again if they did submit.",
    MISSING_NOTEBOOK: ("The submission holds no notebook (files listed). Ask the student to upload the "
                       ".ipynb file, then collect and grade again."),
    EMPTY_FILE: "The notebook file is empty (0 bytes). Ask the student to save and upload it again.",
    NOT_UTF8: ("The notebook is not UTF-8 text (byte offset given), probably damaged on upload or saved by "
               "another program. Ask the student to download it from JupyterLab and upload it again."),
    NOT_JSON: ("The notebook is not valid JSON (line and column given), probably truncated or edited by "
               "hand. Ask the student to open it in JupyterLab, save, and upload again."),
    NOT_A_NOTEBOOK: ("The file is JSON but not a Jupyter notebook (nbformat 4). Ask the student to upload "
                     "the .ipynb they worked in."),
    TOO_LARGE: "The file exceeds the size limit. Ask the student to clear outputs, save and upload again.",
    WRONG_ASSIGNMENT: ("The notebook is not this assignment (the one it is, if known, is named). Ask the "
                       "student to upload the right notebook, then collect and grade again."),
    KERNEL_DIED: ("The notebook's process ended abruptly (e.g. os._exit or a crash) in the named cell. "
                  "Tests reached before it are graded; later ones score 0."),
    TIMEOUT: ("The notebook ran past its time limit (named cell, probably an endless loop). Tests reached "
              "before it are graded; later ones score 0."),
    OUTPUT_LIMIT: ("The notebook printed or wrote more than the output limit (named cell). Tests reached "
                   "before it are graded; later ones score 0."),
    MEMORY_LIMIT: ("The notebook ran out of its memory limit (named cell). Tests reached before it, and "
                   "those it still reached, are graded."),
    PROCESS_LIMIT: ("The notebook started too many processes or threads (a fork bomb?) in the named cell. "
                    "Tests reached before it are graded; later ones score 0."),
    SANDBOX_ERROR: ("The grader itself failed twice on this notebook (details given): not the student's fault. "
                    "Run `grade` again; it retries only these."),
    WRONG_VARIANT: ("Graded, but the named exercise-family cells answer another roster student's numbers, not this "
                    "student's own variant: they score 0. Whose variant each matched is in the export's message "
                    "(never in the student's feedback); `python -m autograder variant` prints a student's numbers."),
    OUTDATED_COPY: ("Graded, but the notebook is a copy of an older release of the course: the exercises added since "
                    "(named) are missing and score 0. The learner gets the new version beside their copy, answers "
                    "copied in, with `python -m course.lab update`."),
    UNMATCHED_FILE: ("A collected file could not be matched to exactly one student (reason given). Rename it "
                     "with the student's id, or add the id to the roster, and collect again."),
}
"""Status -> what it means and what the instructor can do."""

GRADED_NORMALLY = frozenset({GRADED, CELLS_TAMPERED, WRONG_FILENAME, OUTDATED_COPY})
RUNTIME_PROBLEMS = frozenset({KERNEL_DIED, TIMEOUT, OUTPUT_LIMIT, MEMORY_LIMIT, PROCESS_LIMIT})
FILE_PROBLEMS = frozenset({MISSING_NOTEBOOK, EMPTY_FILE, NOT_UTF8, NOT_JSON, NOT_A_NOTEBOOK, TOO_LARGE,
                           WRONG_ASSIGNMENT})
RETRIED = frozenset({SANDBOX_ERROR})
"""Statuses that a plain re-run of ``grade`` grades again even when the submission did not change."""

SEVERITY = [SANDBOX_ERROR, *sorted(FILE_PROBLEMS), PROCESS_LIMIT, MEMORY_LIMIT, OUTPUT_LIMIT, TIMEOUT, KERNEL_DIED,
            WRONG_VARIANT, CELLS_TAMPERED, OUTDATED_COPY, WRONG_FILENAME, GRADED]
"""Most to least severe: a submission's status is the most severe of its notebooks' and its problems'."""


def most_severe(statuses: list[str]) -> str:
    """The most severe of ``statuses`` (``graded`` when empty)."""
    ranked = [s for s in SEVERITY if s in statuses]
    return ranked[0] if ranked else GRADED


def describe(status: str) -> str:
    """The instructor-facing explanation of ``status``."""
    return ADVICE.get(status, status)
