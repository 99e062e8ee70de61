"""``collect``: take submissions from a folder or a zip (an LMS download) into the cohort.

1. The input itself is first copied, untouched, to ``originals/<assignment>/<time>/``
   and synced to disk: every original byte is kept, whatever happens next.
2. Every file is matched to exactly one student: a roster id, LMS user id or email
   must appear in its path as a whole word (``jdoe/...``, ``Doe_12345_6789_x.ipynb``).
   Files that match nobody, or several students, are reported as ``unmatched_file``.
3. Each student's files are written byte for byte to a staging folder, synced, and
   only then swapped in for ``submitted/<student>/<assignment>/``; the submission
   they replace moves to ``originals/<assignment>/<time>/replaced/<student>/``.
   A collect that was interrupted is repaired by the next ``collect`` or ``grade``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from autograder import statuses
from autograder.cohort import Cohort
from autograder.durable import atomic_write, fsync_file, fsync_folder, write_synced

SKIPPED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
SKIPPED_FOLDERS = {"__MACOSX", ".ipynb_checkpoints", ".git", "__pycache__"}
MAX_FILE_BYTES = 100 * 1024 * 1024
MAX_TOTAL_BYTES = 4 * 1024 ** 3
COMPLETE_MARKER = ".complete"
SKIPPED_RECORD = ".collect-skipped.json"
"""In a student's submitted folder: the files of theirs that collect skipped (name, status, reason)."""
TIMESTAMP_FILE = "timestamp.txt"
SAFE_NAME = re.compile(r"[^A-Za-z0-9._ ()+-]")


class CollectError(RuntimeError):
    """The input cannot be collected at all (missing, unreadable, not a zip)."""


@dataclass
class Found:
    """One file of the input."""

    path: str
    size: int
    data: bytes | None = None
    source: Path | None = None

    def read(self) -> bytes:
        return self.data if self.data is not None else self.source.read_bytes()


@dataclass
class CollectReport:
    """What a ``collect`` run did, one row per input file."""

    assignment: str
    rows: list[dict] = field(default_factory=list)
    archive: Path | None = None
    report_file: Path | None = None

    def add(self, path: str, student: str, action: str, detail: str = "") -> None:
        self.rows.append({"file": path, "student": student, "action": action, "detail": detail})

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row["action"] == action)

    @property
    def unmatched(self) -> list[dict]:
        return [row for row in self.rows if row["action"] == statuses.UNMATCHED_FILE]


# --------------------------------------------------------------------------- reading the input

def scan(path: Path) -> tuple[list[Found], list[tuple[str, str]]]:
    """Every file of a folder or zip, and (path, reason) for what was skipped."""
    if path.is_dir():
        return _scan_folder(path)
    if zipfile.is_zipfile(path):
        return _scan_zip(path)
    if path.is_file():
        return [Found(path.name, path.stat().st_size, source=path)], []
    raise CollectError(f"{path} is neither a folder, a zip file nor a file")


def skip_status(reason: str) -> str | None:
    """The status a skipped file leaves on its student's row; None for files that are never a submission."""
    if reason in ("system file", "macOS resource file", "empty name"):
        return None
    if reason.startswith(("larger than", "the zip unpacks to more")):
        return statuses.TOO_LARGE
    return statuses.MISSING_NOTEBOOK


def _skipped_reason(parts: tuple[str, ...], size: int) -> str:
    if any(part in SKIPPED_FOLDERS for part in parts[:-1]) or parts[-1] in SKIPPED_NAMES:
        return "system file"
    if parts[-1].startswith("._"):
        return "macOS resource file"
    if size > MAX_FILE_BYTES:
        return f"larger than {MAX_FILE_BYTES // 1024 ** 2} MB"
    return ""


def _scan_folder(root: Path) -> tuple[list[Found], list[tuple[str, str]]]:
    found, skipped = [], []
    for folder, folders, files in os.walk(root, followlinks=False):
        folders.sort()
        for name in sorted(files) + sorted(f for f in folders if os.path.islink(os.path.join(folder, f))):
            full = Path(folder) / name
            relative = full.relative_to(root).as_posix()
            if full.is_symlink():
                skipped.append((relative, "symbolic link (not followed)"))
                continue
            if not full.is_file():
                skipped.append((relative, "not a regular file"))
                continue
            size = full.stat().st_size
            reason = _skipped_reason(tuple(PurePosixPath(relative).parts), size)
            if reason:
                skipped.append((relative, reason))
            else:
                found.append(Found(relative, size, source=full))
    return found, skipped


