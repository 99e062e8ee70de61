"""Cohort autograder for the course, built on nbgrader: sandboxed, hardened and fast.

Use it from the command line (``python -m autograder --help``) or call
``check_notebook(path, assignment)`` to grade one notebook against the hidden tests.
See autograder/README.md for the workflow, the statuses and the threat model.
"""

from __future__ import annotations


def check_notebook(path, assignment=None, **options):
    """Grade one notebook; return its ``NotebookResult`` (per-exercise grade_id, score, max, message)."""
    from autograder.check import check_notebook as run

    return run(path, assignment, **options)


__all__ = ["check_notebook"]
