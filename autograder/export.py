"""``export``: one CSV row per student and assignment, with score, max score and status.

Scores are nbgrader's (``SubmittedAssignment.score``), so manual grades entered in
formgrader count. The status and message come from the autograder's table (for ``wrong_variant``, the
message also names whose variant each copied cell answers: the export is the
instructor's); a
student with no submission gets ``not_submitted`` and 0; a submission graded by
stock nbgrader (no autograder row) gets ``graded``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from autograder import statuses
from autograder.cohort import Cohort
from autograder.durable import atomic_write
from autograder.records import stored_results, wrong_variant_matches

COLUMNS = ["student_id", "first_name", "last_name", "email", "assignment", "status", "score", "max_score",
           "needs_manual_grade", "message"]


def export_rows(cohort: Cohort, assignment: str | None = None) -> list[dict]:
    """The export's rows, sorted by assignment then student id."""
    from nbgrader.api import MissingEntry

    rows = []
    with cohort.gradebook() as gradebook:
        stored = stored_results(gradebook)
        names = [a.name for a in gradebook.assignments if assignment in (None, a.name)]
        for name in sorted(names):
            for student in sorted(gradebook.students, key=lambda s: s.id):
                row = {"student_id": student.id, "first_name": student.first_name or "",
                       "last_name": student.last_name or "", "email": student.email or "", "assignment": name}
                mine = stored.get((name, student.id))
                try:
                    submission = gradebook.find_submission(name, student.id)
                except MissingEntry:
                    submission = None
                if submission is None:
                    max_score = gradebook.find_assignment(name).max_score
                    row.update(status=statuses.NOT_SUBMITTED, score=0.0, max_score=max_score,
                               needs_manual_grade=False, message=statuses.describe(statuses.NOT_SUBMITTED))
                else:
                    status = mine["status"] if mine else statuses.GRADED
                    message = mine["message"] if mine else "graded by nbgrader (no autograder record)"
                    matches = wrong_variant_matches(mine) if mine else []
                    if matches:  # instructor output only: the student's feedback never names anyone
                        message += "".join(f" | {grade_id} answers the variant of {', '.join(students)}"
                                           for grade_id, students in matches)
                    if status != statuses.GRADED:
                        message = f"{message} | {statuses.describe(status)}" if message else statuses.describe(status)
                    row.update(status=status, score=round(float(submission.score), 4),
                               max_score=float(submission.max_score),
                               needs_manual_grade=bool(submission.needs_manual_grade), message=message or "")
                rows.append(row)
    return rows


def export_csv(cohort: Cohort, target: Path, assignment: str | None = None) -> int:
    """Write the export to ``target``; return the number of rows."""
    rows = export_rows(cohort, assignment)
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(Path(target), text.getvalue().encode("utf-8"))
    return len(rows)
