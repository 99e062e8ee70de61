"""``roster``: import students from a CSV file; bad rows are reported by line, the rest imported.

Columns (header row required, any order, case-insensitive): ``id`` (or ``student_id``,
``username``), optional ``first_name``, ``last_name``, ``email`` and ``lms_user_id`` (the
id an LMS puts in its download file names, used by ``collect``).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from autograder.cohort import Cohort

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ALIASES = {
    "id": ("id", "student_id", "student id", "username", "user"),
    "first_name": ("first_name", "first name", "first", "given_name"),
    "last_name": ("last_name", "last name", "last", "family_name", "surname"),
    "email": ("email", "e-mail", "mail"),
    "lms_user_id": ("lms_user_id", "lms_id", "lms user id", "canvas_id", "moodle_id"),
}


class RosterError(ValueError):
    """The roster file as a whole cannot be read."""


@dataclass
class RosterReport:
    """Which students were imported and which lines were not."""

    imported: list[str] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)


def valid_student_id(student: str) -> bool:
    """Ids become folder names: letters, digits, ``._@-``, not starting with a dot, at most 128 characters."""
    return bool(STUDENT_ID.match(student)) and ".." not in student


def read_roster(path: Path) -> tuple[list[tuple[int, dict]], list[tuple[int, str]]]:
    """(line, student fields) for every good row, and (line, problem) for every bad one."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RosterError(f"{path} is not UTF-8 text (bad byte at offset {error.start}): save it as UTF-8 CSV") from None
    reader = csv.DictReader(io.StringIO(text, newline=""), restkey="__extra__")
    columns = {name: _find_column(reader.fieldnames or [], aliases) for name, aliases in ALIASES.items()}
    if columns["id"] is None:
        raise RosterError(f"{path}: the header row needs an id column (one of: {', '.join(ALIASES['id'])}); "
                          f"found {reader.fieldnames}")
    good, bad, seen = [], [], {}
    for row in reader:
        line = reader.line_num
        if not any((value or "").strip() for key, value in row.items() if key != "__extra__"):
            continue
        fields = {name: (row.get(column) or "").strip() if column else "" for name, column in columns.items()}
        problem = _row_problem(row, fields, seen)
        if problem:
            bad.append((line, problem))
            continue
        seen[fields["id"]] = line
        good.append((line, fields))
    return good, bad


def _find_column(fieldnames: list[str], aliases: tuple[str, ...]) -> str | None:
    for name in fieldnames:
        if name is not None and name.strip().lower() in aliases:
            return name
    return None


def _row_problem(row: dict, fields: dict, seen: dict) -> str:
    student = fields["id"]
    if row.get("__extra__"):
        return "more fields than the header has columns (a comma inside a name? quote it)"
    if not student:
        return "no student id"
    if not valid_student_id(student):
        return (f"student id {student!r} is not usable as a folder name: use letters, digits, '.', '_', '-', '@' "
                "(not starting with a dot, at most 128 characters)")
    if student in seen:
        return f"student id {student!r} is already on line {seen[student]}"
    if fields["email"] and not EMAIL.match(fields["email"]):
        return f"email {fields['email']!r} is not an email address"
    return ""


def import_roster(cohort: Cohort, path: Path) -> RosterReport:
    """Add or update every good row's student in the gradebook."""
    good, bad = read_roster(path)
    report = RosterReport(problems=bad)
    with cohort.gradebook() as gradebook:
        for _line, fields in good:
            details = {key: fields[key] or None for key in ("first_name", "last_name", "email", "lms_user_id")}
            gradebook.update_or_create_student(fields["id"], **details)
            report.imported.append(fields["id"])
    return report


def roster_keys(cohort: Cohort) -> dict[str, set[str]]:
    """student id -> the strings that identify them in file names (id, LMS id, email and its local part)."""
    keys: dict[str, set[str]] = {}
    with cohort.gradebook() as gradebook:
        for student in gradebook.students:
            names = {student.id}
            if student.lms_user_id:
                names.add(str(student.lms_user_id))
            if student.email:
                names.add(student.email)
                local = student.email.split("@", 1)[0]
                if len(local) >= 3:
                    names.add(local)
            keys[student.id] = {n for n in names if n}
    return keys
