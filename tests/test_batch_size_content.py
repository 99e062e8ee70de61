"""Segment 1's stated figures against their sources, its corrected reasoning, its explorer's memory limit.

References are hand arithmetic on published numbers (shared/reference/facts.md: chip datasheets,
DeepSeek-V3's config and README, DeepSeek's open-infra note, Pope et al. 2022), never the course's
code path.
"""

from __future__ import annotations

import json
import math

import pytest

from course.models import roofline
from course.presets import chips
from course.segments.batch_size import checks
from course.segments.batch_size.explorer import readout
from course.segments.batch_size.view import batch_size_view, view
from tests.notebooks import source_notebook

# Published figures (facts.md)
H100_HBM, H100_BW, H100_BF16, H100_FP8 = 80e9, 3.35e12, 989e12, 1.979e15
B200_HBM, B200_BW, B200_FP8 = 192e9, 8e12, 4.5e15
V3_TOTAL, V3_ACTIVE, V3_KV = 671e9, 37e9, (512 + 64) * 61 * 2
DEEPSEEK_DECODE_PER_NODE, DEEPSEEK_PREFILL_PER_NODE, DEEPSEEK_KV_LEN = 14.8e3, 73.7e3, 4989


def hand_critical(context, flops, weight_bytes=1.0, kv=V3_KV, bw=H100_BW, additive=False):
    per_sequence = 2 * V3_ACTIVE / flops - (0 if additive else context * kv / bw)
    return math.inf if per_sequence <= 0 else V3_TOTAL * weight_bytes / bw / per_sequence


def notebook_text() -> str:
    cells = json.loads(source_notebook("01-batch-size").read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells)


def notebook_output() -> str:
    cells = json.loads(source_notebook("01-batch-size").read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(o.get("text", "")) for c in cells if c["cell_type"] == "code" for o in c["outputs"])


def test_precision_ratios_match_hand_arithmetic():
    """bf16+bf16 and fp8+fp8 give ~295 (989e12 / 3.35e12); 8-bit weights on bf16 compute halve it."""
    assert roofline.critical_batch_dense(chips.H100_SXM, roofline.BF16) == pytest.approx(H100_BF16 / H100_BW)
    assert roofline.critical_batch_dense(chips.H100_SXM, roofline.FP8) == pytest.approx(H100_FP8 / H100_BW / 2)
    assert roofline.critical_batch_dense(chips.H100_SXM, roofline.W8_BF16) == pytest.approx(H100_BF16 / H100_BW / 2)
    assert checks.W8_CRITICAL_BATCH_RATIO.expected() == pytest.approx((H100_BF16 / 2) / (H100_FP8 / 2))


def test_printed_critical_batches_match_hand_arithmetic():
    out = notebook_output()
    for figure in (hand_critical(0, H100_FP8), hand_critical(1024, H100_FP8), hand_critical(1024, H100_BF16, 2),
                   hand_critical(1024, H100_BF16), hand_critical(1024, H100_FP8, additive=True)):
        assert f"{figure:,.0f}" in out, figure
    assert f"{2 * V3_ACTIVE / H100_FP8 * H100_BW / V3_KV:,.0f} tokens of context" in out
    assert round(hand_critical(1024, H100_FP8)) == 12_588 and round(hand_critical(1024, H100_BF16)) == 3_755


def test_drain_times_and_the_recap_agree_with_the_table():
    """Datasheet capacity / bandwidth; the recap no longer says "~15-20 ms"."""
    out, text = notebook_output(), notebook_text()
    for capacity, bandwidth in ((80e9, 3.35e12), (141e9, 4.8e12), (192e9, 8e12), (288e9, 20e12)):
        assert f"{capacity / bandwidth * 1e3:4.1f} ms" in out
    recap = text[text.index("## Recap"):]
    assert "24 to 29 ms" in recap and "15-20" not in recap and "15–20" not in recap


def test_kv_sizes_and_the_memory_limit():
    """MHA/MLA/GQA bytes from the configs; 16 x H100 and 4 x B200 against their critical batches."""
    out = notebook_output()
    for figure in (128 * (192 + 128) * 61 * 2, V3_KV, V3_KV // 2, 2 * 8 * 128 * 80 * 2, 2 * 8 * 128 * 80,
                   64 * 256 * 80 * 2):
        assert f"{figure:,.0f}" in out
    fits_h100 = math.floor((16 * H100_HBM - V3_TOTAL) / (1024 * V3_KV))
    assert checks.MAX_BATCH_16_H100.expected() == fits_h100 == 8_463
    assert checks.H100S_FOR_CRITICAL_BATCH.expected() == math.ceil(
        (V3_TOTAL + checks.memory_exercise_critical_batch() * 1024 * V3_KV) / H100_HBM) == 20
    fits_b200 = math.floor((4 * B200_HBM - V3_TOTAL) / (1024 * V3_KV))
    critical_b200 = hand_critical(1024, B200_FP8, bw=B200_BW)
    assert f"largest batch that fits {fits_b200:,.0f} against a critical batch of {critical_b200:,.0f}" in out
    assert f"{math.floor((4 * B200_HBM - V3_TOTAL) / (1000 * V3_KV)):,.0f} tokens" in out
    assert f"hold the critical batch: {math.ceil((V3_TOTAL + critical_b200 * 1024 * V3_KV) / B200_HBM)}" in out


