"""HBM capacity and KV layouts, against hand arithmetic and published figures."""

from __future__ import annotations

import math

import pytest

from course.models import kv_cache, memory, roofline
from course.presets import chips, llms

V3 = llms.DEEPSEEK_V3
V3_KV_BF16 = (512 + 64) * 61 * 2  # facts.md: 70,272 bytes per token


def test_issue_figures_for_the_segment_1_explorer_defaults():
    """Issue 11 §1.3: at 1,024 tokens, 16 x H100 hold ~8,460 sequences, 4 x B200 ~1,350 (fp8 weights, bf16 KV)."""
    for chip, n_chips, issue_figure in ((chips.H100_SXM, 16, 8_460), (chips.B200, 4, 1_350)):
        by_hand = math.floor((n_chips * chip.hbm_bytes - 671e9 * 1) / (1024 * V3_KV_BF16))
        fits = memory.max_batch_that_fits(total_params=671e9, context_tokens=1024, kv_bytes_per_token=V3_KV_BF16,
                                          chip=chip, n_chips=n_chips, precision=roofline.FP8)
        assert fits == by_hand
        assert fits == pytest.approx(issue_figure, rel=0.005)


def test_critical_batch_out_of_reach_at_the_explorer_defaults():
    """Issue 11: critical batches 12,588 (16 x H100) and 11,259 (4 x B200) exceed what fits."""
    for chip, n_chips, issue_critical in ((chips.H100_SXM, 16, 12_588), (chips.B200, 4, 11_259)):
        shape = dict(active_params=37e9, total_params=671e9, context_tokens=1024, kv_bytes_per_token=V3_KV_BF16,
                     chip=chip, precision=roofline.FP8)
        assert roofline.critical_batch(**shape) == pytest.approx(issue_critical, abs=1)
        assert not memory.critical_batch_fits(**shape, n_chips=n_chips)


def test_reserved_fraction_shrinks_the_room_for_kv():
    """vLLM's default keeps 10% back: (1.28 TB x 0.9 - 671 GB) / 71.96 MB = 6,687 sequences on 16 x H100."""
    fits = memory.max_batch_that_fits(total_params=671e9, context_tokens=1024, kv_bytes_per_token=V3_KV_BF16,
                                      chip=chips.H100_SXM, n_chips=16, precision=roofline.FP8,
                                      reserved_fraction=memory.VLLM_RESERVED_FRACTION)
    assert fits == math.floor((16 * 80e9 * 0.9 - 671e9) / (1024 * V3_KV_BF16))
    with pytest.raises(ValueError, match="reserved_fraction"):
        memory.usable_hbm_bytes(chips.H100_SXM, 1, 1.0)


def test_weights_that_do_not_fit_leave_no_batch():
    """671 GB of fp8 weights do not fit 8 x 80 GB: no sequence fits, and the context that fits is 0."""
    shape = dict(total_params=671e9, kv_bytes_per_token=V3_KV_BF16, chip=chips.H100_SXM, n_chips=8,
                 precision=roofline.FP8)
    assert memory.max_batch_that_fits(context_tokens=1024, **shape) == 0
    assert memory.max_context_that_fits(1, **shape) == 0


def test_longest_context_and_fewest_chips():
    """Llama-3-70B bf16 on 8 x H100: (640 GB - 141.2 GB) / (64 x 327,680 B) = 23,786 tokens at batch 64."""
    kv = 2 * 8 * 128 * 80 * 2
    shape = dict(total_params=70.6e9, kv_bytes_per_token=kv, chip=chips.H100_SXM, precision=roofline.BF16)
    assert memory.max_context_that_fits(64, n_chips=8, **shape) == math.floor((640e9 - 141.2e9) / (64 * kv))
    # 141.2 GB + 64 x 128K x 327,680 B = 2.89 TB -> 37 chips of 80 GB
    needed = 141.2e9 + 64 * 131_072 * kv
    assert memory.min_chips_to_serve(64, context_tokens=131_072, **shape) == math.ceil(needed / 80e9)
    assert memory.hbm_bytes_needed(64, context_tokens=131_072, total_params=70.6e9, kv_bytes_per_token=kv,
                                   precision=roofline.BF16) == pytest.approx(needed)


def test_no_kv_means_no_batch_limit():
    """At context 0 any batch fits once the weights do."""
    assert memory.max_batch_that_fits(total_params=70.6e9, context_tokens=0, kv_bytes_per_token=1, chip=chips.H200,
                                      precision=roofline.FP8) == math.inf


# --- KV layouts ------------------------------------------------------------------------------------------

def test_llama_kv_per_token_matches_scaling_book():
    """scaling-book: LLaMA-3 70B KV per token 2 x 8 x 128 x 80 = 160 kB in int8 (163,840 B)."""
    assert kv_cache.kv_bytes_per_token(llms.LLAMA_3_70B, bytes_per_value=1) == 2 * 8 * 128 * 80 * 1 == 163_840
    assert kv_cache.kv_bytes_per_token(llms.LLAMA_3_70B) == 327_680


def test_mha_gqa_mla_side_by_side():
    """MHA caches every head: Llama 2 x 64 x 128 x 80 x 2 B (8x GQA); V3 128 x (192 + 128) x 61 x 2 B (71x MLA)."""
    assert kv_cache.kv_bytes_per_token_as(llms.LLAMA_3_70B, "mha") == 2 * 64 * 128 * 80 * 2
    assert kv_cache.kv_bytes_per_token_as(llms.LLAMA_3_70B, "gqa") * 8 == 2 * 64 * 128 * 80 * 2
    assert kv_cache.kv_bytes_per_token_as(V3, "mha") == 128 * (128 + 64 + 128) * 61 * 2
    assert kv_cache.kv_bytes_per_token_as(V3, "mla") == V3_KV_BF16
    assert kv_cache.kv_bytes_per_token_as(V3, "mha") / V3_KV_BF16 == pytest.approx(71.1, abs=0.05)


def test_eight_bit_kv_halves_and_doubles_the_batch_that_fits():
    """An fp8 KV cache (1 byte per value) stores V3 in 35,136 B/token; the batch that fits about doubles."""
    assert kv_cache.kv_bytes_per_token(V3, bytes_per_value=1) == 35_136
    args = dict(total_params=671e9, context_tokens=1024, chip=chips.H100_SXM, n_chips=16, precision=roofline.FP8)
    eight = memory.max_batch_that_fits(kv_bytes_per_token=35_136, **args)
    sixteen = memory.max_batch_that_fits(kv_bytes_per_token=V3_KV_BF16, **args)
    assert eight in (2 * sixteen, 2 * sixteen + 1)


def test_layout_errors_name_what_is_missing():
    """The lecture's 100B model has no attention shape; an unknown layout names the choices."""
    with pytest.raises(ValueError, match="layers"):
        kv_cache.kv_bytes_per_token_as(llms.LECTURE_100B, "mha")
    with pytest.raises(ValueError, match="mha, gqa, mla"):
        kv_cache.kv_bytes_per_token_as(V3, "mqa")
    with pytest.raises(ValueError, match="kv_heads"):
        kv_cache.kv_bytes_per_token_as(V3, "gqa")
