"""Prefill vs decode, continuous batching and prefix caching, against hand arithmetic and published figures."""

from __future__ import annotations

import numpy as np
import pytest

from course.models import prefill, roofline
from course.presets import chips, llms

LLAMA_A = 2 * 64 * (128 + 128) * 80  # FLOPs per query-key pair, all layers
V3_A = 2 * 128 * (128 + 64 + 128) * 61


def test_attention_flops_per_pair_from_the_configs():
    """Llama-3-70B: 64 heads of 128; DeepSeek-V3: 128 heads, q/k 192 (128 + 64 RoPE), v 128."""
    assert prefill.attention_flops_per_query_key(llms.LLAMA_3_70B) == LLAMA_A
    assert prefill.attention_flops_per_query_key(llms.DEEPSEEK_V3) == V3_A
    with pytest.raises(ValueError, match="attention_flops_per_pair"):
        prefill.attention_flops_per_query_key(llms.LECTURE_100B)


def test_prefill_flops_count_causal_pairs():
    """A 3-token prompt has 1 + 2 + 3 = 6 query-key pairs; caching 1 token leaves 2 + 3 = 5 and 2 tokens of weights."""
    assert prefill.prefill_flops(3, active_params=10, attention_flops_per_pair=100) == 2 * 10 * 3 + 100 * 6
    assert prefill.prefill_flops(3, active_params=10, attention_flops_per_pair=100, cached_tokens=1) == 2 * 10 * 2 + 500
    with pytest.raises(ValueError, match="cached_tokens"):
        prefill.prefill_flops(3, active_params=10, cached_tokens=4)


def test_attention_doubles_input_cost_at_4n_over_a():
    """Llama-3-70B: 4 x 70.6e9 / 2.62e6 = 107,727 tokens; at that length a token costs ~2x the weights' 2N."""
    length = prefill.attention_doubling_length(70.6e9, LLAMA_A)
    assert length == pytest.approx(4 * 70.6e9 / 2_621_440)
    per_token = prefill.prefill_flops_per_token(length, active_params=70.6e9, attention_flops_per_pair=LLAMA_A)
    assert per_token == pytest.approx(2 * 2 * 70.6e9, rel=1e-4)


def test_prefill_is_compute_bound_decode_is_not():
    """One 2,048-token prompt of Llama-3-70B in bf16: ~2 x 2,048 / 2 = 2,000+ FLOP/byte, far above the H100's 295."""
    intensity = prefill.prefill_arithmetic_intensity(2048, 1, active_params=70.6e9, total_params=70.6e9,
                                                     precision=roofline.BF16, kv_bytes_per_token=327_680,
                                                     attention_flops_per_pair=LLAMA_A)
    by_hand = (2 * 70.6e9 * 2048 + LLAMA_A * 2048 * 2049 / 2) / (70.6e9 * 2 + 2048 * 327_680)
    assert intensity == pytest.approx(by_hand)
    assert intensity > 5 * roofline.machine_balance(chips.H100_SXM)
    step = prefill.prefill_step(2048, active_params=70.6e9, total_params=70.6e9, kv_bytes_per_token=327_680,
                                chip=chips.H100_SXM, n_chips=8, precision=roofline.BF16,
                                attention_flops_per_pair=LLAMA_A)
    assert step.compute_bound and step.mfu == 1.0
    assert step.step_s == pytest.approx((2 * 70.6e9 * 2048 + LLAMA_A * 2048 * 2049 / 2) / (8 * 989e12))
    decode = roofline.decode_step(1, active_params=70.6e9, total_params=70.6e9, context_tokens=2048,
                                  kv_bytes_per_token=327_680, chip=chips.H100_SXM, n_chips=8, precision=roofline.BF16)
    assert not decode.compute_bound


