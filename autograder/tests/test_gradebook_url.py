"""The gradebook location comes from nbgrader's db_url: SQLite by default, any SQLAlchemy URL (PostgreSQL) too."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateTable

from autograder.cohort import init_cohort
from autograder.records import TABLE, open_gradebook, stored_results


def test_db_url_from_the_cohort_config_is_used(tmp_path):
    elsewhere = tmp_path / "shared" / "grades.sqlite"
    elsewhere.parent.mkdir()
    cohort = init_cohort(tmp_path / "cohort", db_url=f"sqlite:///{elsewhere}")
    assert cohort.db_url == f"sqlite:///{elsewhere}"
    assert "c.CourseDirectory.db_url" in (cohort.root / "nbgrader_config.py").read_text()
    with open_gradebook(cohort) as gradebook:
        assert stored_results(gradebook) == {}
    assert elsewhere.is_file() and not (cohort.root / "gradebook.db").exists()


def test_the_autograder_table_is_portable_to_postgresql():
    ddl = str(CreateTable(TABLE).compile(dialect=postgresql.dialect()))
    assert "CREATE TABLE autograder_results" in ddl and "PRIMARY KEY (assignment, student)" in ddl


def test_a_cohort_inside_the_repository_is_refused(tmp_path):
    import pytest

    from autograder.cohort import CohortError
    from autograder.course import REPO_ROOT

    with pytest.raises(CohortError, match="inside the course repository"):
        init_cohort(REPO_ROOT / "cohort-here")
    assert not (REPO_ROOT / "cohort-here").exists()
