"""Open the course for a learner: prepare their workspace and start JupyterLab on the start page.

    python -m course.lab [--workspace my-work] [extra jupyter lab options]

The learner's lab shows only learner panels: nbgrader's instructor extensions
(formgrader, course list, create assignment, assignment list, its menu) are
disabled through a page config in the workspace. Self-check results and the
flashcard schedule are kept in the workspace (``.progress.json``,
``.flashcards.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from course import flashcards, progress, workspace

INSTRUCTOR_PLUGINS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:course-list",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:assignment-list",
    "@jupyter/nbgrader:menu",
)
"""nbgrader lab plugins a self-paced learner has no use for."""

QUIET_PLUGINS = ("@jupyterlab/apputils-extension:announcements",)
"""JupyterLab's news pop-up: the course runs offline."""


def learner_config_dir(workspace_dir: Path) -> Path:
    """A Jupyter config dir whose page config disables the instructor plugins."""
    config = workspace_dir / ".jupyter"
    labconfig = config / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    page_config = {"disabledExtensions": {plugin: True for plugin in (*INSTRUCTOR_PLUGINS, *QUIET_PLUGINS)}}
    (labconfig / "page_config.json").write_text(json.dumps(page_config, indent=1), encoding="utf-8")
    return config


def learner_environment(workspace_dir: Path) -> dict[str, str]:
    """Environment for the learner's lab and its kernels."""
    workspace_dir = workspace_dir.resolve()
    return {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(learner_config_dir(workspace_dir)),
        progress.ENV_VAR: str(workspace_dir / workspace.PROGRESS_FILE),
        flashcards.ENV_VAR: str(workspace_dir / workspace.FLASHCARDS_FILE),
    }


def lab_command(workspace_dir: Path, extra: list[str]) -> list[str]:
    """The jupyter lab command line for the learner (``--allow-root`` when run as root)."""
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={workspace_dir.resolve()}",
               "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    return [*command, *extra, str((workspace_dir / workspace.START_PAGE).resolve())]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, default=workspace.REPO / "my-work")
    args, extra = parser.parse_known_args(argv)
    for path in workspace.prepare(args.workspace):
        print(f"created your copy {path}")
    command = lab_command(args.workspace, extra)
    os.execve(sys.executable, command, learner_environment(args.workspace))
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
