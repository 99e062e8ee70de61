"""The learner's workspace: their own copies of the release notebooks and a start page.

    python -m course.workspace my-work            # create or refresh the workspace
    python -m course.workspace update my-work     # put updated segments beside your copies

A learner's copy is created once and never overwritten, so updating the course or
regenerating ``release/`` never loses answers. Each copy records, in its metadata, a
fingerprint of the release notebook it came from; when the course's version changes,
the start page says so and ``update`` writes the new version beside the old one, as
``01-batch-size (updated 2026-12).ipynb``, with the learner's answers copied in where
the nbgrader cell ids still match. The start page, ``START.ipynb``, belongs to the
course and is rewritten each time with the learner's progress, counted in points as
the grader counts them.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import html
import json
import platform
import re
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from course import progress, variants
from course.segments import SEGMENTS, Segment

REPO = Path(__file__).resolve().parent.parent
RELEASE = REPO / "release"
START_PAGE = "START.ipynb"
PROGRESS_FILE = ".progress.json"
FLASHCARDS_FILE = ".flashcards.json"
METADATA_KEY = "course_copy"
"""Notebook metadata of a learner's copy: ``{"assignment", "release_fingerprint", "copied"}``."""
UPDATE_COMMAND = "python -m course.lab update"


# --------------------------------------------------------------------------------------------
# Notebooks on disk


