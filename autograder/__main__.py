"""``python -m autograder``: see ``autograder.cli``.

Run with a Python that lacks the course's environment (e.g. the system ``python3``), it
says which command to use instead and exits 2, rather than failing on an import.
"""

import importlib.util
import os
import shlex
import sys

NEEDED = ("sqlalchemy", "nbgrader", "IPython", "numpy", "matplotlib", "course")


def missing_modules() -> list[str]:
    """The course environment's modules this interpreter cannot import."""
    missing = []
    for name in NEEDED:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def advice(missing: list[str]) -> str:
    """What to run instead: the same command with the course's virtualenv interpreter (absolute path)."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    venv_python = os.path.join(repo, ".venv", "bin", "python")
    command = shlex.join([venv_python, "-m", "autograder", *sys.argv[1:]])
    text = (f"error: this Python ({sys.executable}) lacks the course's environment (cannot import "
            f"{', '.join(missing)}).\n")
    if os.access(venv_python, os.X_OK):
        return text + f"Use the course's virtualenv instead:\n  {command}\n"
    return text + (f"Create the course's virtualenv first (`make -C {shlex.quote(repo)} lab` or "
                   f"`python3 -m venv {shlex.quote(os.path.join(repo, '.venv'))}` and `pip install -e .`), then run:\n"
                   f"  {command}\n")


def run() -> int:
    missing = missing_modules()
    if missing:
        sys.stderr.write(advice(missing))
        return 2
    from autograder.cli import main

    return main()


if __name__ == "__main__":
    sys.exit(run())