def test_moe_reads_from_the_active_floor_to_the_full_model():
    """3.1% / 22% / 64% routed experts touched (1 - (1 - 8/256)^B); always-on ~16.5B."""
    out = notebook_output()
    for batch in (1, 8, 32):
        assert f"{1 - (1 - 8 / 256) ** batch:6.1%}" in out
    routed = (V3_TOTAL - V3_ACTIVE) / (1 - 8 / 256)
    assert f"always-on parameters {(V3_TOTAL - routed) / 1e9:.1f}B" in out
    assert f"{V3_ACTIVE / 1e9:6.1f} GB of fp8 weights read" in out


def test_deepseek_deployment_reality_check():
    """EP144 (18 nodes) at 4,989 tokens; 14.8k vs 73.7k tokens/s per node is 0.20; Pope 33/76 and 14/43."""
    out = notebook_output()
    fits = math.floor((144 * H100_HBM - V3_TOTAL) / (DEEPSEEK_KV_LEN * V3_KV))
    step = (V3_TOTAL + fits * DEEPSEEK_KV_LEN * V3_KV) / (144 * H100_BW)
    per_node = fits / step / 18
    assert f"hold {fits:,.0f} sequences" in out and f"model: {per_node:,.0f} output tokens/s per node" in out
    assert f"({DEEPSEEK_DECODE_PER_NODE / per_node:.2f} of the model)" in out
    assert f"DeepSeek: {DEEPSEEK_DECODE_PER_NODE / DEEPSEEK_PREFILL_PER_NODE:.2f}" in out
    assert f"Pope et al.: {0.33 / 0.76:.2f} and {0.14 / 0.43:.2f}" in out
    assert hand_critical(DEEPSEEK_KV_LEN, H100_FP8) == math.inf


def test_gap_explanation_points_the_right_way():
    """Issue 11, 1.1: the right option blames the lecture's "32"; the old backwards reading is a wrong option."""
    exercise = checks.GAP_EXPLANATION
    right = exercise.options[exercise.correct]
    assert "8 of" in right and "5.5%" in right and "not 32" in right
    assert exercise.verdict("d") is not None and "Backwards" in exercise.verdict("d")
    assert "sparser" in exercise.options["d"]


def test_drain_reasoning_is_stated_the_right_way_round():
    """Issue 11, 1.2: a step longer than the drain time is compute-bound, with HBM bandwidth idle."""
    text = notebook_text()
    assert "it is the *memory bandwidth* that sits idle" in text
    assert "FLOPs are being left on the table" not in text
    assert checks.DRAIN_ARGUMENT.verdict("c") is None and checks.DRAIN_ARGUMENT.verdict("a") is not None
    from course import flashcards

    card = next(c for c in flashcards.CARDS if c.key == "01-drain")
    assert "compute-bound" in card.answer and "bandwidth that sits idle" in card.answer


def test_no_exact_only_for_fp8_framing():
    text = notebook_text()
    assert "That is exact when serving in **fp8**" not in text
    assert "8-bit weights on bf16 tensor cores" in text


def explorer_values(**changes):
    values = dict(batch=256, active_fraction=37 / 671, context_tokens=1024, price=2.0, chip="h100",
                  precision="fp8", step_model="overlap", expert_reads="full", chips=1)
    values.update(changes)
    return values


def test_explorer_says_when_the_critical_batch_is_out_of_reach():
    """Issue 11, 1.3: defaults 16 x H100 hold 8,463 < 12,588; 4 x B200 1,347 < 11,259; four times the chips fit it."""
    here = view(explorer_values())
    assert here.n_chips == 16 and here.max_batch == 8_463 and not here.critical_fits
    assert "out of reach" in readout(here)
    b200 = view(explorer_values(chip="b200"))
    assert b200.n_chips == 4 and b200.max_batch == math.floor((4 * B200_HBM - V3_TOTAL) / (1024 * V3_KV))
    assert "out of reach" in readout(b200)
    roomy = view(explorer_values(chips=4))
    assert roomy.n_chips == 64 and roomy.critical_fits and "out of reach" not in readout(roomy)


def test_explorer_expected_reads_start_at_the_active_parameters():
    """Issue 11, 1.4: at batch 1 the expected read is N_active; at the largest batch, the whole model."""
    expected = view(explorer_values(expert_reads="expected"))
    full = view(explorer_values())
    assert expected.weights_ms[0] == pytest.approx(V3_ACTIVE / (16 * H100_BW) * 1e3, rel=1e-3)
    assert expected.weights_ms[-1] == pytest.approx(full.weights_ms[-1], rel=1e-3)
    assert expected.current_step_ms < full.current_step_ms


def test_explorer_step_model_and_precision_controls():
    """Issue 11, 1.7 and 1.8: additive keeps the critical batch at its no-KV value at long context; w8 halves."""
    long_overlap = view(explorer_values(context_tokens=8192))
    long_additive = view(explorer_values(context_tokens=8192, step_model="additive"))
    assert long_overlap.critical_batch == math.inf
    assert long_additive.critical_batch == pytest.approx(hand_critical(0, H100_FP8))
    assert "KV + max(compute, weights)" in readout(long_additive)
    w8 = view(explorer_values(context_tokens=128, precision="w8-bf16", step_model="additive"))
    assert w8.critical_batch == pytest.approx(hand_critical(0, H100_BF16))
    tpu = view(explorer_values(chip="tpu-v5e"))
    assert tpu.precision_name == "bf16"


def test_view_defaults_keep_the_lecture_model():
    """Called without the new arguments the view is the lecture's: full reads, overlap, fp8 serving."""
    plain = batch_size_view(batch=256, active_fraction=37 / 671, context_tokens=1024, chip=chips.H100_SXM,
                            price_usd_per_chip_hour=2.0)
    assert plain.step_model == "overlap" and plain.expert_reads == "full" and plain.precision_name == "fp8"
    assert plain.current_step_ms == pytest.approx(view(explorer_values()).current_step_ms)