def _scan_zip(path, prefix: str = "", depth: int = 0) -> tuple[list[Found], list[tuple[str, str]]]:
    found, skipped, total = [], [], 0
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise CollectError(f"{prefix or path} is not a readable zip file ({error})") from None
    with archive:
        for info in archive.infolist():
            name = prefix + info.filename.replace("\\", "/")
            if info.is_dir():
                continue
            parts = tuple(p for p in PurePosixPath(name).parts if p not in ("/", ""))
            reason = _skipped_reason(parts, info.file_size) if parts else "empty name"
            if info.flag_bits & 0x1:
                reason = "encrypted in the zip"
            if not reason and total + info.file_size > MAX_TOTAL_BYTES:
                reason = "the zip unpacks to more than the total limit"
            if reason:
                skipped.append((name, reason))
                continue
            try:
                data = archive.read(info)
            except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as error:
                skipped.append((name, f"cannot be read from the zip ({error})"))
                continue
            total += len(data)
            if name.lower().endswith(".zip") and depth == 0:
                try:
                    inner, inner_skipped = _scan_zip(io.BytesIO(data), name + "/", depth + 1)
                except CollectError as error:
                    skipped.append((name, str(error)))
                    continue
                found += inner
                skipped += inner_skipped
                continue
            found.append(Found(name, len(data), data=data))
    return found, skipped


# --------------------------------------------------------------------------- matching files to students

def _pattern(key: str) -> re.Pattern:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(key)}(?![A-Za-z0-9])", re.IGNORECASE)


