"""Shared fixtures: segment 1's spec, a registered cohort template, and cheap clones of it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from autograder.cohort import init_cohort, open_cohort, register_assignment
from autograder.course import course_source_root
from autograder.sandbox.bwrap import SandboxUnavailable, find_bwrap
from autograder.spec import load_assignment

SEGMENT_1 = "01-batch-size"


def bwrap_available() -> bool:
    try:
        find_bwrap()
    except SandboxUnavailable:
        return False
    return True


MISSING_BWRAP = ("bubblewrap (bwrap) is not installed, so the sandbox cannot be tested: "
                 "apt-get install -y bubblewrap")


@pytest.fixture(scope="session")
def bubblewrap():
    """Skip sandbox tests where bubblewrap is missing; fail them in CI (env CI set), where it must be there."""
    if not bwrap_available():
        if os.environ.get("CI"):
            pytest.fail(MISSING_BWRAP)
        pytest.skip(MISSING_BWRAP)


needs_bwrap = pytest.mark.usefixtures("bubblewrap")


@pytest.fixture(scope="session")
def segment1():
    """Segment 1's assignment spec, from the course's source/."""
    return load_assignment(course_source_root(), SEGMENT_1)


@pytest.fixture(scope="session")
def template_cohort(tmp_path_factory):
    """A cohort with segment 1 registered by nbgrader (made once; clone it with ``fresh_cohort``)."""
    root = tmp_path_factory.mktemp("template") / "cohort"
    cohort = init_cohort(root)
    register_assignment(cohort, SEGMENT_1)
    return root


@pytest.fixture
def fresh_cohort(template_cohort, tmp_path):
    """A private copy of the template cohort."""
    root = tmp_path / "cohort"
    shutil.copytree(template_cohort, root)
    return open_cohort(root)


def clone_cohort(template: Path, target: Path):
    shutil.copytree(template, target)
    return open_cohort(target)


def _unavailable(reason: str):
    """Skip where a service cannot run here; fail in CI (env CI set), where `make system-deps` installs it."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server on 127.0.0.1 (one per pytest process), stopped at the end."""
    from autograder.tests.services import ServiceUnavailable, start_postgres

    try:
        server = start_postgres()
    except ServiceUnavailable as error:
        _unavailable(str(error))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dask_cluster():
    """A real `dask scheduler` and two `dask worker` processes on 127.0.0.1, stopped after the module."""
    from autograder.tests.services import ServiceUnavailable, start_dask

    try:
        cluster = start_dask(2)
    except ServiceUnavailable as error:
        _unavailable(str(error))
    yield cluster
    cluster.stop()
