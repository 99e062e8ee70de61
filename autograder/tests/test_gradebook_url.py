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
