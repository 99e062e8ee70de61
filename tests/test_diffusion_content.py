"""Segment 7's lesson content: the Strict Avalanche Criterion reality check, the new exercises and families, each
against its source (Webster and Tavares 1985; Sheppard's formula; the Feistel dependence worked by hand)."""

from __future__ import annotations

import math

import pytest

from course.flashcards import CARDS
from course.models import diffusion
from course.segments.diffusion import checks

LEARNERS = [f"student{i:02d}" for i in range(40)]


def test_sha256_entries_spread_like_coin_tosses():
    """SAC (facts.md): every entry 1/2; with 16 messages an entry's noise is sqrt(0.25/16) = 0.125."""
    matrix = diffusion.sha256_avalanche_matrix(diffusion.sample_messages())
    assert diffusion.binomial_standard_error(0.5, 16) == pytest.approx(0.125)
    assert matrix.std() == pytest.approx(0.125, rel=0.03)


def test_toy_cipher_passes_the_course_test_before_sac():
    """At its first full-diffusion round the toy's entries still spread more than 256-sample noise (1/32);
    a round later they do not (within 5%)."""
    first = diffusion.rounds_to_full_diffusion()
    matrices = diffusion.cipher_avalanche_by_round(first + 1)
    noise = math.sqrt(0.25 / 256)
    assert matrices[first].std() > 1.2 * noise
    assert matrices[first + 1].std() < 1.05 * noise


def test_width_change_is_about_one_over_root_two():
    expected = math.acos(126 / 128) / math.acos(62 / 64)
    assert checks.ONE_LAYER_WIDTH_CHANGE.expected() == pytest.approx(expected)
    assert abs(expected - 1 / math.sqrt(2)) < 0.01
    with pytest.raises(AssertionError, match="1/sqrt"):
        checks.ONE_LAYER_WIDTH_CHANGE.check_value(0.5)


def test_layer_flips_family_against_sheppard():
    """Flipping k of n +-1 inputs changes the sum by 2 w_i x_i for each: z and z' have correlation (n - 2k) / n,
    and by Sheppard's formula each output sign flips with probability arccos(rho) / pi; n outputs.
    Adding k single flips is the slip, harmless for k = 1; near k = 10 it also equals the answer times pi
    (sqrt(k) ~ pi for small angles), where the 'left out pi' hint, listed first, answers it."""
    flipped, slips = set(), 0
    for learner in [f"student{i:03d}" for i in range(200)]:
        p = checks.MY_LAYER_FLIPS.params(learner)
        n, k = p["width"], p["flipped"]
        statement = checks.MY_LAYER_FLIPS.render(p)
        assert f"width **{n}**" in statement and f"**{k}** of them flip sign at once" in statement
        assert 1 <= k <= n / 4
        hand = n * math.acos((n - 2 * k) / n) / math.pi
        assert checks.MY_LAYER_FLIPS.verdict(hand, learner=learner) is None, p
        added = k * n * math.acos((n - 2) / n) / math.pi
        tol = checks.MY_LAYER_FLIPS.rel_tol
        if abs(added - hand) > tol * hand and abs(added - math.pi * hand) > tol * math.pi * hand:
            assert "do not add up" in checks.MY_LAYER_FLIPS.verdict(added, learner=learner), p
            slips += 1
        flipped.add(k)
    assert len(flipped) > 5 and slips > 100


def test_unreached_pairs_family_against_hand_count():
    """After 1 round 3h^2 - 2h pairs have no path, after 2 rounds h^2 - h (worked in the notebook's section 2)."""
    for learner in LEARNERS:
        p = checks.MY_UNREACHED.params(learner)
        h = p["block_bits"] // 2
        assert checks.MY_UNREACHED.answer(p) == (3 * h * h - 2 * h if p["rounds"] == 1 else h * h - h)


@pytest.mark.parametrize("exercise", [checks.WHY_NOT_FULL_AVALANCHE, checks.SAC_ARGUMENT], ids=lambda e: e.variable)
def test_right_option_is_not_the_longest(exercise):
    lengths = {letter: len(text) for letter, text in exercise.options.items()}
    assert lengths[exercise.correct] < max(lengths.values())
    assert max(lengths.values()) <= 1.25 * min(lengths.values())


def test_sac_card():
    card = next(c for c in CARDS if c.key == "07-sac")
    assert "Webster and Tavares" in card.answer and "1/2" in card.answer
