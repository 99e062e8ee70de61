"""The lecture's figures, recomputed by course/ from first principles.

Each expected value below is the figure printed in shared/reference/facts.md
(lecture table) or the seed flashcards, not a value read back from the code.
"""

from __future__ import annotations

import pytest

from course.models import compute_budget, context_cost, kv_cache, roofline
from course.presets import chips, llms


def test_machine_balance_is_about_300_flops_per_byte():
    """facts.md: H100 SXM 989e12 / 3.35e12 = 295; B200 2.25e15 / 8e12 = 281 (dense bf16)."""
    assert roofline.machine_balance(chips.H100_SXM) == pytest.approx(295, abs=0.5)
    assert roofline.machine_balance(chips.B200) == pytest.approx(281, abs=0.5)
    assert roofline.LECTURE_FLOPS_PER_BYTE == 300


def test_dense_not_sparse_flops():
    """The H100's 1,979 TFLOP/s bf16 is the sparse datasheet figure; the dense one is 989."""
    assert chips.H100_SXM.dense_bf16_flops == pytest.approx(989e12)
    assert chips.H100_SXM.dense_fp8_flops == pytest.approx(2 * chips.H100_SXM.dense_bf16_flops, rel=1e-3)


def test_deepseek_critical_batch_lecture():
    """Lecture: 32/256 active gives B >= 300 x 8 = 2,400."""
    batch = roofline.critical_batch_from_balance(300, llms.LECTURE_DEEPSEEK_ACTIVE_FRACTION)
    assert batch == pytest.approx(2400)


def test_deepseek_critical_batch_from_published_config():
    """facts.md: by parameters 671/37 = 18.1, so B >= 300 x 18.1 = ~5,400; routed experts alone 256/8 -> 9,600."""
    by_params = roofline.critical_batch_from_balance(300, llms.DEEPSEEK_V3.sparsity)
    assert 1 / llms.DEEPSEEK_V3.sparsity == pytest.approx(18.1, abs=0.05)
    assert by_params == pytest.approx(5400, rel=0.01)
    by_routed = roofline.critical_batch_from_balance(
        300, llms.DEEPSEEK_V3.experts_per_token / llms.DEEPSEEK_V3.routed_experts)
    assert by_routed == pytest.approx(9600)


def test_full_roofline_critical_batch_matches_lecture_form_without_kv():
    """With no KV cache, the roofline's B* equals (FLOP/s / bandwidth) / sparsity for fp8 and bf16 alike."""
    for precision in (roofline.FP8, roofline.BF16):
        batch = roofline.critical_batch(active_params=37e9, total_params=671e9, context_tokens=0,
                                        kv_bytes_per_token=0, chip=chips.H100_SXM, precision=precision)
        assert batch == pytest.approx(295.2 * 671 / 37, rel=1e-3)


def test_rubin_drain_time():
    """Lecture: 288 GB / 20 TB/s = 14.4 ms (~15 ms)."""
    assert roofline.drain_time_s(chips.RUBIN) == pytest.approx(14.4e-3)


def test_deepseek_mla_kv_bytes_per_token():
    """facts.md: (512 + 64) x 61 = 35,136 values = 70,272 bytes in bf16."""
    assert kv_cache.kv_bytes_per_token(llms.DEEPSEEK_V3) == 70_272


def test_llama_3_70b_kv_bytes_per_token():
    """facts.md (scaling-book): 2 x 8 x 128 x 80 = 160 kB per token in int8, so 320 kB in bf16."""
    assert kv_cache.kv_bytes_per_token(llms.LLAMA_3_70B, bytes_per_value=1) == 163_840
    assert kv_cache.kv_bytes_per_token(llms.LLAMA_3_70B) == 327_680


def test_kv_bytes_per_token_implied_by_pricing():
    """facts.md: (1/300) x 100e9 / 200e3 = 1,667 B (~1.7 KB)."""
    assert context_cost.implied_kv_bytes_per_token(100e9, 200e3) == pytest.approx(1666.7, abs=0.1)


def test_inference_tokens_over_a_deployment():
    """facts.md: 50e6 tok/s x 60 d x 86,400 s/d = 2.592e14 (the lecture rounds it to ~200T)."""
    assert compute_budget.tokens_served(50e6, 60) == pytest.approx(2.592e14)


def test_chinchilla_tokens_for_100b():
    """facts.md: 20 tokens/param x 100e9 = 2T."""
    assert compute_budget.chinchilla_tokens(100e9) == pytest.approx(2e12)


