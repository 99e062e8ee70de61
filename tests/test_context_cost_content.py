"""Segment 6's lesson content: the decode ramp against the OUTPUT price tiers, prefill against the input tiers,
the lecture's decode MFU 1/5 derived, the new exercises and families, each against its source."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from course.models import context_cost, prefill
from course.presets import chips, prices
from course.segments.context_cost import checks
from course.segments.context_cost.view import context_cost_view

NOTEBOOK = Path(__file__).resolve().parent.parent / "source" / "06-api-pricing" / "06-api-pricing.ipynb"
LEARNERS = [f"student{i:02d}" for i in range(40)]
LLAMA_PAIR = 2 * 64 * (128 + 128) * 80  # Llama-3-70B config: heads x (d_qk + d_v) x layers, x2 FLOPs
LLAMA_N = 70.6e9


def _markdown() -> str:
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def test_output_tiers_are_the_published_prices():
    """facts.md: Gemini 2.5 Pro $10 -> $15, Claude Sonnet $15 -> $22.50, Gemini 1.5 Pro $5 -> $10 per M output."""
    steps = {t.model: t.output_long / t.output_short for t in prices.PRICE_TIERS.values()}
    assert steps == pytest.approx({"Gemini 2.5 Pro": 15 / 10, "Claude Sonnet 4/4.5 (1M context)": 22.5 / 15,
                                   "Gemini 1.5 Pro": 10 / 5})


def test_notebook_compares_the_ramp_with_the_output_steps():
    text = _markdown()
    assert "$10 → $15" in text and "$15 → $22.50" in text and "$5 → $10" in text
    assert "Compare your answer with the published **output** step" in text
    assert "published input step above 200K" not in text


def test_relative_cost_names_both_price_steps():
    with pytest.raises(AssertionError, match="output price step"):
        checks.RELATIVE_COST_1M.check_value(22.5 / 15)
    with pytest.raises(AssertionError, match="input price step"):
        checks.RELATIVE_COST_1M.check_value(6 / 3)


def test_attention_doubling_lengths():
    """4 N / a: Llama-3-70B 4 x 70.6e9 / 2,621,440 = 107,727; DeepSeek-V3 4 x 37e9 / (2 x 128 x 320 x 61)."""
    from course.presets import llms

    assert prefill.attention_flops_per_query_key(llms.LLAMA_3_70B) == LLAMA_PAIR
    assert prefill.attention_doubling_length(LLAMA_N, LLAMA_PAIR) == pytest.approx(107_727, abs=1)
    a = prefill.attention_flops_per_query_key(llms.DEEPSEEK_V3)
    assert prefill.attention_doubling_length(37e9, a) == pytest.approx(4 * 37e9 / (2 * 128 * 320 * 61))


def test_ttft_ratio_is_more_than_linear():
    def flops(length):
        return 2 * LLAMA_N * length + LLAMA_PAIR * length * (length + 1) / 2

    assert checks.TTFT_RATIO.expected() == pytest.approx(flops(131_072) / flops(8_192))
    assert 16 < checks.TTFT_RATIO.expected() < 256
    with pytest.raises(AssertionError, match="leaves out attention"):
        checks.TTFT_RATIO.check_value(16.0)
    with pytest.raises(AssertionError, match="attention alone"):
        checks.TTFT_RATIO.check_value(256.0)


def test_input_cost_mistakes():
    with pytest.raises(AssertionError, match="left out attention"):
        checks.LLAMA_INPUT_COST.check_value(2 * LLAMA_N / 1.979e15 * 2 / 3600 * 1e6)
    with pytest.raises(AssertionError, match="bf16"):
        checks.LLAMA_INPUT_COST.check_value(checks.LLAMA_INPUT_COST.expected() * 1.979e15 / 989e12)


def test_decode_fifth_is_a_fifth_of_the_critical_batch_and_deepseeks_ratio():
    """facts.md: DeepSeek 14.8k / 73.7k = 0.20; decoding at B*/5 gives MFU 1/5 of a compute-bound prefill."""
    assert prefill.throughput_mfu_ratio(14.8e3, 73.7e3) == pytest.approx(0.2008, abs=1e-4)
    assert float(prefill.decode_mfu_below_critical(5_357 / 5, 5_357)) == pytest.approx(0.2)


def test_implied_kv_family_against_hand_arithmetic():
    """At the crossover N / F = ctx kv / BW, so kv = N / (balance x ctx), balance = F / BW as the statement
    gives it (one multiply-add per parameter against one byte); thresholds in thousands of tokens."""
    balances = set()
    for learner in [f"student{i:03d}" for i in range(200)]:
        p = checks.MY_IMPLIED_KV.params(learner)
        statement = checks.MY_IMPLIED_KV.render(p)
        assert f"**{p['kink_k']}K tokens**" in statement and f"**{p['active_b']}B parameters**" in statement
        assert f"**{p['balance']} FLOPs per byte**" in statement
        hand = p["active_b"] * 1e9 / (p["balance"] * p["kink_k"] * 1e3)
        assert checks.MY_IMPLIED_KV.verdict(hand, learner=learner) is None, p
        assert checks.MY_IMPLIED_KV.verdict(2 * hand, learner=learner) is not None, p
        assert "left out the machine balance" in checks.MY_IMPLIED_KV.verdict(hand * p["balance"], learner=learner)
        balances.add(p["balance"])
    assert len(balances) > 3  # the balance is drawn, not the lecture's 300 every time


def test_prefill_cost_family_against_hand_arithmetic():
    """(2N + a (L+1)/2) / F_fp8 seconds per token, x price per hour / 3600, x 1e6 tokens."""
    for learner in LEARNERS:
        p = checks.MY_PREFILL_COST.params(learner)
        length = p["prompt_k"] * 1024
        flops = 2 * p["active_b"] * 1e9 + p["attention_mflop"] * 1e6 * (length + 1) / 2
        expected = flops / (p["fp8_pflops"] * 1e15) * p["price"] / 3600 * 1e6
        assert checks.MY_PREFILL_COST.answer(p) == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("exercise", [checks.DECODE_MFU_REASON, checks.INPUT_STEP_ARGUMENT],
                         ids=lambda e: e.variable)
def test_right_option_is_not_the_longest(exercise):
    lengths = {letter: len(text) for letter, text in exercise.options.items()}
    assert lengths[exercise.correct] < max(lengths.values())
    assert max(lengths.values()) <= 1.25 * min(lengths.values())


def test_explorer_draws_the_prefill_ramp():
    """The view's input-token curve is 1 + a (L+1) / (4N) over the grid and at the selected context."""
    view = context_cost_view(context_tokens=200_000, active_params=100e9, kv_bytes_per_token=1_667,
                             chip=chips.H100_SXM, attention_flops_per_pair=LLAMA_PAIR)
    assert np.allclose(view.prefill_relative, 1 + LLAMA_PAIR * (view.context + 1) / (4 * 100e9))
    assert view.current_prefill_relative == pytest.approx(1 + LLAMA_PAIR * 200_001 / 4e11)
    assert view.attention_doubling_tokens == pytest.approx(4e11 / LLAMA_PAIR)
    assert view.relative_top >= 1.2 * view.prefill_relative.max() or view.relative_top == 20
