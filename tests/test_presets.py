"""Presets are data with a source for every number."""

from __future__ import annotations

import dataclasses

import pytest

from course.presets import chips, llms, prices


def _numeric_fields(preset) -> list[str]:
    return [f.name for f in dataclasses.fields(preset)
            if isinstance(getattr(preset, f.name), (int, float)) and f.name != "weight_bytes_per_param"]


@pytest.mark.parametrize("key", sorted(chips.CHIPS))
def test_every_chip_number_has_a_known_source(key):
    """Each numeric chip field names a source tag that SOURCES explains."""
    chip = chips.CHIPS[key]
    for name in _numeric_fields(chip):
        assert chip.sources.get(name) in chips.SOURCES, f"{chip.name}.{name} has no source"


@pytest.mark.parametrize("key", sorted(llms.LLMS))
def test_every_model_number_has_a_known_source(key):
    """Each numeric model field names a source tag that SOURCES explains."""
    llm = llms.LLMS[key]
    for name in _numeric_fields(llm):
        assert llm.sources.get(name) in llms.SOURCES, f"{llm.name}.{name} has no source"


def test_chip_figures_match_the_reference_table():
    """Spot values from facts.md's hardware table."""
    assert chips.H200.hbm_bytes == pytest.approx(141e9) and chips.H200.hbm_bandwidth == pytest.approx(4.8e12)
    assert chips.B200.dense_bf16_flops == pytest.approx(2.25e15) and chips.B200.dense_fp8_flops == pytest.approx(4.5e15)
    assert chips.TPU_V5E.dense_bf16_flops == pytest.approx(197e12) and chips.TPU_V5E.hbm_bytes == pytest.approx(16e9)
    assert chips.TPU_V5P.dense_bf16_flops == pytest.approx(459e12) and chips.TPU_V5P.hbm_bandwidth == pytest.approx(2.8e12)
    assert chips.GB200_NVL72_GPU.hbm_bandwidth * 72 == pytest.approx(576e12)
    assert 13.4e12 <= chips.GB200_NVL72_GPU.hbm_bytes * 72 <= 13.8e12
    assert chips.RUBIN.hbm_bytes == pytest.approx(288e9) and chips.RUBIN.dense_bf16_flops is None


def test_no_chip_uses_a_sparse_figure():
    """Dense fp8 is at most twice dense bf16 (a sparse bf16 figure would make them equal)."""
    for chip in chips.CHIPS.values():
        if chip.dense_fp8_flops and chip.dense_bf16_flops:
            assert chip.dense_fp8_flops == pytest.approx(2 * chip.dense_bf16_flops, rel=0.01)


def test_deepseek_published_config():
    """DeepSeek-V3 config_671B.json and README values."""
    v3 = llms.DEEPSEEK_V3
    assert (v3.total_params, v3.active_params, v3.layers, v3.hidden_size) == (671e9, 37e9, 61, 7168)
    assert (v3.routed_experts, v3.shared_experts, v3.experts_per_token, v3.dense_layers) == (256, 1, 8, 3)
    assert (v3.kv_lora_rank, v3.qk_rope_head_dim) == (512, 64)


def test_price_tiers_match_published_prices():
    """Long-context price tiers from facts.md."""
    assert prices.GEMINI_2_5_PRO.threshold_tokens == 200_000 and prices.GEMINI_2_5_PRO.output_long == 15.0
    assert prices.GEMINI_1_5_PRO.threshold_tokens == 128_000 and prices.GEMINI_1_5_PRO.input_long == 2.50
    assert prices.CLAUDE_SONNET_4.input_short == 3.0 and prices.CLAUDE_SONNET_4.output_long == 22.50


def test_roofline_chips_excludes_chips_without_dense_flops():
    """Only chips with published dense bf16 FLOP/s appear in the batch-size explorer."""
    assert "rubin" not in chips.roofline_chips() and "h100" in chips.roofline_chips()


def test_new_shape_fields_match_the_published_configs():
    """V3 config_671B.json: n_heads 128, qk_nope 128 + qk_rope 64, v_head_dim 128, moe_inter_dim 2048,
    n_expert_groups 8, n_limited_groups 4; Llama-3-70B config: 64 attention heads of 128."""
    v3 = llms.DEEPSEEK_V3
    assert (v3.attention_heads, v3.qk_head_dim, v3.v_head_dim) == (128, 192, 128)
    assert (v3.moe_intermediate_size, v3.expert_groups, v3.limited_groups) == (2048, 8, 4)
    llama = llms.LLAMA_3_70B
    assert (llama.attention_heads, llama.qk_head_dim, llama.v_head_dim) == (64, 128, 128)
