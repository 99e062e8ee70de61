"""The learner's workspace: their own copies of the release notebooks and a start page.

    python -m course.workspace my-work     # create or refresh the workspace

A learner's copy is created once and never overwritten, so updating the course
or regenerating ``release/`` never loses answers. The start page, ``START.ipynb``,
belongs to the course and is rewritten each time with the learner's progress.
"""

from __future__ import annotations

import argparse
import html
import json
import shutil
import sys
from pathlib import Path

from course import progress
from course.segments import SEGMENTS, Segment

REPO = Path(__file__).resolve().parent.parent
RELEASE = REPO / "release"
START_PAGE = "START.ipynb"
PROGRESS_FILE = ".progress.json"
FLASHCARDS_FILE = ".flashcards.json"


def learner_copy(workspace: Path, segment: Segment) -> Path:
    """Path of the learner's own copy of a segment's notebook."""
    return workspace / f"{segment.assignment}.ipynb"


def copy_new_notebooks(workspace: Path, release: Path = RELEASE) -> list[Path]:
    """Copy each release notebook the learner does not have yet; return the new copies."""
    workspace.mkdir(parents=True, exist_ok=True)
    created = []
    for segment in SEGMENTS:
        source = release / segment.assignment / f"{segment.assignment}.ipynb"
        target = learner_copy(workspace, segment)
        if source.exists() and not target.exists():
            shutil.copyfile(source, target)
            created.append(target)
    return created


def progress_rows(workspace: Path, passed: dict[str, bool]) -> list[dict]:
    """One row per segment: notebook present, exercises passed at last self-check, total."""
    rows = []
    for segment in SEGMENTS:
        variables = [exercise.variable for exercise in segment.exercises()]
        rows.append({
            "segment": segment,
            "present": learner_copy(workspace, segment).exists(),
            "passed": sum(1 for v in variables if passed.get(v)),
            "total": len(variables),
        })
    return rows


def progress_html(workspace: Path, passed: dict[str, bool] | None = None) -> str:
    """The start page's table of segments with links and progress."""
    passed = progress.load(workspace / PROGRESS_FILE) if passed is None else passed
    lines = ["<table><tr><th>#</th><th>segment</th><th>what it teaches</th><th>your progress</th></tr>"]
    for row in progress_rows(workspace, passed):
        segment = row["segment"]
        name = html.escape(segment.title)
        link = f'<a href="{segment.assignment}.ipynb">{name}</a>' if row["present"] else f"{name} (coming soon)"
        done = f'{row["passed"]} / {row["total"]} exercises pass' if row["total"] else "-"
        lines.append(f"<tr><td>{segment.number}</td><td>{link}</td><td>{html.escape(segment.teaches)}</td>"
                     f"<td>{done}</td></tr>")
    lines.append("</table>")
    return "\n".join(lines)


def show_progress(workspace: str | Path = ".") -> None:
    """Display the progress table (used by the start page's refresh cell)."""
    from IPython.display import HTML, display

    display(HTML(progress_html(Path(workspace))))


def start_page(workspace: Path) -> dict:
    """The start notebook, with the progress table stored as output so it shows before any cell runs."""
    intro = (
        "# The economics of LLM inference\n\n"
        "Welcome. This course follows Reiner Pope's blackboard lecture (Dwarkesh Podcast) in seven segments. "
        "Each notebook below is **your own copy**: answer in it, move the sliders, and run each exercise's "
        "check cell to see at once whether you are right (and a hint if not). Updating the course never "
        "overwrites your copies.\n\n"
        "This page is rewritten every time you run `make lab`; the table shows, for each segment, how many "
        "exercises passed at your last check. Run the cell below to refresh it.\n\n"
        "Full check against the grader's hidden tests: `python -m autograder check my-work/NN-name.ipynb` "
        "(prints a score per exercise, never the answers). Flashcards for each segment are at the end of its "
        "notebook; `python -m course.flashcards export deck.apkg` exports them all for Anki."
    )
    table = progress_html(workspace)
    cells = [
        {"cell_type": "markdown", "id": "intro", "metadata": {}, "source": intro},
        {"cell_type": "code", "id": "progress", "metadata": {}, "execution_count": None,
         "source": "from course.workspace import show_progress\nshow_progress()",
         "outputs": [{"output_type": "display_data", "metadata": {},
                      "data": {"text/html": table, "text/plain": "Segments and progress"}}]},
    ]
    return {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)",
                                                        "language": "python", "name": "python3"},
                                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def prepare(workspace: Path, release: Path = RELEASE) -> list[Path]:
    """Create the workspace if needed, copy new notebooks, rewrite the start page; return new copies."""
    created = copy_new_notebooks(workspace, release)
    (workspace / START_PAGE).write_text(json.dumps(start_page(workspace), indent=1), encoding="utf-8")
    return created


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m course.workspace DIR``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", type=Path)
    args = parser.parse_args(argv)
    for path in prepare(args.workspace):
        print(f"created your copy {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