def test_decode_mfu_one_fifth_of_prefill():
    """Lecture: decode MFU ~1/5 of prefill. At B*/5 with no KV: MFU = 1/5; DeepSeek per node 14.8k / 73.7k = 0.20."""
    assert prefill.decode_mfu_below_critical(2400 / 5, 2400) == pytest.approx(1 / 5)
    assert prefill.decode_to_prefill_mfu(0.33, 0.76) == pytest.approx(0.434, abs=0.001)  # Pope et al. large batch
    assert prefill.decode_to_prefill_mfu(0.14, 0.43) == pytest.approx(0.326, abs=0.001)  # Pope et al. low latency
    ratio = prefill.throughput_mfu_ratio(prefill.DEEPSEEK_DECODE_TOKENS_PER_S_PER_NODE,
                                         prefill.DEEPSEEK_PREFILL_TOKENS_PER_S_PER_NODE)
    assert ratio == pytest.approx(14.8 / 73.7) and ratio == pytest.approx(1 / 5, abs=0.01)


def test_roofline_decode_mfu_matches_the_below_critical_formula():
    """With no KV the roofline's decode MFU is B / B*."""
    shape = dict(active_params=37e9, total_params=671e9, context_tokens=0, kv_bytes_per_token=0,
                 chip=chips.H100_SXM, precision=roofline.FP8)
    critical = roofline.critical_batch(**shape)
    step = roofline.decode_step(critical / 5, **shape)
    assert float(step.mfu) == pytest.approx(float(prefill.decode_mfu_below_critical(critical / 5, critical)))


def test_prefill_cost_per_million_input_tokens():
    """H100 bf16 at $2/h, 2N = 141.2 GFLOP/token: $2/3600 x 141.2e9/989e12 x 1e6 = $0.0793 per million, at 1 token."""
    flat = prefill.prefill_cost_per_million_input_tokens(1, active_params=70.6e9, chip=chips.H100_SXM,
                                                         price_usd_per_chip_hour=2.0, precision=roofline.BF16)
    assert flat == pytest.approx(2 / 3600 * (2 * 70.6e9 + 0) / 989e12 * 1e6, rel=1e-3)
    lengths = np.array([1_000, 100_000, 1_000_000])
    costs = prefill.prefill_cost_per_million_input_tokens(lengths, active_params=70.6e9, chip=chips.H100_SXM,
                                                          price_usd_per_chip_hour=2.0, precision=roofline.BF16,
                                                          attention_flops_per_pair=LLAMA_A, mfu=0.5)
    by_hand = 2 / 3600 * (2 * 70.6e9 + LLAMA_A * (lengths + 1) / 2) / (989e12 * 0.5) * 1e6
    assert np.allclose(costs, by_hand)
    assert costs[2] > 5 * costs[0]


def test_continuous_batching_little_law():
    """2,400 sequences, 500 output tokens each, 30 ms steps: 2,400 / (500 x 0.03) = 160 requests/s keep B at 2,400."""
    rate = prefill.arrival_rate_for_batch(2400, 500, 0.03)
    assert rate == pytest.approx(160)
    assert prefill.sequences_in_flight(rate, 500, 0.03) == pytest.approx(2400)
    assert prefill.static_batch_occupancy([100, 200, 300, 1000]) == pytest.approx(400 / 1000)


def test_prefix_cache_saves_less_than_its_share_once_attention_counts():
    """Caching 90% of a prompt saves 90% of the weight FLOPs but less of the total (new tokens attend to it all)."""
    assert prefill.prefix_cache_saved_fraction(10_000, 9_000, active_params=70.6e9) == pytest.approx(0.9)
    with_attention = prefill.prefix_cache_saved_fraction(100_000, 90_000, active_params=70.6e9,
                                                         attention_flops_per_pair=LLAMA_A)
    full = 2 * 70.6e9 * 100_000 + LLAMA_A * 100_000 * 100_001 / 2
    rest = 2 * 70.6e9 * 10_000 + LLAMA_A * (100_000 * 100_001 - 90_000 * 90_001) / 2
    assert with_attention == pytest.approx(1 - rest / full)
    assert with_attention < 0.9
