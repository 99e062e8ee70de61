"""Open the course for a learner: prepare their workspace and start JupyterLab on the start page.

    python -m course.lab [--workspace my-work] [extra jupyter lab options, e.g. --port 8899 --no-browser]
    python -m course.lab update [--workspace my-work]   # put updated segments beside your copies

The learner's lab shows only learner panels: nbgrader's instructor extensions
(formgrader, course list, create assignment, assignment list, its menu) and its
Validate button are disabled through a page config in the workspace. The URL the
server prints and the page it opens are the start page (``ServerApp.default_url``).
Kernel websockets send small messages at once (TCP_NODELAY, ``course.server``).
Self-check results and the flashcard schedule are kept in the workspace
(``.progress.json``, ``.flashcards.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from course import flashcards, progress, server, variants, workspace

INSTRUCTOR_PLUGINS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:course-list",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:assignment-list",
    "@jupyter/nbgrader:menu",
    "@jupyter/nbgrader:validate-assignment",
)
"""nbgrader lab plugins a self-paced learner has no use for (Validate included: the in-notebook
"Check my notebook against the grader" control does the real check)."""

QUIET_PLUGINS = ("@jupyterlab/apputils-extension:announcements",)
"""JupyterLab's news pop-up: the course runs offline."""

START_URL = f"/lab/tree/{workspace.START_PAGE}"
"""Where the printed URL and the opened browser land (relative to the server's base URL)."""


def server_config() -> dict:
    """The learner server's configuration: start page as default URL, TCP_NODELAY kernel websockets."""
    return {
        "ServerApp": {"default_url": START_URL, "kernel_websocket_connection_class": server.CLASS_PATH},
        "LabApp": {"default_url": START_URL},
    }


def learner_config_dir(workspace_dir: Path) -> Path:
    """A Jupyter config dir with the learner's page config and server config (rewritten each time)."""
    config = workspace_dir / ".jupyter"
    labconfig = config / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    page_config = {"disabledExtensions": {plugin: True for plugin in (*INSTRUCTOR_PLUGINS, *QUIET_PLUGINS)}}
    (labconfig / "page_config.json").write_text(json.dumps(page_config, indent=1), encoding="utf-8")
    (config / "jupyter_server_config.json").write_text(json.dumps(server_config(), indent=1), encoding="utf-8")
    return config


def learner_environment(workspace_dir: Path) -> dict[str, str]:
    """Environment for the learner's lab and its kernels."""
    workspace_dir = workspace_dir.resolve()
    return {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(learner_config_dir(workspace_dir)),
        progress.ENV_VAR: str(workspace_dir / workspace.PROGRESS_FILE),
        flashcards.ENV_VAR: str(workspace_dir / workspace.FLASHCARDS_FILE),
        variants.WORKSPACE_ENV: str(workspace_dir),  # whose numbers: the id kept in the workspace
    }


def lab_command(workspace_dir: Path, extra: list[str]) -> list[str]:
    """The jupyter lab command line for the learner (``--allow-root`` when run as root); ``extra`` last,
    so a learner's own options (``--port 8899 --no-browser``) win."""
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={workspace_dir.resolve()}",
               "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    return [*command, *extra]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["update"]:
        return workspace.main(["update", *argv[1:]])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--workspace", type=Path, default=workspace.REPO / "my-work")
    args, extra = parser.parse_known_args(argv)
    for path in workspace.prepare(args.workspace):
        print(f"created your copy {path}")
    for notice in workspace.update_notices(args.workspace):
        print(notice)
    command = lab_command(args.workspace, extra)
    os.execve(sys.executable, command, learner_environment(args.workspace))
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
