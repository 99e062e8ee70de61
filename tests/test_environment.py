"""The set-up: pip and conda install the same packages, and CI runs the README's test command."""

from __future__ import annotations

import re

import pytest

from tests.notebooks import REPO

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")


def _name_and_spec(requirement: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def _pip_requirements() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    return dict(_name_and_spec(r) for r in requirements)


def _conda_requirements() -> dict[str, str]:
    lines = (REPO / "environment.yml").read_text().splitlines()
    start = lines.index("dependencies:")
    deps = [line.strip()[2:] for line in lines[start + 1:]
            if line.strip().startswith("- ") and not line.strip().endswith(":")]
    found = dict(_name_and_spec(d) for d in deps)
    for tool in ("python", "pip"):
        found.pop(tool, None)
    return found


def test_conda_and_pip_install_the_same_packages():
    """environment.yml lists exactly pyproject's dependencies and test extra, with the same version bounds."""
    assert _conda_requirements() == _pip_requirements()


def test_python_versions_agree():
    """Both files ask for the same minimum Python."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert f"python{project['requires-python']}" in (REPO / "environment.yml").read_text()


def test_client_stack_is_declared():
    """The client's stack is installed by the set-up."""
    assert {"jupyterlab", "ipywidgets", "matplotlib", "nbgrader", "nbval", "numpy", "pytest"} <= set(_pip_requirements())


def test_ci_runs_the_readme_test_command():
    """.ci/run calls `make test`, the command the README gives."""
    assert "make test" in (REPO / ".ci" / "run").read_text()
    assert "make test" in (REPO / "README.md").read_text()