def test_overtraining_factor():
    """facts.md: 200T / 2T = 100x with the lecture's rounding; 129.6x with the unrounded 259T."""
    assert compute_budget.overtraining_factor(200e12, 100e9) == pytest.approx(100)
    served = compute_budget.tokens_served(50e6, 60)
    assert compute_budget.overtraining_factor(served, 100e9) == pytest.approx(129.6)


def test_training_flops_are_2_plus_4():
    """Seed: 2 FLOPs forward + 4 backward per parameter per token = 6."""
    assert compute_budget.pretraining_flops(1, 1) == 6
    assert compute_budget.FORWARD_FLOPS_PER_PARAM_TOKEN + compute_budget.BACKWARD_FLOPS_PER_PARAM_TOKEN == 6


def test_equal_cost_optimum():
    """facts.md: 6 D_pre = 9 D_RL = 6 D_inf, i.e. D_pre = 1.5 D_RL = D_inf (RL factor 3, inefficiency 3)."""
    tokens = compute_budget.equal_cost_tokens()
    assert tokens.pretrain / tokens.rl == pytest.approx(1.5)
    assert tokens.pretrain / tokens.inference == pytest.approx(1.0)
    n, d_pre = 100e9, 1e12
    assert compute_budget.pretraining_flops(n, d_pre) == pytest.approx(
        compute_budget.rl_flops(n, d_pre * tokens.rl)) == pytest.approx(
        compute_budget.inference_flops(n, d_pre * tokens.inference))


def test_scale_up_vs_scale_out():
    """facts.md: H100 450 GB/s NVLink vs ~50 GB/s scale-out = 9x; B200 900 vs 50 = 18x (lecture: ~8x)."""
    from course.models import moe

    assert moe.scale_up_to_out_ratio(chips.H100_SXM) == pytest.approx(9)
    assert moe.scale_up_to_out_ratio(chips.B200) == pytest.approx(18)


def test_pipeline_bubble_fraction():
    """facts.md: GPipe bubble (p - 1) / (m + p - 1)."""
    from course.models import pipeline

    assert pipeline.bubble_fraction(4, 1) == pytest.approx(3 / 4)
    assert pipeline.bubble_fraction(4, 13) == pytest.approx(3 / 16)


# --- figures issue 11 asks the notebooks to state, recomputed from the published config -----------------

def test_deepseek_routes_8_of_256_and_the_always_on_share():
    """V3 config: 8 of 256 routed = 3.1%; README: 37/671 = 5.5% active; the ~17B always-on lifts it."""
    from course.models import expert_reads
    v3 = llms.DEEPSEEK_V3
    assert v3.experts_per_token / v3.routed_experts == pytest.approx(0.031, abs=0.0005)
    assert v3.sparsity == pytest.approx(0.055, abs=0.0005)
    always_on = expert_reads.always_on_params(v3)
    assert always_on == pytest.approx(671e9 - 634e9 * 256 / 248)
    assert 16e9 < always_on < 17e9


def test_drain_times_of_the_explorer_chips():
    """HBM / bandwidth: H100 80/3.35 = 23.9 ms, H200 141/4.8 = 29.4 ms, B200 192/8 = 24 ms (not '~15-20 ms')."""
    assert roofline.drain_time_s(chips.H100_SXM) == pytest.approx(80 / 3.35e3)
    assert roofline.drain_time_s(chips.H200) == pytest.approx(141 / 4.8e3)
    assert roofline.drain_time_s(chips.B200) == pytest.approx(192 / 8e3)


def test_critical_batch_variants_on_an_h100():
    """No KV: fp8+fp8 and bf16+bf16 both give ~295 x 671/37 = ~5,350; 8-bit weights on bf16 compute half that."""
    shape = dict(active_params=37e9, total_params=671e9, context_tokens=0, kv_bytes_per_token=0, chip=chips.H100_SXM)
    fp8 = roofline.critical_batch(**shape, precision=roofline.FP8)
    bf16 = roofline.critical_batch(**shape, precision=roofline.BF16)
    w8 = roofline.critical_batch(**shape, precision=roofline.W8_BF16)
    assert fp8 == pytest.approx(1.979e15 / 3.35e12 / 2 * 671 / 37)
    assert bf16 == pytest.approx(989e12 / 3.35e12 * 671 / 37)
    assert w8 == pytest.approx(bf16 / 2)
