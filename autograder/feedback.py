"""``feedback``: per-student HTML feedback, with hidden-test bodies never revealed.

Graded notebooks go through nbgrader's own ``generate_feedback`` (its template, its
per-cell scores from the gradebook) with HTML sanitising on, since outputs and
markdown come from the learner. The autograded notebooks hold only the visible part
of each test cell and the hint message, so there is no hidden test to leak; as a
second guard every page is searched for the hidden test text before it is kept.
Submissions that could not be run (not JSON, wrong assignment...) get a short page
saying why and what to do. Every page starts with the submission's status.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from autograder import statuses
from autograder.cohort import Cohort, CohortError, run_nbgrader
from autograder.durable import atomic_write
from autograder.records import stored_results
from autograder.spec import AssignmentSpec, BEGIN_HIDDEN, END_HIDDEN

BANNER = ('<div style="border:2px solid {color};padding:0.6em 1em;margin:1em;font-family:sans-serif">'
          "<b>Status: {status}</b> &middot; score {score:g} / {max_score:g}<br>{message}</div>")
PAGE = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>{banner}"
        "<p style='font-family:sans-serif;margin:1em'>{advice}</p></body></html>")


class FeedbackLeak(RuntimeError):
    """A feedback page would have shown hidden test source: it was not written."""


def hidden_fragments(assignment: AssignmentSpec) -> list[str]:
    """Lines that exist only in hidden tests (never in the visible part) of ``assignment``."""
    fragments = {BEGIN_HIDDEN, END_HIDDEN}
    for notebook in assignment.notebooks:
        for test in notebook.tests:
            visible = set(test.visible_source.splitlines())
            fragments.update(line.strip() for line in test.source.splitlines()
                             if line.strip() and line not in visible and not line.strip().startswith("#"))
    return sorted(f for f in fragments if len(f) >= 12)


def leaked_fragments(page: str, fragments: list[str], typed_by_learner: str) -> list[str]:
    """Hidden-test fragments shown by ``page`` that the learner did not type themselves."""
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    return [f for f in fragments if f in text and f not in typed_by_learner]


def learner_text(autograded: Path) -> str:
    """Everything the learner wrote or printed in their graded notebook (not the test cells)."""
    if not autograded.is_file():
        return ""
    notebook = json.loads(autograded.read_text(encoding="utf-8"))
    parts = []
    for cell in notebook.get("cells", []):
        if "autograder" in cell.get("metadata", {}):
            continue
        parts.append(cell.get("source", ""))
        parts.append(json.dumps(cell.get("outputs", []), ensure_ascii=False))
    return "\n".join(parts)


def write_feedback(cohort: Cohort, name: str) -> list[Path]:
    """Write feedback for every graded submission of ``name``; return the files written."""
    assignment = cohort.assignment(name)
    result = run_nbgrader(cohort, "generate_feedback", name, "--force", "--HTMLExporter.sanitize_html=True")
    if result.returncode != 0:
        raise CohortError(f"`nbgrader generate_feedback {name}` failed in {cohort.root}:\n"
                          f"{(result.stderr or result.stdout)[-3000:]}")
    fragments = hidden_fragments(assignment)
    written, leaks = [], []
    with cohort.gradebook() as gradebook:
        rows = stored_results(gradebook, name)
    for (_, student), row in sorted(rows.items()):
        folder = cohort.feedback(student, name)
        banner = _banner(row)
        for notebook in assignment.notebooks:
            target = folder / f"{notebook.name}.html"
            graded = cohort.autograded(student, name) / f"{notebook.name}.ipynb"
            produced = target.is_file() and graded.is_file()
            if produced:
                page = target.read_text(encoding="utf-8")
                page = page.replace("<body>", "<body>" + banner, 1) if "<body>" in page else banner + page
            else:
                page = PAGE.format(title=html.escape(f"{name} feedback"), banner=banner,
                                   advice=html.escape(statuses.describe(row["status"])))
            leaked = leaked_fragments(page, fragments, learner_text(graded))
            if leaked:
                if target.exists():
                    target.unlink()
                leaks.append(f"{target}: would show {leaked[0][:50]!r}")
                continue
            atomic_write(target, page.encode("utf-8"))
            written.append(target)
    if leaks:
        raise FeedbackLeak("hidden test text would have been shown; these pages were NOT written:\n" + "\n".join(leaks))
    return written


def _banner(row: dict) -> str:
    good = row["status"] in statuses.GRADED_NORMALLY
    return BANNER.format(color="#2a7" if good else "#c33", status=html.escape(row["status"]),
                         score=row["score"] or 0.0, max_score=row["max_score"] or 0.0,
                         message=html.escape(row["message"] or statuses.describe(row["status"])))
