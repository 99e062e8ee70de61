"""Segment 6: cost per token vs context, what price steps imply, decode vs prefill MFU, load vs recompute.

Expected figures come from the seed flashcards (01:33:02) and shared/reference/facts.md, written out as the
sources' own arithmetic, never read back from the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest

from course.segments.context_cost import checks
from course.exercise import AnswerError
from course.models import context_cost, kv_cache, roofline
from course.presets import chips, llms, prices
from course.segments.context_cost.explorer import context_cost_explorer
from course.segments.context_cost.view import CONTEXT_GRID, RELATIVE_TOPS, context_cost_view

# facts.md figures used below
H100_BF16, H100_FP8, H100_BW = 989e12, 1.979e15, 3.35e12
DEEPSEEK_ACTIVE, DEEPSEEK_KV = 37e9, 70_272
LLAMA_ACTIVE, LLAMA_KV_BF16 = 70.6e9, 2 * 8 * 128 * 80 * 2  # scaling-book: 2 x 8 x 128 x 80 values per token, 2 bytes in bf16
SCALE_OUT_BW = 50e9


# ---------------------------------------------------------------- the model

def test_lecture_implied_kv_is_1667_bytes():
    """Seed: (1/300) x N_active / len_ctx with 100B and 200K gives ~1.7 KB; facts.md: 1,667 B."""
    implied = context_cost.implied_kv_bytes_per_token(100e9, 200e3)
    assert implied == pytest.approx(1_667, abs=0.5)
    assert implied == pytest.approx(1.7e3, rel=0.02)


def test_crossover_and_implied_kv_are_inverse():
    """A price kink at the crossover gives back the KV size that placed it there."""
    crossover = context_cost.crossover_context(37e9, 70_272)
    assert context_cost.implied_kv_bytes_per_token(37e9, crossover) == pytest.approx(70_272)


def test_deepseek_crossover_from_its_published_kv():
    """facts.md: DeepSeek-V3 caches 70,272 B/token with 37B active; at 300 the crossover is 37e9/(300*70,272)."""
    kv = kv_cache.kv_bytes_per_token(llms.DEEPSEEK_V3)
    assert kv == DEEPSEEK_KV
    crossover = context_cost.crossover_context(llms.DEEPSEEK_V3.active_params, kv)
    assert crossover == pytest.approx(DEEPSEEK_ACTIVE / (300 * DEEPSEEK_KV))
    assert 1_700 < crossover < 1_800  # "below 2K tokens" in the recap


def test_deepseek_kv_is_about_forty_times_the_implied():
    """Notebook: DeepSeek-V3 caches 42x the 1,667 B/token a 200K kink implies for 100B active."""
    ratio = DEEPSEEK_KV / context_cost.implied_kv_bytes_per_token(100e9, 200e3)
    assert round(ratio) == round(DEEPSEEK_KV / (100e9 / (300 * 200e3))) == 42


def test_deepseek_average_context_is_past_its_crossover():
    """facts.md: DeepSeek's serving has an average KV length of 4,989; that is 2.8x the crossover."""
    assert context_cost.DEEPSEEK_AVERAGE_KV_TOKENS == 4_989
    crossover = context_cost.crossover_context(DEEPSEEK_ACTIVE, DEEPSEEK_KV)
    assert 4_989 / crossover == pytest.approx(4_989 * 300 * DEEPSEEK_KV / DEEPSEEK_ACTIVE)
    assert f"{4_989 / crossover:.1f}" == "2.8"


def test_cost_is_flat_then_linear():
    """Seed: flat in context while compute-bound; linear once the KV cache dominates."""
    crossover = context_cost.crossover_context(100e9, 1_667)
    context = np.array([0.01, 0.5, 1.0, 2.0, 5.0]) * crossover
    relative = context_cost.relative_cost_per_token(context, 100e9, 1_667)
    assert np.allclose(relative, [1, 1, 1, 2, 5])
    assert np.allclose(context_cost.decode_mfu_at_context(context, 100e9, 1_667), [1, 1, 1, 0.5, 0.2])


def test_relative_cost_at_1m_for_the_lecture_model():
    """Exercise 3's scenario: with the crossover at 200K, a 1M context costs 1e6 / 200e3 = 5x the floor."""
    kv = context_cost.implied_kv_bytes_per_token(100e9, 200e3)
    assert float(context_cost.relative_cost_per_token(1e6, 100e9, kv)) == pytest.approx(5.0)


