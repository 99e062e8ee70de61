"""The command line: ``python -m autograder <command> ...`` (see autograder/README.md)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from autograder import statuses
from autograder.sandbox.pool import Limits

MIB = 1024 * 1024


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder",
                                     description="Grade a cohort's notebooks safely and fast (built on nbgrader).")
    commands = parser.add_subparsers(dest="command", required=True)

    init = commands.add_parser("init", help="create a cohort folder (an nbgrader course directory)")
    init.add_argument("cohort", type=Path)
    init.add_argument("--course-source", type=Path, help="the course's source/ (default: this repository's)")
    init.add_argument("--db-url", help="nbgrader db_url, e.g. postgresql://user@host/db with the password in "
                      "PGPASSFILE or PGPASSWORD (default: SQLite in the cohort folder)")
    init.add_argument("--course-id", help="nbgrader course id (default: llm-inference-economics-<folder name>)")
    init.add_argument("--variant-salt", metavar="SALT",
                      help="the course salt of exercise families (kept in COHORT/variant-salt, mode 0600); "
                      "see also the `salt` command")

    salt = commands.add_parser("salt", help="show or set the cohort's exercise-variant salt (instructor only)")
    salt.add_argument("cohort", type=Path)
    salt.add_argument("value", nargs="?", help="the salt to set (default: show the current one)")
    salt.add_argument("--generate", action="store_true", help="set a new random salt")
    salt.add_argument("--replace", action="store_true",
                      help="allow replacing an existing salt (every student's numbers change)")

    variant = commands.add_parser("variant", help="print a student's own exercise numbers and expected answers "
                                                  "(instructor only)")
    variant.add_argument("cohort", type=Path)
    variant.add_argument("student")
    variant.add_argument("assignment")

    roster = commands.add_parser("roster", help="import students from a CSV file")
    roster.add_argument("cohort", type=Path)
    roster.add_argument("csv", type=Path)

    collect = commands.add_parser("collect", help="take submissions from a folder or a zip")
    collect.add_argument("cohort", type=Path)
    collect.add_argument("assignment")
    collect.add_argument("path", type=Path)

    grade = commands.add_parser("grade", help="autograde every collected submission of an assignment")
    grade.add_argument("cohort", type=Path)
    grade.add_argument("assignment")
    grade.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, help="parallel sandboxes")
    grade.add_argument("--force", action="store_true", help="regrade even unchanged submissions")
    grade.add_argument("--student", action="append", dest="students", help="grade only this student (repeatable)")
    grade.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="grade on this Dask distributed cluster (its workers need the course and bubblewrap)")
    _limit_options(grade)

    feedback = commands.add_parser("feedback", help="write per-student HTML feedback")
    feedback.add_argument("cohort", type=Path)
    feedback.add_argument("assignment")

    export = commands.add_parser("export", help="write grades.csv: one row per student and assignment")
    export.add_argument("cohort", type=Path)
    export.add_argument("csv", type=Path)
    export.add_argument("--assignment", help="only this assignment")

    check = commands.add_parser("check", help="check your own notebook against the hidden tests")
    check.add_argument("notebook", type=Path)
    check.add_argument("--assignment", help="default: guessed from the file name or its cells")
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    _limit_options(check)
    return parser


def _limit_options(parser: argparse.ArgumentParser) -> None:
    defaults = Limits()
    parser.add_argument("--timeout", type=float, default=defaults.timeout_s,
                        help=f"seconds for a whole notebook (default {defaults.timeout_s:g})")
    parser.add_argument("--memory-mb", type=int, default=defaults.memory_bytes // MIB,
                        help=f"address-space limit per notebook (default {defaults.memory_bytes // MIB})")
    parser.add_argument("--output-mb", type=int, default=defaults.output_bytes // MIB,
                        help=f"output limit per notebook (default {defaults.output_bytes // MIB})")
    parser.add_argument("--max-processes", type=int, default=defaults.max_tasks,
                        help=f"processes + threads per notebook (default {defaults.max_tasks})")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run WITHOUT bubblewrap isolation: only for notebooks you trust")


def _limits(args) -> Limits:
    return Limits(timeout_s=args.timeout, memory_bytes=args.memory_mb * MIB, output_bytes=args.output_mb * MIB,
                  max_tasks=args.max_processes)


def _isolation(args) -> bool:
    from autograder.sandbox.bwrap import find_bwrap

    if args.no_sandbox:
        print("WARNING: --no-sandbox: notebooks run without isolation; use only for code you trust.",
              file=sys.stderr)
        return False
    find_bwrap()
    return True


def main(argv: list[str] | None = None) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from autograder.cluster import ClusterError
    from autograder.cohort import CohortError
    from autograder.collect import CollectError
    from autograder.families import SaltError
    from autograder.database import DatabaseError, redact
    from autograder.feedback import FeedbackLeak
    from autograder.roster import RosterError
    from autograder.sandbox.bwrap import SandboxUnavailable
    from autograder.spec import SpecError

    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (ClusterError, CohortError, CollectError, DatabaseError, FeedbackLeak, RosterError, SandboxUnavailable,
            SaltError, SpecError, FileNotFoundError, ValueError, SQLAlchemyError) as error:
        if getattr(args, "json", False):
            print(json.dumps({"error": redact(str(error))}))
        print(f"error: {redact(str(error), _db_url_of(args))}", file=sys.stderr)
        return 2


def _db_url_of(args) -> str | None:
    """The db_url the command works with, so that its password can be kept out of every message."""
    if getattr(args, "db_url", None):
        return args.db_url
    try:
        from autograder.cohort import open_cohort

        return open_cohort(args.cohort).db_url if getattr(args, "cohort", None) else None
    except Exception:  # only for redaction: a cohort that cannot be opened holds no URL to hide
        return None


def cmd_init(args) -> int:
    from autograder.cohort import CONFIG_NAME, init_cohort
    from autograder.database import redact, url_password
    from autograder.families import valid_salt, write_salt

    if args.variant_salt is not None:
        valid_salt(args.variant_salt)  # before anything is written
    cohort = init_cohort(args.cohort, args.course_source, args.db_url, args.course_id)
    if args.variant_salt is not None:
        write_salt(cohort.root, args.variant_salt)
    print(f"cohort ready in {cohort.root} (course {cohort.course_id}; gradebook: {redact(cohort.db_url)}; "
          f"assignments: {', '.join(cohort.assignments()) or 'none yet'})")
    if args.variant_salt is not None:
        print(f"variant salt kept in {cohort.root / 'variant-salt'} (mode 0600); {SALT_ADVICE}")
    if url_password(cohort.db_url):
        print(f"note: the database password is stored in {cohort.root / CONFIG_NAME} (readable by you only); "
              "prefer a URL without it and PGPASSFILE or PGPASSWORD", file=sys.stderr)
    return 0


def cmd_roster(args) -> int:
    from autograder.cohort import open_cohort
    from autograder.roster import import_roster

    report = import_roster(open_cohort(args.cohort), args.csv)
    print(f"imported {len(report.imported)} students from {args.csv}")
    for line, problem in report.problems:
        print(f"  {args.csv}:{line}: not imported: {problem}")
    return 1 if report.problems else 0


def cmd_collect(args) -> int:
    from autograder.cohort import open_cohort
    from autograder.collect import collect
    from autograder.roster import roster_keys

    cohort = open_cohort(args.cohort)
    keys = roster_keys(cohort)
    if not keys:
        print("error: the roster is empty: import students first (`python -m autograder roster COHORT roster.csv`)",
              file=sys.stderr)
        return 2
    report = collect(cohort, args.assignment, args.path, keys)
    print(f"collected {args.path} for {args.assignment}: {report.count('stored')} new, "
          f"{report.count('replaced')} replaced, {report.count('unchanged')} unchanged, "
          f"{len(report.unmatched)} unmatched, {report.count('skipped')} skipped")
    print(f"  original input kept in {report.archive}")
    for row in report.unmatched:
        print(f"  {statuses.UNMATCHED_FILE}: {row['file']}: {row['detail']}")
    print(f"  report: {report.report_file}")
    return 1 if report.unmatched else 0


def cmd_grade(args) -> int:
    from autograder.cohort import open_cohort
    from autograder.grade import grade_assignment

    if args.scheduler and not args.no_sandbox:
        isolated = True  # bubblewrap is needed on the workers, not here
    else:
        isolated = _isolation(args)  # first: say at once when bubblewrap is missing
    report = grade_assignment(open_cohort(args.cohort), args.assignment, args.jobs, _limits(args), args.force,
                              isolated, args.students, scheduler=args.scheduler)
    rate = report.graded / report.seconds if report.seconds else 0.0
    print(f"{args.assignment}: graded {report.graded}, unchanged {report.skipped} "
          f"({report.seconds:.1f} s, {rate:.1f} submissions/s)")
    for status, count in sorted(report.statuses.items()):
        print(f"  {status}: {count}")
    return 0


def cmd_feedback(args) -> int:
    from autograder.cohort import open_cohort
    from autograder.feedback import write_feedback

    written = write_feedback(open_cohort(args.cohort), args.assignment)
    print(f"wrote {len(written)} feedback files under {Path(args.cohort) / 'feedback'}")
    return 0


def cmd_export(args) -> int:
    from autograder.cohort import open_cohort
    from autograder.export import export_csv

    count = export_csv(open_cohort(args.cohort), args.csv, args.assignment)
    print(f"wrote {count} rows to {args.csv}")
    return 0


def cmd_check(args) -> int:
    from autograder.check import check_notebook, dumps_summary

    if args.no_sandbox:
        isolated = False
    else:
        from autograder.sandbox.bwrap import SandboxUnavailable, find_bwrap

        try:
            find_bwrap()
            isolated = True
        except SandboxUnavailable:
            if not args.json:
                print("note: bubblewrap is not installed; your notebook runs without a sandbox.", file=sys.stderr)
            isolated = False
    result = check_notebook(args.notebook, args.assignment, isolated=isolated, limits=_limits(args))
    if args.json:
        print(dumps_summary(result))
        return 0
    print(f"{result.notebook}: {result.score:g}/{result.max_score:g} points ({result.status})")
    if result.message:
        print(f"  {result.message}")
    for exercise in result.exercises:
        mark = "✓" if exercise.passed and exercise.score == exercise.max_score else "✗"
        print(f"  {mark} {exercise.grade_id}: {exercise.score:g}/{exercise.max_score:g}"
              + (f"  {exercise.message}" if exercise.message else ""))
    for grade_id in result.manual:
        print(f"  … {grade_id}: graded by your instructor")
    return 0


SALT_ADVICE = ("give the learners' kernels the same salt (e.g. the hub's environment: "
               "c.Spawner.environment = {'COURSE_VARIANT_SALT': '...'}), so their notebooks show the numbers "
               "the grader grades")


def cmd_salt(args) -> int:
    from autograder.cohort import open_cohort
    from autograder.families import SALT_ENV, SALT_FILE, read_salt, write_salt

    cohort = open_cohort(args.cohort)
    if args.value is None and not args.generate:
        current = read_salt(cohort.root)
        if not current:
            print(f"no variant salt set in {cohort.root}: every student's numbers follow from their public id "
                  f"(set one with `python -m autograder salt {cohort.root} --generate`)")
        else:
            print(f"{SALT_ENV}={current}")
            print(f"({cohort.root / SALT_FILE}; {SALT_ADVICE})")
        return 0
    if args.value is not None and args.generate:
        raise ValueError("give a salt or --generate, not both")
    salt = write_salt(cohort.root, None if args.generate else args.value, args.replace)
    print(f"variant salt set in {cohort.root / SALT_FILE} (mode 0600): {SALT_ENV}={salt}")
    print(f"{SALT_ADVICE}; grade regrades every submission with the new salt")
    return 0


def cmd_variant(args) -> int:
    from autograder.cohort import open_cohort
    from autograder.families import is_family, own_variant, read_salt
    from autograder.judge import exercise_calls

    cohort = open_cohort(args.cohort)
    with cohort.gradebook() as gradebook:
        roster = {s.id for s in gradebook.students}
    if args.student not in roster:
        raise ValueError(f"{args.student!r} is not on the roster of {cohort.root} ({len(roster)} students): check "
                         "the id, or import it with `python -m autograder roster`")
    assignment = cohort.assignment(args.assignment)
    salt = read_salt(cohort.root)
    print(f"{args.assignment}, student {args.student} ({'cohort salt' if salt else 'no salt: public ids'}):")
    shown = 0
    for notebook in assignment.notebooks:
        for test in notebook.tests:
            for exercise, _method, _variable in exercise_calls(test.source, test.imports) or ():
                if not is_family(exercise):
                    continue
                variant = own_variant(exercise, args.student, salt)  # once per test cell (check and check_value)
                params = ", ".join(f"{k}={v!r}" for k, v in variant["params"].items())
                print(f"\n{test.grade_id} (family {variant['family']}): {variant['variable']} = "
                      f"{variant['expected']:.6g} {variant['unit']}")
                print(f"  parameters: {params}")
                print(f"  statement: {variant['statement']}")
                shown += 1
                break
    if not shown:
        print("  (no exercise family in this assignment: every student has the same numbers)")
    return 0


COMMANDS = {"init": cmd_init, "salt": cmd_salt, "variant": cmd_variant, "roster": cmd_roster, "collect": cmd_collect, "grade": cmd_grade,
            "feedback": cmd_feedback, "export": cmd_export, "check": cmd_check}