def read_notebook(path: Path) -> dict:
    """A notebook's JSON; ValueError naming the file when it cannot be read."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not a readable notebook ({error}); restore it or delete it and run "
                         "`make lab` again") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise ValueError(f"{path}: not a notebook (no cell list); restore it or delete it and run `make lab` again")
    return notebook


def write_new(path: Path, notebook: dict) -> None:
    """Write ``notebook`` to ``path``, which must not exist yet (a learner's file is never overwritten)."""
    with open(path, "x", encoding="utf-8") as out:
        json.dump(notebook, out, indent=1, ensure_ascii=False)
        out.write("\n")


def release_notebook(segment: Segment, release: Path = RELEASE) -> Path:
    return release / segment.assignment / f"{segment.assignment}.ipynb"


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _grade_id(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def fingerprint(notebook: dict) -> str:
    """sha256 of what the course wrote in a notebook: each cell's type, nbgrader id and source.

    Outputs and widget state are left out, so regenerating an unchanged release gives the same value.
    """
    content = [(c.get("cell_type"), _grade_id(c), _source(c)) for c in notebook.get("cells", [])]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()


def python_language_info() -> dict:
    """The ``language_info`` this environment's ipykernel reports, so JupyterLab finds nothing to change on
    open (a notebook whose language_info differs from its kernel's is marked unsaved at once)."""
    return {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
            "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
            "pygments_lexer": "ipython3", "version": platform.python_version()}


# --------------------------------------------------------------------------------------------
# The learner's copies


@dataclass(frozen=True)
class Copy:
    """One learner copy of a segment's notebook."""

    path: Path
    release_fingerprint: str | None
    copied: str
    """When it was made (ISO 8601), or "" for a copy from before copies were stamped."""


def learner_copy(workspace: Path, segment: Segment) -> Path:
    """Path of the learner's first copy of a segment's notebook."""
    return workspace / f"{segment.assignment}.ipynb"


UPDATED = re.compile(r" \(updated (\d{4}-\d{2})(?:, (\d+))?\)\.ipynb$")


def copy_order(path: Path) -> tuple:
    """Sort key: the first copy, then the updates by month and number (from the names the course gives)."""
    match = UPDATED.search(path.name)
    return (0, "", 0) if match is None else (1, match.group(1), int(match.group(2) or 1))


def copies(workspace: Path, segment: Segment) -> list[Copy]:
    """The learner's copies of a segment, oldest first: ``NN-name.ipynb`` and ``NN-name (updated ...).ipynb``."""
    pattern = f"{glob_escape(segment.assignment)} (updated *).ipynb"
    paths = [learner_copy(workspace, segment), *workspace.glob(pattern)]
    found = []
    for path in sorted((p for p in paths if p.is_file()), key=copy_order):
        try:
            stamp = read_notebook(path).get("metadata", {}).get(METADATA_KEY, {})
        except ValueError:
            stamp = {}
        found.append(Copy(path, stamp.get("release_fingerprint"), str(stamp.get("copied", ""))))
    return found


def glob_escape(text: str) -> str:
    return re.sub(r"([\[\]*?])", r"[\1]", text)


def current_copy(workspace: Path, segment: Segment) -> Path | None:
    """The copy the learner works in: the newest one, or None if they have none."""
    found = copies(workspace, segment)
    return found[-1].path if found else None


def stamped_copy(release_nb: dict, assignment: str, now: datetime.datetime) -> dict:
    """The learner's copy of a release notebook: the same cells, stamped with where it came from."""
    metadata = dict(release_nb.get("metadata", {}))
    metadata.pop("course_generated", None)  # "DO NOT EDIT": true of release/, not of the learner's copy
    metadata["language_info"] = python_language_info()
    metadata[METADATA_KEY] = {"assignment": assignment, "release_fingerprint": fingerprint(release_nb),
                              "copied": now.isoformat(timespec="seconds")}
    return {**release_nb, "metadata": metadata}


def copy_new_notebooks(workspace: Path, release: Path = RELEASE) -> list[Path]:
    """Copy each release notebook the learner does not have yet; return the new copies."""
    workspace.mkdir(parents=True, exist_ok=True)
    created = []
    now = datetime.datetime.now().astimezone()
    for segment in SEGMENTS:
        source = release_notebook(segment, release)
        target = learner_copy(workspace, segment)
        if source.exists() and not copies(workspace, segment):
            write_new(target, stamped_copy(read_notebook(source), segment.assignment, now))
            created.append(target)
    return created


def is_outdated(copy: Path, release_nb: dict) -> bool:
    """Whether the course's version differs from the one ``copy`` was made from.

    A copy from before copies were stamped is outdated when a course cell (one the learner does
    not answer in) differs from the release's.
    """
    notebook = read_notebook(copy)
    recorded = notebook.get("metadata", {}).get(METADATA_KEY, {}).get("release_fingerprint")
    if recorded is not None:
        return recorded != fingerprint(release_nb)

    def course_cells(nb: dict) -> list:
        return [(_grade_id(c), _source(c)) for c in nb.get("cells", [])
                if not c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    return course_cells(notebook) != course_cells(release_nb)


def outdated_segments(workspace: Path, release: Path = RELEASE) -> list[Segment]:
    """Segments whose release notebook is newer than the learner's current copy."""
    found = []
    for segment in SEGMENTS:
        current, source = current_copy(workspace, segment), release_notebook(segment, release)
        if current is not None and source.exists() and is_outdated(current, read_notebook(source)):
            found.append(segment)
    return found


def update_notices(workspace: Path, release: Path = RELEASE) -> list[str]:
    """One line per outdated segment, for the terminal."""
    return [f"segment {s.number} ({s.assignment}) has a newer version: `{UPDATE_COMMAND}` puts it beside your copy"
            for s in outdated_segments(workspace, release)]


# --------------------------------------------------------------------------------------------
# Updates: the new version beside the old, answers carried over


STUB_LINE = re.compile(r"^\s*(#.*|raise NotImplementedError\(\)|[A-Za-z_]\w* = \.\.\.|YOUR ANSWER HERE|)\s*$")


def is_unanswered(source: str) -> bool:
    """Whether an answer cell holds only the placeholder nbgrader wrote (comments, stubs, blank lines)."""
    return all(STUB_LINE.match(line) for line in source.splitlines())


@dataclass(frozen=True)
class Update:
    """One segment brought up to date."""

    segment: Segment
    old: Path
    new: Path
    kept: tuple[str, ...]
    """grade_ids of the answers copied into the new version."""
    left: tuple[str, ...]
    """grade_ids of answers the new version has no cell for (they stay in the old copy)."""


def carry_answers(old: dict, new: dict) -> tuple[dict, tuple[str, ...], tuple[str, ...]]:
    """``new`` with the learner's answers from ``old`` in the answer cells whose grade_id matches.

    Returns the notebook, the grade_ids copied and the answered grade_ids with no place in ``new``.
    """
    answers = {_grade_id(c): c for c in old.get("cells", [])
               if c.get("metadata", {}).get("nbgrader", {}).get("solution") and _grade_id(c)
               and not is_unanswered(_source(c))}
    cells, kept = [], []
    for cell in new.get("cells", []):
        grade_id = _grade_id(cell)
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution") and grade_id in answers \
                and answers[grade_id].get("cell_type") == cell.get("cell_type"):
            cell = {**cell, "source": _source(answers[grade_id])}
            kept.append(grade_id)
        cells.append(cell)
    left = tuple(g for g in answers if g not in kept)
    return {**new, "cells": cells}, tuple(kept), left


def updated_name(workspace: Path, segment: Segment, now: datetime.datetime) -> Path:
    """A free name ``NN-name (updated YYYY-MM).ipynb`` (``..., 2)`` and so on if taken)."""
    stem = f"{segment.assignment} (updated {now:%Y-%m}"
    candidate, n = workspace / f"{stem}).ipynb", 1
    while candidate.exists():
        n += 1
        candidate = workspace / f"{stem}, {n}).ipynb"
    return candidate


def update(workspace: Path, release: Path = RELEASE, now: datetime.datetime | None = None) -> list[Update]:
    """Write each outdated segment's new version beside the learner's current copy; never overwrite."""
    now = now or datetime.datetime.now().astimezone()
    done = []
    for segment in outdated_segments(workspace, release):
        old = current_copy(workspace, segment)
        fresh = stamped_copy(read_notebook(release_notebook(segment, release)), segment.assignment, now)
        notebook, kept, left = carry_answers(read_notebook(old), fresh)
        target = updated_name(workspace, segment, now)
        write_new(target, notebook)
        done.append(Update(segment, old, target, kept, left))
    return done


def describe(update_: Update) -> str:
    """What an update did, in one or two lines for the learner."""
    line = (f"new version of segment {update_.segment.number}: {update_.new.name} "
            f"(your copy {update_.old.name} is untouched)")
    if update_.kept:
        line += f"; your answers copied in: {', '.join(update_.kept)}"
    if update_.left:
        line += f"\n  not copied (no such answer cell in the new version, see your old copy): {', '.join(update_.left)}"
    return line


# --------------------------------------------------------------------------------------------
# The start page


def segment_points(segment: Segment, release: Path = RELEASE) -> progress.SegmentPoints | None:
    """What a segment's exercises are worth, from its release notebook (None without one)."""
    path = release_notebook(segment, release)
    if not path.exists():
        return None
    variables = [exercise.variable for exercise in segment.exercises()]
    return progress.segment_points(read_notebook(path), variables, str(path))


def progress_rows(workspace: Path, passed: dict[str, bool], release: Path = RELEASE) -> list[dict]:
    """One row per segment: current copy, points earned and possible, exercises passed, update pending."""
    outdated = {s.assignment for s in outdated_segments(workspace, release)}
    rows = []
    for segment in SEGMENTS:
        points = segment_points(segment, release)
        # the exercises the notebook grades (its checks module may define more, e.g. before a release)
        variables = list(points.by_variable) if points else [e.variable for e in segment.exercises()]
        rows.append({
            "segment": segment,
            "copy": current_copy(workspace, segment),
            "points": points,
            "earned": points.earned(passed) if points else 0.0,
            "passed": sum(1 for v in variables if passed.get(v)),
            "exercises": len(variables),
            "outdated": segment.assignment in outdated,
            "mastery": mastery(workspace, segment, passed),
        })
    return rows


def mastery(workspace: Path, segment: Segment, passed: dict[str, bool]) -> tuple[int, int]:
    """(skills mastered, skills with own numbers): right on the learner's own variant and on a fresh one."""
    families = variants.families(segment.module("checks"))
    log = variants.practice_log(workspace)
    return sum(variants.mastered(f.key, bool(passed.get(f.variable)), log) for f in families), len(families)


def _points(value: float) -> str:
    return f"{value:g}"


def progress_html(workspace: Path, passed: dict[str, bool] | None = None, release: Path = RELEASE) -> str:
    """The start page's table of segments with links, points and update notices."""
    passed = progress.load(workspace / PROGRESS_FILE) if passed is None else passed
    rows = progress_rows(workspace, passed, release)
    lines = ["<table><tr><th>#</th><th>segment</th><th>what it teaches</th><th>your points</th></tr>"]
    for row in rows:
        segment, points = row["segment"], row["points"]
        name = html.escape(segment.title)
        href = html.escape(urllib.parse.quote(row["copy"].name)) if row["copy"] else ""
        link = f'<a href="{href}">{name}</a>' if row["copy"] else f"{name} (coming soon)"
        if row["outdated"]:
            link += "<br><b>A newer version is available</b> (see below)."
        if points is None:
            done = "-"
        else:
            done = f'<b>{_points(row["earned"])} / {_points(points.total)} points</b>'
            done += f'<br>{row["passed"]} of {row["exercises"]} exercises right'
            if points.manual:
                done += f" · {_points(points.manual)} points graded by your instructor"
            mastered, skills = row["mastery"]
            if skills:
                done += f"<br>{mastered} of {skills} skills mastered (your numbers and one fresh set)"
        lines.append(f"<tr><td>{segment.number}</td><td>{link}</td><td>{html.escape(segment.teaches)}</td>"
                     f"<td>{done}</td></tr>")
    lines.append("</table>")
    outdated = [row["segment"] for row in rows if row["outdated"]]
    if outdated:
        names = ", ".join(f"{s.number} ({html.escape(s.assignment)})" for s in outdated)
        lines.append(f"<p><b>Course update:</b> a newer version of segment {names} is available. "
                     f"Run <code>{UPDATE_COMMAND}</code> in a terminal, or run this cell and click "
                     "<i>Put the new versions beside my copies</i>. The new version opens beside your copy, "
                     "with your answers copied in; nothing of yours is overwritten.</p>")
    return "\n".join(lines)


def show_progress(workspace: str | Path = ".", release: str | Path = RELEASE) -> None:
    """Display the progress table, and a button that applies pending course updates (the start page's cell)."""
    from IPython.display import HTML, display

    workspace, release = Path(workspace), Path(release)
    display(HTML(progress_html(workspace, release=release)))
    if outdated_segments(workspace, release):
        import ipywidgets as widgets

        button = widgets.Button(description="Put the new versions beside my copies", button_style="info",
                                layout=widgets.Layout(width="auto"))
        report = widgets.HTML()
        button.add_class("course-update")

        def apply(_):
            button.disabled = True
            done = update(workspace, release)
            report.value = "<br>".join(html.escape(describe(u)).replace("\n", "<br>") for u in done) + \
                ("<br>Run this cell again to refresh the table." if done else "Nothing to update.")

        button.on_click(apply)
        display(widgets.VBox([button, report]))


def start_page(workspace: Path, release: Path = RELEASE) -> dict:
    """The start notebook, with the progress table stored as output so it shows before any cell runs."""
    intro = (
        "# The economics of LLM inference\n\n"
        "Welcome. This course follows Reiner Pope's blackboard lecture (Dwarkesh Podcast) in seven segments. "
        "Each notebook below is **your own copy**: answer in it, move the sliders, and run each exercise's "
        "check cell to see at once whether you are right (and a hint if not). Updating the course never "
        "overwrites your copies: a newer version is put beside yours, with your answers copied in.\n\n"
        "The table counts **points**, as the grader does: for each segment, the points of the exercises that "
        "were right at your last check. Run the cell below to refresh it.\n\n"
        "Some exercises give **you your own numbers** (the grader grades yours). Under each of them, *practise "
        "again* draws fresh numbers; a skill counts as **mastered** once you have it right on your own numbers "
        "and on at least one fresh set.\n\n"
        "At the end of each segment, **Check my notebook against the grader** runs the full check (the "
        "grader's hidden tests) and shows your points per exercise, never the answers. Flashcards for each "
        "segment are at the end of its notebook; `python -m course.flashcards export` exports them all for "
        "Anki into this folder."
    )
    table = progress_html(workspace, release=release)
    call = "show_progress()" if Path(release).resolve() == RELEASE.resolve() else \
        f"show_progress(release={str(Path(release).resolve())!r})"  # a workspace made from another release/
    cells = [
        {"cell_type": "markdown", "id": "intro", "metadata": {}, "source": intro},
        {"cell_type": "code", "id": "progress", "metadata": {}, "execution_count": None,
         "source": f"from course.workspace import show_progress\n{call}",
         "outputs": [{"output_type": "display_data", "metadata": {},
                      "data": {"text/html": table, "text/plain": "Segments and progress"}}]},
    ]
    return {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)",
                                                        "language": "python", "name": "python3"},
                                         "language_info": python_language_info()},
            "nbformat": 4, "nbformat_minor": 5}


