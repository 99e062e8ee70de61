"""Exercise families: whose numbers, stable seeds, judging against the right variant, practice and mastery."""

from __future__ import annotations

import subprocess
import sys

import pytest

from course import variants
from course.exercise import AnswerError, Mistake

CHIPS = {"H100": (989e12, 3.35e12), "B200": (2.25e15, 8e12), "TPU v5e": (197e12, 0.82e12)}


def _draw(rng):
    chip = rng.choice(sorted(CHIPS))
    return {"chip": chip, "active_share": rng.choice([2, 4, 8, 16, 32])}


def _answer(params):
    flops, bandwidth = CHIPS[params["chip"]]
    return flops / bandwidth * params["active_share"]


SAMPLE = variants.Family(
    key="test-critical-batch",
    variable="critical_batch",
    unit="sequences",
    draw=_draw,
    statement="On a **{chip}**, a model uses 1/{active_share} of its weights per token. Critical batch?",
    answer=_answer,
    mistakes=lambda p: (Mistake(lambda e: e / p["active_share"] ** 2, "You multiplied by the active share."),),
    magnitude=(1, 1e7),
)


@pytest.fixture(autouse=True)
def clean_identity(monkeypatch, tmp_path):
    for name in (variants.LEARNER_ENV, variants.HUB_USER_ENV, variants.SALT_ENV, variants.WORKSPACE_ENV,
                 variants.PROGRESS_ENV, "NBGRADER_EXECUTION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_same_learner_same_numbers_and_learners_differ():
    learners = [f"student{i:02d}" for i in range(40)]
    drawn = {learner: SAMPLE.params(learner) for learner in learners}
    assert all(SAMPLE.params(learner) == drawn[learner] for learner in learners)
    assert len({tuple(sorted(p.items())) for p in drawn.values()}) > 5  # 15 combinations: many distinct


def test_seed_is_a_fixed_function_of_its_inputs():
    """A stable hash, not Python's salted hash(): the same on every machine and run."""
    import hashlib

    text = "\x1f".join(("salt", "ada", "k", "0")).encode()
    assert variants.seed("k", "ada", 0, salt="salt") == int.from_bytes(hashlib.sha256(text).digest()[:8], "big")
    assert variants.seed("k", "ada", 1, salt="salt") != variants.seed("k", "ada", 0, salt="salt")


def test_salt_changes_the_numbers(monkeypatch):
    learners = [f"s{i}" for i in range(30)]
    plain = [SAMPLE.params(learner, salt="") for learner in learners]
    salted = [SAMPLE.params(learner, salt="spring-2027-secret") for learner in learners]
    assert plain != salted
    monkeypatch.setenv(variants.SALT_ENV, "spring-2027-secret")
    assert [SAMPLE.params(learner) for learner in learners] == salted


def test_own_answer_passes_and_a_neighbours_is_caught():
    ada, bob = "ada", next(f"bob{i}" for i in range(100) if SAMPLE.params(f"bob{i}") != SAMPLE.params("ada"))
    right_for_ada = _answer(SAMPLE.params("ada"))
    assert SAMPLE.verdict(right_for_ada, learner=ada) is None
    assert SAMPLE.verdict(right_for_ada, learner=bob) is not None
    assert SAMPLE.answers_variant_of(right_for_ada, [bob, ada]) == [ada]


def test_mistake_hints_follow_each_variant():
    for i in range(30):
        params = SAMPLE.params(f"learner{i}")
        wrong = _answer(params) / params["active_share"] ** 2
        assert "multiplied by the active share" in SAMPLE.verdict(wrong, learner=f"learner{i}")


def test_hidden_test_grades_the_learner_the_grader_names(monkeypatch):
    monkeypatch.setenv(variants.LEARNER_ENV, "ada")
    SAMPLE.check_value(_answer(SAMPLE.params("ada")))
    monkeypatch.setenv(variants.LEARNER_ENV, "zed")
    if SAMPLE.params("zed") != SAMPLE.params("ada"):
        with pytest.raises(AnswerError):
            SAMPLE.check_value(_answer(SAMPLE.params("ada")))


def test_learner_id_order(monkeypatch, tmp_path):
    workspace = tmp_path / "my-work"
    created = variants.learner_id(workspace)
    assert created.startswith("learner-") and variants.learner_id(workspace) == created  # kept
    monkeypatch.setenv(variants.HUB_USER_ENV, "hubuser")
    assert variants.learner_id(workspace) == "hubuser"
    autograded = tmp_path / "autograded" / "stud7" / "01-batch-size"
    autograded.mkdir(parents=True)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert variants.learner_id(workspace, cwd=autograded) == "stud7"
    monkeypatch.setenv(variants.LEARNER_ENV, "roster-id-3")
    assert variants.learner_id(workspace, cwd=autograded) == "roster-id-3"


def test_no_workspace_means_anonymous():
    assert variants.learner_id() == variants.ANONYMOUS


def test_set_id_once_from_the_command_line(tmp_path):
    workspace = tmp_path / "w"
    run = [sys.executable, "-m", "course.variants", "--workspace", str(workspace)]
    first = subprocess.run([*run, "set-id", "ada.l"], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert subprocess.run([*run, "show-id"], capture_output=True, text=True).stdout.strip() == "ada.l"
    again = subprocess.run([*run, "set-id", "someone-else"], capture_output=True, text=True)
    assert again.returncode == 2 and "changes your numbers" in again.stderr
    bad = subprocess.run([*run, "--workspace", str(tmp_path / "v"), "set-id", "has space"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "no spaces" in bad.stderr


def test_mastery_needs_own_variant_and_a_fresh_one(tmp_path):
    key = SAMPLE.key
    variants.record_practice(key, 0, True, tmp_path)
    assert not variants.mastered(key, False, variants.practice_log(tmp_path))
    variants.record_practice(key, 3, False, tmp_path)  # a wrong practice answer counts for nothing
    assert not variants.mastered(key, False, variants.practice_log(tmp_path))
    variants.record_practice(key, 2, True, tmp_path)
    assert variants.mastered(key, False, variants.practice_log(tmp_path))


def test_practice_draws_fresh_numbers_and_keeps_the_graded_variant(monkeypatch):
    monkeypatch.setenv(variants.LEARNER_ENV, "ada")
    assert SAMPLE.params() == SAMPLE.params("ada", 0)
    assert any(SAMPLE.params("ada", attempt) != SAMPLE.params("ada", 0) for attempt in range(1, 6))


def _registered_families():
    from course.segments import all_segments

    return [pytest.param(f, id=f.key) for s in all_segments() for f in variants.families(s.module("checks"))]


LEARNERS = [f"learner{i:03d}" for i in range(60)]


@pytest.mark.parametrize("family", _registered_families())
def test_every_variant_is_sensible_and_its_answer_passes(family):
    """Over many learners: the expected value is finite, inside the sensible range, and accepted."""
    import math

    for learner in LEARNERS:
        params = family.params(learner)
        expected = float(family.answer(params))
        assert math.isfinite(expected) and expected > 0, (learner, params)
        if family.magnitude:
            assert family.magnitude[0] <= expected <= family.magnitude[1], (learner, params, expected)
        assert family.verdict(expected, learner=learner) is None, (learner, params)
        assert family.render(params).strip()


@pytest.mark.parametrize("family", _registered_families())
def test_every_variant_names_its_mistakes_without_the_answer(family):
    """Each listed mistake reaches its own hint on every variant, and no message shows the answer."""
    for learner in LEARNERS:
        params = family.params(learner)
        expected = float(family.answer(params))
        for mistake in family.mistakes(params):
            wrong = float(mistake.wrong(expected))
            if abs(wrong - expected) <= family.rel_tol * abs(expected):
                continue  # this variant makes the slip harmless
            message = family.verdict(wrong, learner=learner)
            assert message is not None, (learner, params)
            for shown in (f"{expected:g}", f"{expected:,.0f}", f"{expected:.3g}"):
                if len(shown) > 2:
                    assert shown not in message, (learner, message)


COHORT = [f"s{i}" for i in range(1000)]
"""Learner ids for counting how many different answers a family hands out."""

MIN_DISTINCT_ANSWERS = 150
"""Distinct expected answers every family must give over ``COHORT`` (issue 12: copying must not pay)."""


@pytest.mark.parametrize("family", _registered_families())
def test_two_learners_get_different_numbers(family):
    """Copying a neighbour's answer does not work: over 1,000 ids a family gives at least 150 different answers.

    Distinct parameters are not enough (several draws can share an answer), so count the answers
    themselves, to 6 significant digits; in a cohort of 30 few students then share one.
    """
    answers = {float(f"{float(family.answer(family.params(learner))):.6g}") for learner in COHORT}
    assert len(answers) >= MIN_DISTINCT_ANSWERS, (
        f"{family.key}: {len(answers)} distinct answers over {len(COHORT)} learners, want {MIN_DISTINCT_ANSWERS}")


@pytest.mark.parametrize("family", [f for f in _registered_families() if f.values[0].magnitude])
def test_sensible_range_holds_half_and_twice_every_answer(family):
    """A slip by a factor of 2 either way gets its mistake hint, not 'far outside the sensible range':
    over 1,000 ids the family's magnitude holds 0.5x and 2x of every answer."""
    low, high = family.magnitude
    answers = [float(family.answer(family.params(learner))) for learner in COHORT]
    smallest, largest = min(answers), max(answers)
    assert low <= smallest / 2 and 2 * largest <= high, (
        f"{family.key}: magnitude {family.magnitude} must hold {smallest / 2:g} to {2 * largest:g}")


def test_start_page_counts_mastery(tmp_path):
    """START shows, per segment with families, how many skills are mastered (own numbers + a fresh set)."""
    from course import workspace as ws
    from course.segments import all_segments

    segment = next(s for s in all_segments() if variants.families(s.module("checks")))
    family = variants.families(segment.module("checks"))[0]
    assert ws.mastery(tmp_path, segment, {})[0] == 0
    variants.record_practice(family.key, 1, True, tmp_path)
    assert ws.mastery(tmp_path, segment, {family.variable: True}) == (1, len(variants.families(segment.module("checks"))))
    assert "1 of" in ws.progress_html(tmp_path, {family.variable: True}) and "skills mastered" in \
        ws.progress_html(tmp_path, {family.variable: True})


def test_every_segment_has_at_least_two_families_shown_in_its_notebook():
    """Issue 12: two family exercises per segment, each shown (show()) and checked in the notebook."""
    import json

    from course.segments import all_segments
    from tests.notebooks import source_notebook

    for segment in all_segments():
        found = variants.families(segment.module("checks"))
        assert len(found) >= 2, f"{segment.assignment}: {len(found)} families"
        text = json.dumps(json.loads(source_notebook(segment.assignment).read_text())["cells"])
        names = {name for name, value in vars(segment.module("checks")).items() if value in found}
        for name in names:
            assert f"checks.{name}.show()" in text and f"checks.{name}.check(" in text, (segment.assignment, name)


def test_two_slips_that_land_on_the_same_number_both_get_named():
    """When two listed mistakes give the same value on a variant, the verdict names both."""
    from course.segments.diffusion import checks

    family = checks.MY_LAYER_FLIPS
    for i in range(2000):
        learner = f"s{i}"
        params = family.params(learner)
        expected = float(family.answer(params))
        slips = [float(m.wrong(expected)) for m in family.mistakes(params)]
        if params["flipped"] > 1 and abs(slips[1] - slips[3]) <= family.rel_tol * abs(slips[1]) \
                and abs(slips[1] - expected) > family.rel_tol * expected:
            message = family.verdict(slips[3], learner=learner)
            assert "division by pi" in message and "do not add up" in message, message
            return
    pytest.skip("no variant where the two slips coincide")