def test_chip_balance_in_multiply_adds_per_byte():
    """facts.md: H100 989e12/3.35e12 = 295, B200 2.25e15/8e12 = 281 (bf16 = fp8 multiply-adds); TPUs serve in bf16."""
    expected = {
        "h100": H100_BF16 / H100_BW,
        "h200": 989e12 / 4.8e12,
        "b200": 2.25e15 / 8e12,
        "tpu-v5e": 197e12 / 2 / 0.82e12,
        "tpu-v5p": 459e12 / 2 / 2.8e12,
    }
    for key, value in expected.items():
        assert context_cost.multiply_adds_per_byte(chips.CHIPS[key]) == pytest.approx(value, rel=1e-3), key
    assert context_cost.multiply_adds_per_byte(chips.H100_SXM) == pytest.approx(295, abs=0.5)
    assert context_cost.multiply_adds_per_byte(chips.B200) == pytest.approx(281, abs=0.5)
    assert round(context_cost.multiply_adds_per_byte(chips.GB200_NVL72_GPU)) == 312  # 720/2 PFLOP/s fp8 / 2 / 576 TB/s


def test_fp8_serving_reproduces_the_lecture_formula():
    """The lecture's kv = N/(300 ctx) with 300 = bf16 FLOP/s / bandwidth is exact for fp8 serving on the course's roofline."""
    on_chip = context_cost.crossover_context_on_chip(100e9, 1_667, chips.H100_SXM, roofline.FP8)
    lecture_form = context_cost.crossover_context(100e9, 1_667, H100_BF16 / H100_BW)
    assert on_chip == pytest.approx(lecture_form, rel=1e-3)


def test_bf16_serving_doubles_the_crossover():
    """Half the multiply-adds per byte: the KV fetch catches up with compute at twice the context."""
    fp8 = context_cost.crossover_context_on_chip(37e9, 70_272, chips.H100_SXM, roofline.FP8)
    bf16 = context_cost.crossover_context_on_chip(37e9, 70_272, chips.H100_SXM, roofline.BF16)
    assert bf16 == pytest.approx(2 * fp8, rel=1e-3)  # datasheet fp8 is 1,979 vs 2 x 989 bf16


def test_compute_equals_kv_fetch_at_the_crossover():
    """On the roofline (real FLOP and byte counts), compute and KV time meet at the crossover."""
    crossover = context_cost.crossover_context_on_chip(37e9, 70_272, chips.H100_SXM)
    step = context_cost.large_batch_decode(crossover, active_params=37e9, kv_bytes_per_token=70_272,
                                           chip=chips.H100_SXM)
    assert float(step.compute_s) == pytest.approx(float(step.kv_s))
    assert float(step.compute_s) == pytest.approx(2 * 37e9 / H100_FP8)


def test_roofline_cost_ratio_matches_relative_cost():
    """Cost per token from the roofline, divided by its floor, is max(1, ctx / crossover)."""
    context = np.array([1e3, 1e5, 1e6])
    step = context_cost.large_batch_decode(context, active_params=100e9, kv_bytes_per_token=1_667,
                                           chip=chips.H100_SXM)
    cost = roofline.cost_per_million_tokens(step, 2.0)
    balance = context_cost.multiply_adds_per_byte(chips.H100_SXM)
    assert np.allclose(cost / cost.min(), context_cost.relative_cost_per_token(context, 100e9, 1_667, balance))


def test_load_vs_recompute_for_deepseek_at_100k():
    """Exercises 4-5: 100,000 x 70,272 B at 3.35 TB/s vs 100,000 x 2 x 37e9 FLOP at 1.979e15 FLOP/s."""
    load = context_cost.kv_load_time_s(100_000, DEEPSEEK_KV, H100_BW)
    recompute = context_cost.kv_recompute_time_s(100_000, DEEPSEEK_ACTIVE, H100_FP8)
    assert load == pytest.approx(100_000 * 70_272 / 3.35e12)
    assert recompute == pytest.approx(100_000 * 2 * 37e9 / 1.979e15)
    assert load == pytest.approx(2.1e-3, rel=0.01) and recompute == pytest.approx(3.74, rel=0.01)
    assert recompute / load == pytest.approx(
        context_cost.crossover_context_on_chip(DEEPSEEK_ACTIVE, DEEPSEEK_KV, chips.H100_SXM))


