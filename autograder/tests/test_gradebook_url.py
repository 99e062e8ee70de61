"""The gradebook location comes from nbgrader's db_url: SQLite by default, any SQLAlchemy URL (PostgreSQL) too."""

from __future__ import annotations

from autograder.cohort import init_cohort
from autograder.records import stored_results


def test_db_url_from_the_cohort_config_is_used(tmp_path):
    elsewhere = tmp_path / "shared" / "grades.sqlite"
    elsewhere.parent.mkdir()
    cohort = init_cohort(tmp_path / "cohort", db_url=f"sqlite:///{elsewhere}")
    assert cohort.db_url == f"sqlite:///{elsewhere}"
    assert "c.CourseDirectory.db_url" in (cohort.root / "nbgrader_config.py").read_text()
    with cohort.gradebook() as gradebook:
        assert stored_results(gradebook) == {}
    assert elsewhere.is_file() and not (cohort.root / "gradebook.db").exists()


def test_a_cohort_inside_the_repository_is_refused(tmp_path):
    import pytest

    from autograder.cohort import CohortError
    from autograder.course import REPO_ROOT

    with pytest.raises(CohortError, match="inside the course repository"):
        init_cohort(REPO_ROOT / "cohort-here")
    assert not (REPO_ROOT / "cohort-here").exists()


def test_a_first_version_results_table_is_converted_with_the_cohort_s_course(fresh_cohort):
    """Rows of the table before the course column keep their data and get the cohort's course id."""
    from sqlalchemy import create_engine, text

    engine = create_engine(fresh_cohort.db_url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE autograder_results"))
        connection.execute(text("CREATE TABLE autograder_results (assignment VARCHAR(128), student VARCHAR(128), "
                                "status VARCHAR(32) NOT NULL, message TEXT, score FLOAT, max_score FLOAT, "
                                "fingerprint VARCHAR(64), details TEXT, graded_at DATETIME, "
                                "PRIMARY KEY (assignment, student))"))
        connection.execute(text("INSERT INTO autograder_results (assignment, student, status, score) "
                                "VALUES ('01-batch-size', 'old', 'graded', 3.0)"))
    engine.dispose()
    with fresh_cohort.gradebook() as gradebook:
        rows = stored_results(gradebook)
    assert rows[("01-batch-size", "old")]["score"] == 3.0
    assert rows[("01-batch-size", "old")]["course"] == fresh_cohort.course_id
