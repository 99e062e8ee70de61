"""Review findings that stay fixed: skipped files keep their status, the course package is fingerprinted,
``check`` works from anywhere and says which interpreter to use."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder import collect as collect_module
from autograder import engine
from autograder.course import REPO_ROOT, course_digest
from autograder.sandbox.pool import Limits
from autograder.tests.builders import learner_notebook, write
from autograder.tests.conftest import SEGMENT_1, needs_bwrap
from autograder.tests.test_workflow import run_cli


def _roster(cohort, *students: str) -> None:
    path = cohort.root / "roster.csv"
    path.write_text("id\n" + "".join(f"{s}\n" for s in students))
    assert run_cli("roster", cohort.root, path)[0] == 0


def _export(cohort, tmp_path) -> dict:
    assert run_cli("export", cohort.root, tmp_path / "grades.csv")[0] == 0
    with open(tmp_path / "grades.csv", newline="") as stream:
        return {r["student_id"]: r for r in csv.DictReader(stream) if r["assignment"] == SEGMENT_1}


def test_a_file_too_large_to_collect_keeps_its_status_on_the_student_s_row(fresh_cohort, tmp_path, monkeypatch):
    """A zip bomb or oversized upload is skipped at collect, and the export says too_large, not not_submitted."""
    cohort = fresh_cohort
    _roster(cohort, "big", "absent")
    monkeypatch.setattr(collect_module, "MAX_FILE_BYTES", 1000)
    upload = tmp_path / "lms.zip"
    with zipfile.ZipFile(upload, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big/01-batch-size.ipynb", b"{" + b" " * 50_000 + b"}")  # compresses to almost nothing
    code, output = run_cli("collect", cohort.root, SEGMENT_1, upload)
    assert code == 0 and "1 skipped" in output, output
    assert run_cli("grade", cohort.root, SEGMENT_1)[0] == 0
    rows = _export(cohort, tmp_path)
    assert rows["big"]["status"] == "too_large" and "not collected" in rows["big"]["message"]
    assert rows["absent"]["status"] == "not_submitted"


def test_the_fingerprint_covers_the_course_package(tmp_path, segment1, monkeypatch):
    """Editing course/models changes the digest, and with it every fingerprint: grade does not skip stale grades."""
    package = tmp_path / "course"
    shutil.copytree(REPO_ROOT / "course", package, ignore=shutil.ignore_patterns("__pycache__"))
    before = course_digest(package)
    model = next((package / "models").glob("*.py"))
    model.write_text(model.read_text() + "\n# a changed constant\n")
    assert course_digest(package) != before
    submission = engine.Submission("s", (write(tmp_path / "nb.ipynb", {"cells": []}),))
    monkeypatch.setattr(engine, "course_digest", lambda: before)
    old = engine.fingerprint(segment1, submission, Limits())
    monkeypatch.setattr(engine, "course_digest", lambda: course_digest(package))
    assert engine.fingerprint(segment1, submission, Limits()) != old


@needs_bwrap
def test_check_works_from_any_folder_with_a_relative_interpreter_and_prints_json(tmp_path, segment1):
    spec = segment1.notebooks[0]
    work = tmp_path / "my-work"
    write(work / spec.filename, learner_notebook(spec))
    python = os.path.relpath(sys.executable, work)  # e.g. ../../../work/main/.venv/bin/python
    assert not os.path.isabs(python)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run([python, "-m", "autograder", "check", spec.filename, "--json"], cwd=work,
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout)
    assert summary["score"] == summary["max_score"] == segment1.max_score and summary["status"] == "graded"
    assert {e["grade_id"] for e in summary["exercises"]} == {t.grade_id for t in spec.tests}
    assert set(summary["exercises"][0]) == {"grade_id", "score", "max_score", "outcome", "message"}


def _python_without_the_course_environment() -> str | None:
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if Path(candidate).exists() and subprocess.run([candidate, "-c", "import sqlalchemy, nbgrader"],
                                                       capture_output=True).returncode != 0:
            return candidate
    return None


def test_a_python_without_the_course_environment_says_which_command_to_use(tmp_path):
    python = _python_without_the_course_environment()
    if python is None:
        pytest.skip("no interpreter without sqlalchemy/nbgrader on this machine")
    result = subprocess.run([python, "-m", "autograder", "check", "my notebook.ipynb"], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    venv_python = str(REPO_ROOT / ".venv" / "bin" / "python")
    assert f"{venv_python} -m autograder check 'my notebook.ipynb'" in result.stderr, result.stderr
