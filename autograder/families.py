"""Exercise families in a cohort: the course salt, whose variant an answer fits, and a student's own numbers.

An exercise family (``course.variants.Family``) draws each student's numbers from a hash of
the course salt, the student's id and the family. The cohort keeps its salt in a file of its
own, ``COHORT/variant-salt`` (mode 0600); grading passes it to the sandbox
(``COURSE_VARIANT_SALT``, so the notebook shows the student's numbers) and to the judge.

A family answer that is wrong for the graded student but right for another roster
student's variant is a copied answer: ``copied_from`` names those students (for the
instructor only). It looks them up in an index of every roster student's expected value,
built once per family and run, so a cohort of 100,000 costs one pass, not one per answer.
"""

from __future__ import annotations

import bisect
import math
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from autograder.durable import atomic_write

SALT_FILE = "variant-salt"
"""The cohort's course salt, readable by the instructor only."""
SALT_ENV = "COURSE_VARIANT_SALT"
"""The environment variable ``course.variants`` reads the salt from (in the sandbox and on the hub)."""
MAX_SALT_CHARS = 256


class SaltError(ValueError):
    """A salt that cannot be used, or one that would replace the cohort's salt by accident."""


@dataclass(frozen=True)
class VariantContext:
    """What judging a family needs beyond the answer: the cohort's salt and its roster (plain data).

    Attributes:
        salt: the course salt ("" when the instructor set none: variants then follow from public ids).
        roster: every roster student id, to recognise answers copied from another student's variant
            (empty: no such check, e.g. a learner's own ``check``).
    """

    salt: str = ""
    roster: tuple[str, ...] = ()
    _index: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    def expected_values(self, family) -> tuple[list[float], list[str]]:
        """Every roster student's expected value for ``family``, sorted, with the students in the same order."""
        if family.key not in self._index:
            pairs = sorted((float(family.answer(family.params(student, salt=self.salt))), student)
                           for student in self.roster)
            self._index[family.key] = ([v for v, _ in pairs], [s for _, s in pairs])
        return self._index[family.key]


def is_family(exercise) -> bool:
    """Whether ``exercise`` is an exercise family (a variant per learner)."""
    from course.variants import Family

    return isinstance(exercise, Family)


def copied_from(family, value, student: str, context: VariantContext) -> tuple[str, ...]:
    """The other roster students whose own variant ``value`` answers (``Family.answers_variant_of``).

    Only students whose expected value lies within the family's tolerance of ``value`` are
    asked (found by bisection in ``context``'s index); ``answers_variant_of`` decides.
    """
    if not context.roster or isinstance(value, bool) or not isinstance(value, (int, float)):
        return ()
    number = float(value)
    if not math.isfinite(number) or number == 0:
        return ()
    values, students = context.expected_values(family)
    tolerance = float(family.rel_tol)
    if tolerance >= 1:
        candidates = [s for s in students if s != student]
    else:
        # |number - e| <= tol * |e| implies e lies between number / (1 + tol) and number / (1 - tol)
        low, high = sorted((number / (1 + tolerance), number / (1 - tolerance)))
        low, high = low - 1e-9 * abs(low), high + 1e-9 * abs(high)  # rounding never drops a candidate
        candidates = [s for s in students[bisect.bisect_left(values, low):bisect.bisect_right(values, high)]
                      if s != student]
    return tuple(sorted(family.answers_variant_of(value, candidates, salt=context.salt)))


def own_variant(family, student: str, salt: str) -> dict:
    """A student's own variant of ``family``: parameters, statement and expected answer (instructor only)."""
    params = family.params(student, salt=salt)
    return {"family": family.key, "variable": family.variable, "unit": family.unit, "params": params,
            "statement": family.render(params), "expected": float(family.answer(params))}


# --------------------------------------------------------------------------- the cohort's salt

def valid_salt(salt: str) -> str:
    """``salt`` if usable (1-256 printable characters, no spaces); SaltError saying what to change otherwise."""
    if not isinstance(salt, str) or not salt or len(salt) > MAX_SALT_CHARS or not salt.isprintable() or any(
            c.isspace() for c in salt):
        raise SaltError(f"a variant salt must be 1-{MAX_SALT_CHARS} printable characters without spaces; "
                        "or use --generate for a random one")
    return salt


def read_salt(root: Path) -> str:
    """The salt kept in cohort ``root`` ("" when none was set)."""
    path = Path(root) / SALT_FILE
    if not path.is_file():
        return ""
    return path.read_text(encoding="utf-8").strip()


def write_salt(root: Path, salt: str | None, replace: bool = False) -> str:
    """Keep ``salt`` (a random one when None) in cohort ``root``, mode 0600; return it.

    Refuses to change an existing different salt unless ``replace``: a new salt gives every
    student new numbers, so notebooks already answered would no longer match.
    """
    salt = valid_salt(salt) if salt is not None else secrets.token_urlsafe(24)
    current = read_salt(root)
    if current and current != salt and not replace:
        raise SaltError(f"{Path(root) / SALT_FILE} already holds a salt; a new one gives every student new numbers "
                        "(answers already written would be graded as wrong): pass --replace if you mean it")
    atomic_write(Path(root) / SALT_FILE, (salt + "\n").encode("utf-8"), 0o600)
    return salt