def match_student(path: str, keys: dict[str, set[str]]) -> tuple[str | None, str]:
    """The one student ``path`` names, or (None, why not)."""
    parts = [p.lower() for p in PurePosixPath(path).parts]
    hits: dict[str, int] = {}
    for student, names in keys.items():
        for name in names:
            if _pattern(name).search(path):
                exact_folder = name.lower() in parts[:-1]
                hits[student] = max(hits.get(student, 0), (2 if exact_folder else 1) * 1000 + len(name))
    if not hits:
        return None, "no roster id, LMS id or email in its path"
    ranked = sorted(hits.items(), key=lambda item: -item[1])
    if len(ranked) > 1 and ranked[0][1] // 1000 == ranked[1][1] // 1000:
        names = ", ".join(sorted(s for s, score in ranked if score // 1000 == ranked[0][1] // 1000))
        return None, f"its path names several students ({names})"
    return ranked[0][0], ""


# --------------------------------------------------------------------------- storing

def safe_filename(name: str) -> str:
    """A file name that is safe on disk and keeps the original as far as possible."""
    base = PurePosixPath(name).name
    cleaned = SAFE_NAME.sub("_", base).strip(" .") or "file"
    return cleaned[:200]


def submitted_files(folder: Path) -> list[Path]:
    """The student's files in a submitted folder (not the timestamp, not hidden files)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and not p.is_symlink() and p.name != TIMESTAMP_FILE
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def _digests(files: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


def _archive_input(source: Path, target: Path) -> Path:
    """Copy the input, untouched, under ``target``; return the copy."""
    target.mkdir(parents=True, exist_ok=False)
    copy = target / (source.name or "input")
    if source.is_dir():
        shutil.copytree(source, copy, symlinks=True)
        for folder, _, files in os.walk(copy):
            for name in files:
                path = Path(folder) / name
                if not path.is_symlink():
                    fsync_file(path)
    else:
        shutil.copyfile(source, copy)
        fsync_file(copy)
    fsync_folder(target)
    return copy


def skipped_files(folder: Path) -> tuple[tuple[str, str, str], ...]:
    """(file, status, reason) of each of the student's files that collect skipped (see ``SKIPPED_RECORD``)."""
    try:
        rows = json.loads((folder / SKIPPED_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ()
    return tuple((str(r["file"]), str(r["status"]), str(r["reason"])) for r in rows
                 if isinstance(r, dict) and {"file", "status", "reason"} <= set(r))


def store_submission(cohort: Cohort, student: str, assignment: str, files: dict[str, bytes], stamp: str,
                     replaced_root: Path, skipped: list[dict] | None = None) -> str:
    """Stage, sync and swap in one student's files; return ``stored``, ``replaced`` or ``unchanged``.

    ``skipped`` lists the student's files that were not stored ({file, status, reason}); it is kept
    beside the files so that grading can give the student's row that status instead of ``not_submitted``.
    """
    final = cohort.submitted(student, assignment)
    current = {p.name: p.read_bytes() for p in submitted_files(final)}
    record = json.dumps(skipped, indent=1).encode() if skipped else None
    previous_record = (final / SKIPPED_RECORD).read_bytes() if (final / SKIPPED_RECORD).is_file() else None
    if final.is_dir() and _digests(current) == _digests(files) and record == previous_record:
        return "unchanged"
    parent = final.parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = parent / f".incoming-{assignment}-{stamp}"
    staging.mkdir()
    for name, data in files.items():
        write_synced(staging / name, data)
    if record is not None:
        write_synced(staging / SKIPPED_RECORD, record)
    write_synced(staging / TIMESTAMP_FILE, (datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f") + " UTC").encode())
    write_synced(staging / COMPLETE_MARKER, b"")
    fsync_folder(staging)
    action = "stored"
    previous = None
    if final.exists():
        previous = parent / f".previous-{assignment}-{stamp}"
        os.rename(final, previous)
        action = "replaced"
    os.rename(staging, final)
    fsync_folder(parent)
    (final / COMPLETE_MARKER).unlink()
    if previous is not None:
        keep = replaced_root / student
        keep.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(previous), str(keep))
    return action


def recover_interrupted(cohort: Cohort, assignment: str) -> list[str]:
    """Finish or undo swaps a crashed ``collect`` left behind; return what was done."""
    done = []
    base = cohort.root / "submitted"
    if not base.is_dir():
        return done
    for student_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        final = student_dir / assignment
        for staging in sorted(student_dir.glob(f".incoming-{assignment}-*")):
            if not final.exists() and (staging / COMPLETE_MARKER).exists():
                os.rename(staging, final)
                (final / COMPLETE_MARKER).unlink()
                done.append(f"{student_dir.name}: finished an interrupted swap")
            else:
                shutil.rmtree(staging)
                done.append(f"{student_dir.name}: removed an incomplete staging folder")
        for previous in sorted(student_dir.glob(f".previous-{assignment}-*")):
            keep = cohort.originals(assignment) / "recovered" / f"{student_dir.name}-{previous.name}"
            keep.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(previous), str(keep))
            done.append(f"{student_dir.name}: kept a replaced submission in {keep}")
    return done


# --------------------------------------------------------------------------- the command

def collect(cohort: Cohort, assignment: str, source: Path, keys: dict[str, set[str]]) -> CollectReport:
    """Collect ``source`` (folder or zip) as submissions of ``assignment``."""
    source = Path(source)
    if not source.exists():
        raise CollectError(f"{source} does not exist")
    cohort.assignment(assignment)  # fails early, naming the known assignments, on a typo
    recover_interrupted(cohort, assignment)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    run_folder = cohort.originals(assignment) / stamp
    report = CollectReport(assignment)
    report.archive = _archive_input(source, run_folder / "input")
    found, skipped = scan(report.archive)
    per_student: dict[str, dict[str, bytes]] = {}
    origin: dict[str, list[str]] = {}
    not_stored: dict[str, list[dict]] = {}
    for path, reason in skipped:
        status = skip_status(reason)
        student = match_student(path, keys)[0] if status else None
        report.add(path, student or "", "skipped", reason)
        if student:
            not_stored.setdefault(student, []).append({"file": safe_filename(path), "status": status,
                                                       "reason": reason})
            origin.setdefault(student, [])
            per_student.setdefault(student, {})
    for item in found:
        student, why = match_student(item.path, keys)
        if student is None:
            report.add(item.path, "", statuses.UNMATCHED_FILE, why)
            continue
        files = per_student.setdefault(student, {})
        name = safe_filename(item.path)
        if name in files:
            stem, dot, suffix = name.rpartition(".")
            counter = 2
            while f"{stem}-{counter}{dot}{suffix}" in files:
                counter += 1
            name = f"{stem}-{counter}{dot}{suffix}" if dot else f"{name}-{counter}"
        files[name] = item.read()
        origin.setdefault(student, []).append(item.path)
    for student in sorted(per_student):
        action = store_submission(cohort, student, assignment, per_student[student], stamp,
                                  run_folder / "replaced", not_stored.get(student))
        for path in origin[student]:
            report.add(path, student, action)
    report.report_file = _write_report(cohort, assignment, stamp, report)
    return report


def _write_report(cohort: Cohort, assignment: str, stamp: str, report: CollectReport) -> Path:
    path = cohort.root / "reports" / f"collect-{assignment}-{stamp}.csv"
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=["file", "student", "action", "detail"])
    writer.writeheader()
    writer.writerows(report.rows)
    atomic_write(path, text.getvalue().encode("utf-8"))
    return path
