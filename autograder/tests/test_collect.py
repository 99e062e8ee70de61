"""Collecting submissions: matching files to students, keeping originals, swapping safely."""

from __future__ import annotations

import io
import os
import zipfile

from autograder import statuses
from autograder.collect import (COMPLETE_MARKER, collect, match_student, recover_interrupted, safe_filename,
                                submitted_files)

KEYS = {"jdoe": {"jdoe", "4711", "jane.doe@example.org", "jane.doe"}, "ann": {"ann", "812"},
        "ann2": {"ann2"}}


def test_files_are_matched_by_whole_words():
    assert match_student("jdoe/01-batch-size.ipynb", KEYS) == ("jdoe", "")
    assert match_student("Doe Jane_4711_99_01-batch-size.ipynb", KEYS) == ("jdoe", "")
    assert match_student("submissions/ann2/nb.ipynb", KEYS) == ("ann2", "")
    assert match_student("annotations/nb.ipynb", KEYS)[0] is None
    student, why = match_student("ann_and_jdoe.ipynb", KEYS)
    assert student is None and "several students" in why
    assert match_student("nobody.ipynb", KEYS) == (None, "no roster id, LMS id or email in its path")


def test_file_names_are_made_safe():
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("a/b/01 batch (1).ipynb") == "01 batch (1).ipynb"
    assert safe_filename("..") == "file"


def test_zip_collect_keeps_bytes_reports_unmatched_and_resists_tricks(fresh_cohort, tmp_path):
    cohort = fresh_cohort
    upload = tmp_path / "download.zip"
    nested = io.BytesIO()
    with zipfile.ZipFile(nested, "w") as inner:
        inner.writestr("01-batch-size.ipynb", b"ann's notebook")
    with zipfile.ZipFile(upload, "w") as archive:
        archive.writestr("jdoe/01-batch-size.ipynb", b"\x00\xffraw bytes")
        archive.writestr("../../ann/escape.ipynb", b"escape attempt")
        archive.writestr("ann2/answers.zip", nested.getvalue())
        archive.writestr("unknown/01-batch-size.ipynb", b"{}")
        archive.writestr("__MACOSX/jdoe/._01-batch-size.ipynb", b"junk")
    report = collect(cohort, "01-batch-size", upload, KEYS)
    assert (cohort.submitted("jdoe", "01-batch-size") / "01-batch-size.ipynb").read_bytes() == b"\x00\xffraw bytes"
    assert (cohort.submitted("ann", "01-batch-size") / "escape.ipynb").read_bytes() == b"escape attempt"
    assert (cohort.submitted("ann2", "01-batch-size") / "01-batch-size.ipynb").read_bytes() == b"ann's notebook"
    assert not (cohort.root.parent / "ann").exists()
    assert [r["file"] for r in report.unmatched] == ["unknown/01-batch-size.ipynb"]
    assert report.unmatched[0]["action"] == statuses.UNMATCHED_FILE
    assert report.count("skipped") == 1
    assert report.archive.read_bytes() == upload.read_bytes()
    assert report.report_file.is_file()


def test_an_interrupted_swap_is_finished_or_undone(fresh_cohort):
    cohort = fresh_cohort
    student = cohort.root / "submitted" / "jdoe"
    complete = student / ".incoming-01-batch-size-1"
    complete.mkdir(parents=True)
    (complete / "01-batch-size.ipynb").write_bytes(b"new")
    (complete / COMPLETE_MARKER).write_bytes(b"")
    half = cohort.root / "submitted" / "ann" / ".incoming-01-batch-size-2"
    half.mkdir(parents=True)
    (half / "01-batch-size.ipynb").write_bytes(b"partial")
    os.makedirs(cohort.submitted("ann", "01-batch-size"))
    done = recover_interrupted(cohort, "01-batch-size")
    assert len(done) == 2
    assert [p.read_bytes() for p in submitted_files(cohort.submitted("jdoe", "01-batch-size"))] == [b"new"]
    assert not half.exists()
