"""Segment 5's lesson content: the two readings of the decode penalty κ, the new exercises and families, the
reality check against DeepSeek's serving throughput, and the notebook's symbols, each against its source."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from course.flashcards import CARDS
from course.segments.compute_budget import checks
from course.segments.compute_budget.view import compute_budget_view

NOTEBOOK = Path(__file__).resolve().parent.parent / "source" / "05-rl-overtraining" / "05-rl-overtraining.ipynb"
SECONDS_PER_DAY = 86_400
LEARNERS = [f"student{i:02d}" for i in range(40)]


def _markdown() -> str:
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def test_lecture_reading_gives_one_and_a_half():
    """facts.md: 6 D_pre = 9 D_RL (r = 3, κ = 3 on all RL FLOPs), so D_pre = 1.5 D_RL."""
    assert checks.PRETRAIN_OVER_RL_TOKENS.expected() == pytest.approx(9 / 6)


def test_decode_only_reading_gives_seven_sixths():
    """κ on the 2 decoded FLOPs only: 2 x 3 + (3 - 2) = 7 per parameter per RL token, so D_pre = 7/6 D_RL."""
    assert checks.PRETRAIN_OVER_RL_DECODE_ONLY.expected() == pytest.approx(7 / 6)
    with pytest.raises(AssertionError, match="lecture's reading"):
        checks.PRETRAIN_OVER_RL_DECODE_ONLY.check_value(1.5)
    with pytest.raises(AssertionError, match="dropped the r - 2"):
        checks.PRETRAIN_OVER_RL_DECODE_ONLY.check_value(1.0)


def test_overtraining_change_is_kappa_over_n():
    """Over-training = D_inf κ / 3 / (20 N): κ 3 -> 2 and N 100B -> 25B multiply it by (2/3) x 4."""
    assert checks.OVERTRAINING_CHANGE.expected() == pytest.approx(2 / 3 * 4)
    with pytest.raises(AssertionError, match="kept κ"):
        checks.OVERTRAINING_CHANGE.check_value(4.0)
    with pytest.raises(AssertionError, match="kept the model size"):
        checks.OVERTRAINING_CHANGE.check_value(2 / 3)
    with pytest.raises(AssertionError, match="wrong way"):
        checks.OVERTRAINING_CHANGE.check_value(6.0)


def test_penalty_argument_choice():
    checks.PENALTY_ARGUMENT.check_value("c")
    for letter in "abd":
        with pytest.raises(AssertionError, match="not this one"):
            checks.PENALTY_ARGUMENT.check_value(letter)


@pytest.mark.parametrize("exercise", [checks.BACKWARD_FLOPS_REASON, checks.PENALTY_ARGUMENT],
                         ids=lambda e: e.variable)
def test_right_option_is_not_the_longest(exercise):
    lengths = {letter: len(text) for letter, text in exercise.options.items()}
    assert lengths[exercise.correct] < max(lengths.values())
    assert max(lengths.values()) <= 1.25 * min(lengths.values())


def test_rl_tokens_family_against_hand_arithmetic():
    """Lecture's reading: r κ D_RL = 2 κ D_inf, so D_RL = 2 D_inf / r whatever κ is."""
    for learner in LEARNERS:
        p = checks.MY_RL_TOKENS.params(learner)
        served = p["rate_m"] * 1e6 * p["days"] * SECONDS_PER_DAY
        assert checks.MY_RL_TOKENS.answer(p) == pytest.approx(2 * served / p["r"])


def test_overtraining_family_against_hand_arithmetic():
    """κ = 3: D_pre = D_inf, so the factor is D_inf / (20 N)."""
    for learner in LEARNERS:
        p = checks.MY_OVERTRAINING.params(learner)
        served = p["rate_m"] * 1e6 * p["days"] * SECONDS_PER_DAY
        assert checks.MY_OVERTRAINING.answer(p) == pytest.approx(served / (20 * p["active_b"] * 1e9))


def test_family_models_are_the_presets():
    """The named models carry their published active parameters (DeepSeek-V3 37B, Llama-3-70B 70.6B)."""
    sizes = dict(checks.FAMILY_MODELS)
    assert sizes["DeepSeek-V3"] == pytest.approx(37) and sizes["Llama-3-70B"] == pytest.approx(70.6)


def test_deepseek_kappa_and_its_overtraining():
    """facts.md: 73.7k input vs 14.8k output tokens/s per H800 node: κ = 4.98; 259.2T x 4.98 / 3 / 2T = 215x."""
    from course.models import compute_budget as cb
    from course.models import prefill

    kappa = 1 / prefill.throughput_mfu_ratio(prefill.DEEPSEEK_DECODE_TOKENS_PER_S_PER_NODE,
                                             prefill.DEEPSEEK_PREFILL_TOKENS_PER_S_PER_NODE)
    assert kappa == pytest.approx(73.7 / 14.8)
    factor = cb.overtraining_factor(cb.optimal_pretrain_tokens(2.592e14, kappa), 100e9)
    assert factor == pytest.approx(2.592e14 * (73.7 / 14.8) / 3 / 2e12)
    assert round(factor, 1) == 215.1


def test_penalty_menu_moves_only_the_rl_tokens():
    common = dict(tokens_per_s=50e6, days=60, active_params=100e9, rl_flops_per_param_token=3, inefficiency=3)
    lecture = compute_budget_view(**common, penalty_on="all")
    decode = compute_budget_view(**common, penalty_on="decode")
    assert lecture.optimum.pretrain_tokens == decode.optimum.pretrain_tokens
    assert lecture.current_overtraining == decode.current_overtraining
    assert lecture.optimum.pretrain_tokens / lecture.optimum.rl_tokens == pytest.approx(1.5)
    assert decode.optimum.pretrain_tokens / decode.optimum.rl_tokens == pytest.approx(7 / 6)


def test_notebook_uses_kappa_and_says_which_reading():
    """η appears only where the text points at segment 4's efficiency; the exercises' reading is stated."""
    text = _markdown()
    assert "\\kappa" in text
    for match in re.finditer(r"\\eta|η", text):
        assert "egment 4" in text[max(0, match.start() - 20):match.start()], text[match.start() - 80:match.end()]
    assert "use the lecture's reading" in text and "(2\\kappa + r - 2)" in text


def test_flashcard_gives_both_readings():
    card = next(c for c in CARDS if c.key == "05-optimum")
    assert "7}{6}" in card.answer and "kappa" in card.answer