def write_start_page(workspace: Path, release: Path = RELEASE) -> Path:
    """(Re)write START.ipynb, which belongs to the course."""
    path = workspace / START_PAGE
    path.write_text(json.dumps(start_page(workspace, release), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def prepare(workspace: Path, release: Path = RELEASE) -> list[Path]:
    """Create the workspace if needed, copy new notebooks, rewrite the start page; return new copies."""
    created = copy_new_notebooks(workspace, release)
    write_start_page(workspace, release)
    return created


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m course.workspace [update] [DIR]`` (DIR defaults to ``my-work``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    updating = argv[:1] == ["update"]
    parser = argparse.ArgumentParser(prog="python -m course.workspace" + (" update" if updating else ""),
                                     description=__doc__.splitlines()[0])
    parser.add_argument("workspace", type=Path, nargs="?", default=REPO / "my-work")
    parser.add_argument("--workspace", dest="workspace_option", type=Path, help="same as the positional DIR")
    args = parser.parse_args(argv[1:] if updating else argv)
    workspace = args.workspace_option or args.workspace
    if not updating:
        for path in prepare(workspace):
            print(f"created your copy {path}")
        return 0
    if not workspace.is_dir():
        print(f"no workspace at {workspace}: run `make lab` first", file=sys.stderr)
        return 1
    done = update(workspace)
    for item in done:
        print(describe(item))
    if not done:
        print("your copies are up to date")
    write_start_page(workspace)
    return 0


if __name__ == "__main__":
    sys.exit(main())
