"""Throughput of the cohort autograder against stock ``nbgrader autograde``, on the same machine, in one run.

Builds a synthetic cohort of segment-1 submissions (a seeded mix of right, wrong and
broken notebooks; exercise families answered with each student's own variant, and a few
students handing in another student's numbers), grades
it with stock nbgrader in a temporary nbgrader course directory and with
``python -m autograder grade`` (sandbox on) in a temporary cohort, checks that both give
the same score to every honest submission (right or wrong, nothing broken), and prints
submissions per second for each and the ratio.

With ``--scheduler`` it also grades the same cohort on a Dask cluster started here on
127.0.0.1 (a scheduler and 1, then 2, single-threaded workers), or on the cluster at
``--scheduler tcp://HOST:PORT``, and prints those rates beside the others, with the
measured cost per submission and what it implies for 100,000 submissions.

With ``--family-overhead`` it measures instead what exercise families cost the autograder:
the same cohort graded with the segment as it is and with its family exercises removed
(their statement, answer and test cells: the fixed cells only), alternating the two
``--rounds`` times in one run, and prints both rates and the loss.

    .venv/bin/python benchmarks/grading.py [--submissions 100] [--jobs N] [--scheduler [ADDRESS]] [--keep]
    .venv/bin/python benchmarks/grading.py --family-overhead [--rounds 3]

Takes a few minutes on 2 cores (stock nbgrader needs ~1 s or more per submission).
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder.cohort import init_cohort, register_assignment  # noqa: E402
from autograder.course import course_source_root  # noqa: E402
from autograder.spec import load_assignment  # noqa: E402
from autograder.families import is_family  # noqa: E402
from autograder.spec import nbgrader_meta  # noqa: E402
from autograder.tests.builders import exercise_of, learner_notebook, right_value, wrong_value  # noqa: E402

ASSIGNMENT = "01-batch-size"
MIX = (("right", 0.40), ("wrong", 0.25), ("mixed", 0.15), ("copied", 0.05), ("broken", 0.15))
BROKEN_KINDS = ("exception", "syntax", "blank", "not_json", "empty")


def env_with_venv_bin() -> dict:
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def synthetic_cohort(count: int, seed: int, source: Path | None = None) -> dict[str, tuple[str, bytes]]:
    """student -> (kind, notebook bytes) for ``count`` segment-1 submissions (of the notebook in ``source``)."""
    spec = load_assignment(source or course_source_root(), ASSIGNMENT).notebooks[0]
    exercises = [exercise_of(t.source) for t in spec.tests]
    rng = random.Random(seed)
    kinds = [k for k, share in MIX for _ in range(round(share * count))]
    kinds = (kinds + ["right"] * count)[:count]
    rng.shuffle(kinds)
    cohort = {}
    for number, kind in enumerate(kinds):
        student = f"student{number:03d}"
        answers = {}
        for exercise, variable in exercises:
            good = kind in ("right", "copied") or (kind == "mixed" and rng.random() < 0.5)
            whose = f"student{(number + 1) % count:03d}" if kind == "copied" else student  # a neighbour's numbers
            answers[variable] = f"{variable} = {(right_value if good else wrong_value)(exercise, whose)!r}"
        if kind == "broken":
            broken = BROKEN_KINDS[number % len(BROKEN_KINDS)]
            if broken == "not_json":
                cohort[student] = (kind, b'{"cells": [')
                continue
            if broken == "empty":
                cohort[student] = (kind, b"")
                continue
            first = exercises[0][1]
            answers[first] = {"exception": f"{first} = 1 / 0", "syntax": f"{first} = (",
                              "blank": f"{first} = None"}[broken]
        notebook = learner_notebook(spec, answers, solution="blank")
        cohort[student] = (kind, json.dumps(notebook, indent=1).encode())
    return cohort


def run_stock(work: Path, cohort: dict[str, tuple[str, bytes]]) -> tuple[float, dict[str, float]]:
    """Grade with ``nbgrader autograde``; return (seconds, student -> score)."""
    course = work / "stock"
    shutil.copytree(course_source_root() / ASSIGNMENT, course / "source" / ASSIGNMENT)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'benchmark'\nc.Execute.timeout = 60\n")
    nbgrader = [sys.executable, "-m", "nbgrader"]
    subprocess.run(nbgrader + ["generate_assignment", ASSIGNMENT, "--force"], cwd=course, check=True,
                   capture_output=True, env=env_with_venv_bin())
    for student, (_, data) in cohort.items():
        target = course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_bytes(data)
    started = time.monotonic()
    result = subprocess.run(nbgrader + ["autograde", ASSIGNMENT, "--create", "--force"], cwd=course,
                            capture_output=True, text=True, env=env_with_venv_bin())
    seconds = time.monotonic() - started
    if result.returncode != 0:
        print("note: nbgrader autograde exited", result.returncode, "(it does for unreadable notebooks)")
    from nbgrader.api import Gradebook, MissingEntry

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "benchmark") as gradebook:
        for student in cohort:
            try:
                scores[student] = float(gradebook.find_submission(ASSIGNMENT, student).score)
            except MissingEntry:
                scores[student] = float("nan")
    return seconds, scores


def run_autograder(work: Path, cohort: dict[str, tuple[str, bytes]], jobs: int,
                   scheduler: str | None = None, name: str = "cohort",
                   source: Path | None = None) -> tuple[float, dict[str, float]]:
    """Grade with ``python -m autograder grade`` (sandboxed, locally or on ``scheduler``), every student on the
    roster (so copied family answers are looked for); (seconds, student -> score)."""
    root = work / name
    handle = init_cohort(root, source)
    register_assignment(handle, ASSIGNMENT)
    with handle.gradebook() as gradebook:
        for student in cohort:
            gradebook.update_or_create_student(student)
    for student, (_, data) in cohort.items():
        target = handle.submitted(student, ASSIGNMENT) / f"{ASSIGNMENT}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_bytes(data)
    started = time.monotonic()
    where = ["--scheduler", scheduler] if scheduler else ["--jobs", str(jobs)]
    subprocess.run([sys.executable, "-m", "autograder", "grade", str(root), ASSIGNMENT, *where],
                   cwd=REPO, check=True, env=env_with_venv_bin())
    seconds = time.monotonic() - started
    from autograder.records import stored_results

    with handle.gradebook() as gradebook:
        rows = stored_results(gradebook, ASSIGNMENT)
    return seconds, {student: float(rows[(ASSIGNMENT, student)]["score"]) for student in cohort}


def without_families(target: Path) -> Path:
    """A copy of the course's source/ of ``ASSIGNMENT`` with every family exercise's cells removed; its root."""
    import importlib
    import re

    notebook_path = course_source_root() / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    notebook = json.loads(notebook_path.read_text(encoding="utf-8"))
    spec = load_assignment(course_source_root(), ASSIGNMENT).notebooks[0]
    module = next(importlib.import_module(m.group(1) + ".checks") for t in spec.tests
                  if (m := re.search(r"from (course\.segments\.\w+) import checks", t.source)))
    names = {name for name in dir(module) if is_family(getattr(module, name))}
    family_cell = re.compile(r"checks\.(" + "|".join(sorted(names)) + r")\b")
    kept = [c for c in notebook["cells"]
            if not (nbgrader_meta(c) and family_cell.search("".join(c["source"]) if isinstance(c["source"], list)
                                                            else c["source"]))]
    removed = len(notebook["cells"]) - len(kept)
    folder = target / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / notebook_path.name).write_text(json.dumps(dict(notebook, cells=kept), indent=1), encoding="utf-8")
    print(f"fixed-only source: {removed} family cells of {sorted(names)} removed from {ASSIGNMENT}")
    return target


def family_overhead(args) -> int:
    """Grade one cohort with and without the family exercises, alternating; print both rates and the loss."""
    work = Path(tempfile.mkdtemp(prefix="grading-families-"))
    try:
        fixed_source = without_families(work / "fixed-course" / "source")  # cohorts must lie outside its folder
        cohorts = {"with families": (synthetic_cohort(args.submissions, args.seed), None),
                   "fixed cells only": (synthetic_cohort(args.submissions, args.seed, fixed_source), fixed_source)}
        times = {label: [] for label in cohorts}
        for round_ in range(args.rounds):
            for label, (cohort, source) in cohorts.items():
                name = f"cohort-{'families' if source is None else 'fixed'}-{round_}"
                seconds, scores = run_autograder(work, cohort, args.jobs, None, name, source)
                times[label].append(seconds)
                print(f"round {round_ + 1}, {label}: {seconds:.1f} s, {len(cohort) / seconds:.2f} submissions/s")
                if label == "with families":
                    copied = [s for s, (kind, _) in cohort.items() if kind == "copied"]
                    print(f"  copied submissions: {len(copied)}, scores {sorted(scores[s] for s in copied)}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    best = {label: min(values) for label, values in times.items()}
    rate = {label: args.submissions / seconds for label, seconds in best.items()}
    loss = 1 - rate["with families"] / rate["fixed cells only"]
    print(f"side by side (best of {args.rounds}) [submissions/s]: with families {rate['with families']:.2f}, "
          f"fixed cells only {rate['fixed cells only']:.2f}; throughput loss from families: {100 * loss:.1f}%")
    return 0 if loss <= 0.10 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=100, help="cohort size (default 100)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="autograder sandboxes in parallel")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    parser.add_argument("--scheduler", nargs="?", const="local", metavar="tcp://HOST:PORT",
                        help="also grade on a Dask cluster: 1 and 2 local workers, or the cluster at this address")
    parser.add_argument("--family-overhead", action="store_true",
                        help="only measure what exercise families cost the autograder (with vs without them)")
    parser.add_argument("--rounds", type=int, default=3, help="alternations for --family-overhead (default 3)")
    args = parser.parse_args()
    if args.family_overhead:
        return family_overhead(args)
    cohort = synthetic_cohort(args.submissions, args.seed)
    counts = {kind: sum(1 for k, _ in cohort.values() if k == kind) for kind, _ in MIX}
    print(f"synthetic cohort: {len(cohort)} submissions of {ASSIGNMENT} {counts}; {os.cpu_count()} CPUs")
    work = Path(tempfile.mkdtemp(prefix="grading-benchmark-"))
    try:
        stock_s, stock = run_stock(work, cohort)
        print(f"stock nbgrader autograde: {stock_s:.1f} s, {len(cohort) / stock_s:.2f} submissions/s")
        ours_s, ours = run_autograder(work, cohort, args.jobs)
        print(f"autograder grade (sandboxed, --jobs {args.jobs}): {ours_s:.1f} s, "
              f"{len(cohort) / ours_s:.2f} submissions/s")
        clusters = run_clusters(work, cohort, args.scheduler, ours) if args.scheduler else []
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    honest = [s for s, (kind, _) in cohort.items() if kind != "broken"]
    different = [(s, stock[s], ours[s]) for s in honest if stock[s] != ours[s]]
    print(f"honest submissions: {len(honest)}, same score in both: {len(honest) - len(different)}")
    for student, theirs, mine in different:
        print(f"  DIFFERENT {student} ({cohort[student][0]}): nbgrader {theirs:g}, autograder {mine:g}")
    print(f"speed-up: {stock_s / ours_s:.1f}x ({len(cohort) / ours_s:.2f} vs {len(cohort) / stock_s:.2f} "
          "submissions/s)")
    cores = os.cpu_count() or 1
    per_submission = min([ours_s] + [seconds for _, seconds, _ in clusters]) * cores / len(cohort)
    print(f"side by side [submissions/s]: stock {len(cohort) / stock_s:.2f}, local pool {len(cohort) / ours_s:.2f}"
          + "".join(f", {label} {len(cohort) / seconds:.2f}" for label, seconds, _ in clusters))
    print(f"cost per submission: {per_submission:.3f} core-seconds (best batch time x {cores} cores / submissions, "
          f"start-up included); 100,000 submissions: {100_000 * per_submission / 3600:.1f} core-hours, e.g. "
          f"{100_000 * per_submission / 3600 / 32:.1f} h on 32 single-core Dask workers")
    mismatched = [label for label, _, same in clusters if not same]
    for label in mismatched:
        print(f"  DIFFERENT scores between the local pool and {label}")
    return 1 if different or mismatched else 0


def run_clusters(work: Path, cohort: dict[str, tuple[str, bytes]], scheduler: str,
                 local: dict[str, float]) -> list[tuple[str, float, bool]]:
    """Grade on Dask: (label, seconds, same scores as the local pool) for 1 and 2 local workers, or ``scheduler``."""
    from autograder.tests.services import start_dask

    if scheduler != "local":
        seconds, scores = run_autograder(work, cohort, 0, scheduler, "cohort-cluster")
        print(f"autograder grade --scheduler {scheduler}: {seconds:.1f} s, {len(cohort) / seconds:.2f} submissions/s")
        return [(f"cluster at {scheduler}", seconds, scores == local)]
    measured = []
    for workers in (1, 2):
        cluster = start_dask(workers)
        try:
            seconds, scores = run_autograder(work, cohort, 0, cluster.address, f"cohort-dask-{workers}")
        finally:
            cluster.stop()
        label = f"Dask {workers} worker{'s' * (workers > 1)}"
        print(f"autograder grade --scheduler ({label} x 1 thread on this machine): {seconds:.1f} s, "
              f"{len(cohort) / seconds:.2f} submissions/s")
        measured.append((label, seconds, scores == local))
    return measured


if __name__ == "__main__":
    sys.exit(main())