def test_load_vs_recompute_table_for_llama():
    """Notebook table: Llama-3-70B (327,680 B/token bf16) on H100 fp8; ratio = crossover = 729; network 10.9x."""
    kv = kv_cache.kv_bytes_per_token(llms.LLAMA_3_70B)
    assert kv == pytest.approx(LLAMA_KV_BF16)
    ratio = context_cost.recompute_to_load_ratio(LLAMA_ACTIVE, kv, H100_FP8, H100_BW)
    assert ratio == pytest.approx(2 * LLAMA_ACTIVE * H100_BW / (H100_FP8 * LLAMA_KV_BF16))
    assert round(ratio) == 729
    assert ratio == pytest.approx(context_cost.crossover_context_on_chip(LLAMA_ACTIVE, kv, chips.H100_SXM))
    network = context_cost.recompute_to_load_ratio(LLAMA_ACTIVE, kv, H100_FP8, chips.H100_SXM.scale_out_bandwidth)
    assert network == pytest.approx(2 * LLAMA_ACTIVE * SCALE_OUT_BW / (H100_FP8 * LLAMA_KV_BF16))
    assert f"{network:.1f}" == "10.9"
    assert context_cost.kv_load_time_s(131_072, kv, H100_BW) == pytest.approx(12.8e-3, abs=0.05e-3)
    assert context_cost.kv_recompute_time_s(131_072, LLAMA_ACTIVE, H100_FP8) == pytest.approx(9.35, abs=0.005)


@pytest.mark.parametrize("context, load_ms, network_s, recompute_s", [
    (8_192, 0.8, 0.05, 0.58), (131_072, 12.8, 0.86, 9.35), (1_048_576, 102.6, 6.87, 74.82)])
def test_llama_table_rows(context, load_ms, network_s, recompute_s):
    """Each printed row of the notebook's table equals the facts.md arithmetic, to its printed precision."""
    kv = kv_cache.kv_bytes_per_token(llms.LLAMA_3_70B)
    hbm = context_cost.kv_load_time_s(context, kv, chips.H100_SXM.hbm_bandwidth)
    network = context_cost.kv_load_time_s(context, kv, chips.H100_SXM.scale_out_bandwidth)
    recompute = context_cost.kv_recompute_time_s(context, LLAMA_ACTIVE, roofline.FP8.flops_per_s(chips.H100_SXM))
    assert hbm == pytest.approx(context * LLAMA_KV_BF16 / H100_BW)
    assert network == pytest.approx(context * LLAMA_KV_BF16 / SCALE_OUT_BW)
    assert recompute == pytest.approx(context * 2 * LLAMA_ACTIVE / H100_FP8)
    assert (f"{hbm * 1e3:.1f}", f"{network:.2f}", f"{recompute:.2f}") == (
        f"{load_ms:.1f}", f"{network_s:.2f}", f"{recompute_s:.2f}")


def test_recompute_at_lower_mfu_takes_longer():
    """Recomputing at a realistic MFU only widens the gap."""
    full = context_cost.kv_recompute_time_s(1e5, 37e9, H100_FP8)
    assert context_cost.kv_recompute_time_s(1e5, 37e9, H100_FP8, mfu=0.5) == pytest.approx(2 * full)


def test_pope_measured_mfu():
    """facts.md: Pope et al. prefill 76% vs decode 33% at B=512; low latency 43% vs 14%; lecture ~1/5."""
    assert context_cost.POPE_PREFILL_MFU_LARGE_BATCH == 0.76
    assert context_cost.POPE_DECODE_MFU_LARGE_BATCH == 0.33
    assert context_cost.POPE_PREFILL_MFU_LOW_LATENCY == 0.43
    assert context_cost.POPE_DECODE_MFU_LOW_LATENCY == 0.14
    assert context_cost.LECTURE_DECODE_TO_PREFILL_MFU == pytest.approx(1 / 5)
    large = context_cost.mfu_ratio(0.33, 0.76)
    low = context_cost.mfu_ratio(0.14, 0.43)
    assert f"{large:.2f}" == "0.43" and f"{low:.2f}" == "0.33"
    # facts.md: "measured 1/2 to 1/3", better than the lecture's 1/5
    assert 1 / 3 - 0.01 < low < large < 1 / 2
    assert low > context_cost.LECTURE_DECODE_TO_PREFILL_MFU


