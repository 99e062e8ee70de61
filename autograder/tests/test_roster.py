"""Importing a roster: bad rows are reported by line, the rest imported."""

from __future__ import annotations

import pytest
from nbgrader.api import Gradebook

from autograder.roster import RosterError, import_roster, roster_keys


def test_bad_rows_are_reported_by_line_and_the_rest_imported(fresh_cohort, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("Student ID,First Name,Last Name,Email,LMS_ID\n"
                      "jdoe,Jane,Doe,jane.doe@example.org,4711\n"
                      "\n"
                      ",No,Id,,\n"
                      "../evil,Path,Traversal,,\n"
                      "mlee,Min,Lee,not-an-email,\n"
                      "jdoe,Jane,Again,,\n"
                      "kim,Kim,\"Park, Jr.\",kim@example.org,12\n"
                      "extra,a,b,c@d.org,1,surplus\n", encoding="utf-8")
    report = import_roster(fresh_cohort, roster)
    assert report.imported == ["jdoe", "kim"]
    assert [line for line, _ in report.problems] == [4, 5, 6, 7, 9]
    with Gradebook(fresh_cohort.db_url, fresh_cohort.course_id) as gradebook:
        assert gradebook.find_student("kim").last_name == "Park, Jr."
        assert gradebook.find_student("jdoe").lms_user_id == "4711"
    assert roster_keys(fresh_cohort)["jdoe"] == {"jdoe", "4711", "jane.doe@example.org", "jane.doe"}


def test_a_roster_without_an_id_column_or_not_utf8_is_refused(fresh_cohort, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nJane,j@x.org\n")
    with pytest.raises(RosterError, match="id column"):
        import_roster(fresh_cohort, roster)
    roster.write_bytes("id\nJürgen\n".encode("latin-1"))
    with pytest.raises(RosterError, match="not UTF-8"):
        import_roster(fresh_cohort, roster)
