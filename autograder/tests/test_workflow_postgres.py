"""The whole instructor workflow again, with the gradebook in a live PostgreSQL server.

Every test of ``test_workflow`` runs here too, against a cohort made with
``init --db-url postgresql://...`` (the README's form, psycopg 3), so both database
paths are checked the same way.
"""

from __future__ import annotations

import pytest

from autograder.cohort import init_cohort, register_assignment
from autograder.tests import test_workflow
from autograder.tests.conftest import SEGMENT_1, needs_bwrap

pytestmark = needs_bwrap


@pytest.fixture(scope="module")
def world(postgres, tmp_path_factory, segment1):
    """The fixture cohort with its gradebook in PostgreSQL, after roster, collect, grade and export."""
    base = tmp_path_factory.mktemp("workflow-postgres")
    cohort = init_cohort(base / "cohort", db_url=postgres.new_database("workflow"))
    register_assignment(cohort, SEGMENT_1)
    world = test_workflow.build_world(cohort, base, segment1)
    assert world["cohort"].db_url.startswith("postgresql://")
    return world


globals().update({name: test for name, test in vars(test_workflow).items()
                  if name.startswith("test_") and callable(test)})