def test_published_price_steps():
    """facts.md price table: Gemini 2.5 Pro $1.25->$2.50 in, $10->$15 out above 200K; Gemini 1.5 Pro $1.25->$2.50,
    $5->$10 above 128K; Claude Sonnet $3->$6, $15->$22.50 above 200K. The threshold itself is billed short."""
    expected = {
        "gemini-2.5-pro": (200_000, 2.50 / 1.25, 15 / 10),
        "gemini-1.5-pro": (128_000, 2.50 / 1.25, 10 / 5),
        "claude-sonnet-4": (200_000, 6 / 3, 22.50 / 15),
    }
    for key, (threshold, input_step, output_step) in expected.items():
        tier = prices.PRICE_TIERS[key]
        context = np.array([1_000, threshold, threshold + 1, 2_000_000])
        assert np.allclose(context_cost.price_ratio(tier, context, "input"), [1, 1, input_step, input_step])
        assert np.allclose(context_cost.price_ratio(tier, context, "output"), [1, 1, output_step, output_step])
    with pytest.raises(ValueError):
        context_cost.price_ratio(prices.GEMINI_2_5_PRO, 1e6, "cached")


def test_kv_implied_by_each_tier():
    """With 100B active at 300: a 200K step implies 1,667 B/token, a 128K step 100e9/(300*128e3) = 2,604."""
    assert context_cost.tier_implied_kv_bytes_per_token(prices.GEMINI_2_5_PRO, 100e9) == pytest.approx(1_666.7, abs=0.1)
    assert context_cost.tier_implied_kv_bytes_per_token(prices.CLAUDE_SONNET_4, 100e9) == pytest.approx(1_666.7, abs=0.1)
    assert context_cost.tier_implied_kv_bytes_per_token(prices.GEMINI_1_5_PRO, 100e9) == pytest.approx(
        100e9 / (300 * 128e3))


# ---------------------------------------------------------------- the exercises

SOURCE_ANSWERS = {
    "implied_kv_bytes": 100e9 / (300 * 200e3),
    "deepseek_crossover_tokens": DEEPSEEK_ACTIVE / (300 * DEEPSEEK_KV),
    "relative_cost_1m": 1e6 / 200e3,
    "kv_load_time_s": 100_000 * DEEPSEEK_KV / H100_BW,
    "kv_recompute_time_s": 100_000 * 2 * DEEPSEEK_ACTIVE / H100_FP8,
    "pope_decode_to_prefill_mfu": 0.33 / 0.76,
    # Llama-3-70B (config: 64 heads x (128 + 128) x 80 layers x 2 = 2,621,440 FLOP per query-key pair, 70.6B):
    # FLOPs(L) = 2 N L + a L (L + 1) / 2, prompts of 8K and 128K tokens, $2 per H100-hour in fp8
    "ttft_ratio_128k_vs_8k": ((2 * 70.6e9 * 131_072 + 2_621_440 * 131_072 * 131_073 / 2)
                              / (2 * 70.6e9 * 8_192 + 2_621_440 * 8_192 * 8_193 / 2)),
    "llama_input_cost_128k": (2 * 70.6e9 + 2_621_440 * 131_073 / 2) / H100_FP8 * 2.0 / 3600 * 1e6,
}
NUMERIC = [e for e in checks.EXERCISES if hasattr(e, "expected")]


def test_every_numeric_exercise_is_checked_against_its_source():
    assert sorted(e.variable for e in NUMERIC) == sorted(SOURCE_ANSWERS)


@pytest.mark.parametrize("exercise", NUMERIC, ids=lambda e: e.variable)
def test_expected_values_match_the_sources(exercise):
    """Each exercise's expected value is the source's arithmetic, and it passes its own check."""
    assert exercise.expected() == pytest.approx(SOURCE_ANSWERS[exercise.variable], rel=1e-9)
    exercise.check_value(exercise.expected())
    exercise.check_value(np.float64(exercise.expected()))






@pytest.mark.parametrize("wrong, hint", [
    (671e9 / (300 * 70_272), "671B"),
    (37e9 / (300 * 512 * 61 * 2), "RoPE"),
    (37e9 / (300 * 576 * 2), "61 layers"),
    (37e9 / (300 * 1_666.67), "1.7 KB"),
])
def test_deepseek_crossover_slips(wrong, hint):
    with pytest.raises(AnswerError, match=hint):
        checks.DEEPSEEK_CROSSOVER_TOKENS.check_value(wrong)


def test_implied_kv_slips():
    """Dropping the 300, multiplying by it, or answering in KB each get their own hint."""
    exercise = checks.IMPLIED_KV_BYTES
    for wrong, hint in [(100e9 / 200e3, "machine balance"), (300 * 100e9 / 200e3, "instead of dividing"),
                        (100e9 / (300 * 200e3) / 1000, "factor of 1000"), (2 * 100e9 / (300 * 200e3), "300 already")]:
        with pytest.raises(AnswerError, match=hint):
            exercise.check_value(wrong)


def test_recompute_and_mfu_slips():
    with pytest.raises(AnswerError, match="671B"):
        checks.KV_RECOMPUTE_TIME_S.check_value(100_000 * 2 * 671e9 / H100_FP8)
    with pytest.raises(AnswerError, match="bf16"):
        checks.KV_RECOMPUTE_TIME_S.check_value(100_000 * 2 * 37e9 / H100_BF16)
    with pytest.raises(AnswerError, match="sparsity"):
        checks.KV_RECOMPUTE_TIME_S.check_value(100_000 * 37e9 / H100_FP8)
    with pytest.raises(AnswerError, match="low-latency"):
        checks.POPE_MFU_RATIO.check_value(0.14 / 0.43)
    with pytest.raises(AnswerError, match="percentage"):
        checks.POPE_MFU_RATIO.check_value(100 * 0.33 / 0.76)
    with pytest.raises(AnswerError, match="price step"):
        checks.RELATIVE_COST_1M.check_value(2.0)


def test_choice_exercise():
    exercise = checks.DECODE_MFU_REASON
    exercise.check_value("C")
    for letter in exercise.options:
        if letter != exercise.correct:
            with pytest.raises(AnswerError, match="not this one"):
                exercise.check_value(letter)
            assert letter in exercise.hints


# ---------------------------------------------------------------- plots and explorer

def test_curves_agree_with_the_model():
    """The plotted cost, ratio and crossover are the model's."""
    curves = context_cost_view(context_tokens=1e6, active_params=100e9, kv_bytes_per_token=1_667, chip=chips.H100_SXM)
    crossover = context_cost.crossover_context_on_chip(100e9, 1_667, chips.H100_SXM)
    assert curves.crossover_tokens == pytest.approx(crossover)
    assert curves.current_relative == pytest.approx(1e6 / crossover)
    assert np.allclose(curves.relative_cost, np.maximum(1, CONTEXT_GRID / crossover))
    floor = 2 * 100e9 / H100_FP8 * 2.0 / 3600 * 1e6  # chip-seconds per token x $/s x 1e6
    assert curves.compute_cost[0] == pytest.approx(floor)
    assert np.all(np.diff(curves.total_cost) >= 0)
    assert len(curves.price_steps) == len(prices.PRICE_TIERS)


def test_slider_move_updates_artists_in_place():
    """Moving the context slider keeps the figure and lines, moves the marker and re-renders."""
    explorer = context_cost_explorer()
    figure, lines = explorer.figure, [list(ax.lines) for ax in explorer.figure.axes]
    image_before, readout_before = explorer.image.value, explorer.readout.value
    explorer.controls["context_tokens"].value = 1e6
    assert explorer.figure is figure and [list(ax.lines) for ax in figure.axes] == lines
    assert explorer.image.value != image_before and explorer.readout.value != readout_before
    assert explorer.artists.cost_point.get_xdata()[0] == pytest.approx(1e6)
    assert "KV-fetch-bound" in explorer.readout.value


def test_model_change_moves_the_crossover():
    """DeepSeek-V3's shape moves the crossover from ~200K to ~1.8K on an H100."""
    explorer = context_cost_explorer()
    crossover_line = explorer.artists.cost_crossover
    assert crossover_line.get_xdata()[0] == pytest.approx(
        context_cost.crossover_context_on_chip(100e9, explorer.controls["kv_bytes_per_token"].value, chips.H100_SXM))
    explorer.controls["active_billions"].value = 37
    explorer.controls["kv_bytes_per_token"].value = 70_272
    kv = explorer.controls["kv_bytes_per_token"].value
    assert crossover_line.get_xdata()[0] == pytest.approx(
        context_cost.crossover_context_on_chip(37e9, kv, chips.H100_SXM))
    top = explorer.figure.axes[1].get_ylim()[1]
    assert top == pytest.approx(RELATIVE_TOPS[-1])


def test_chip_change_to_bf16_tpu():
    explorer = context_cost_explorer()
    explorer.controls["chip"].value = "tpu-v5e"
    assert "TPU v5e, bf16 serving" in explorer.readout.value


def test_crossover_outside_the_grid_is_hidden():
    explorer = context_cost_explorer()
    explorer.controls["kv_bytes_per_token"].value = 100
    explorer.controls["active_billions"].value = 1000
    assert not explorer.artists.cost_crossover.get_visible()

