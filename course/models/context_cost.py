"""Cost per token as context grows, and what API price tiers imply about KV size.

At a batch large enough to amortise the weight read away, decoding one token
of one sequence costs max(compute, KV fetch): the compute is the same at every
context length, the KV fetch grows with it. Cost per token is therefore flat
while compute-bound and rises linearly once the KV cache dominates. The
crossover is where

    N_active * f / F = ctx * kv / bw,   i.e.   kv = (bw / (F / f)) * N_active / ctx,

with f = 2 FLOPs per parameter per token and F the tensor FLOP/s at the
serving precision. ``F / f`` is the chip's multiply-add rate; for fp8 serving
it equals the dense bf16 FLOP/s, so ``(F / f) / bw`` is the lecture's "~300"
(see ``course.models.roofline``) and the crossover reads kv = N_active / (300 * ctx).
Serving in bf16 halves the multiply-add rate and doubles the crossover context.

Attention's own FLOPs, which also grow with context, are left out, as in the
lecture.
"""

from __future__ import annotations

import numpy as np

from course.models import roofline
from course.models.roofline import FLOPS_PER_PARAM_TOKEN, LECTURE_FLOPS_PER_BYTE
from course.presets.chips import Chip
from course.presets.prices import PriceTier

SOURCES = {
    "lecture": "Reiner Pope's lecture on the Dwarkesh Podcast (course seed flashcards, 01:33:02)",
    "deepseek-infra": ("DeepSeek open-infra-index, 2025-02 Open Source Week day 6: average KV length 4,989 tokens "
                       "(shared/reference/facts.md)"),
    "pope-2022": ("Pope et al. 2022, 'Efficiently Scaling Transformer Inference', PaLM 540B on 64 TPU v4 "
                  "(shared/reference/facts.md, 'Measured results to compare against')"),
}

LECTURE_DECODE_TO_PREFILL_MFU = 1 / 5
"""The lecture's 'decode MFU is about 1/5 of prefill MFU' [dimensionless] (source tag ``lecture``)."""

POPE_PREFILL_MFU_LARGE_BATCH = 0.76
"""Measured MFU of prefill, 2,048 tokens at batch 512 [fraction of peak] (source tag ``pope-2022``)."""

POPE_DECODE_MFU_LARGE_BATCH = 0.33
"""Measured MFU of decode at batch 512 [fraction of peak] (source tag ``pope-2022``)."""

POPE_PREFILL_MFU_LOW_LATENCY = 0.43
"""Measured MFU of prefill in the low-latency setting [fraction of peak] (source tag ``pope-2022``)."""

POPE_DECODE_MFU_LOW_LATENCY = 0.14
"""Measured MFU of decode in the low-latency setting [fraction of peak] (source tag ``pope-2022``)."""


DEEPSEEK_AVERAGE_KV_TOKENS = 4_989
"""Average KV-cache length in DeepSeek's own V3/R1 serving [tokens] (source tag ``deepseek-infra``)."""


def crossover_context(active_params: float, kv_bytes_per_token: float,
                      flops_per_byte: float = LECTURE_FLOPS_PER_BYTE) -> float:
    """Context length where KV-fetch time equals compute time [tokens].

    ``flops_per_byte`` is the lecture's machine balance: multiply-adds per HBM
    byte (300 by default, see the module docstring).
    """
    return active_params / (flops_per_byte * kv_bytes_per_token)


def implied_kv_bytes_per_token(active_params: float, crossover_tokens: float,
                               flops_per_byte: float = LECTURE_FLOPS_PER_BYTE) -> float:
    """KV bytes/token that a price kink at ``crossover_tokens`` implies [bytes/token]."""
    return active_params / (flops_per_byte * crossover_tokens)


def relative_cost_per_token(context_tokens, active_params: float, kv_bytes_per_token: float,
                            flops_per_byte: float = LECTURE_FLOPS_PER_BYTE):
    """Cost per token relative to the compute-bound floor: max(1, ctx / crossover) [x]."""
    ratio = np.asarray(context_tokens, dtype=float) / crossover_context(active_params, kv_bytes_per_token, flops_per_byte)
    return np.maximum(1.0, ratio)


def decode_mfu_at_context(context_tokens, active_params: float, kv_bytes_per_token: float,
                          flops_per_byte: float = LECTURE_FLOPS_PER_BYTE):
    """Best decode MFU at a context, weights amortised: min(1, crossover / ctx) [fraction of peak]."""
    return 1.0 / relative_cost_per_token(context_tokens, active_params, kv_bytes_per_token, flops_per_byte)


def mfu_ratio(decode_mfu: float, prefill_mfu: float) -> float:
    """Decode MFU as a fraction of prefill MFU [dimensionless]; the lecture says ~1/5."""
    return decode_mfu / prefill_mfu


def multiply_adds_per_byte(chip: Chip, precision: roofline.Precision | None = None) -> float:
    """Multiply-adds per byte of HBM bandwidth when serving at ``precision`` [1/byte].

    (FLOP/s / 2) / bandwidth. For fp8 on an H100 SXM this is 295, the lecture's
    '300'; for bf16 it is half the dense bf16 balance. Default precision:
    ``roofline.serving_precision(chip)`` (fp8 where the chip has it).
    """
    precision = precision or roofline.serving_precision(chip)
    return precision.flops_per_s(chip) / FLOPS_PER_PARAM_TOKEN / chip.hbm_bandwidth


def crossover_context_on_chip(active_params: float, kv_bytes_per_token: float, chip: Chip,
                              precision: roofline.Precision | None = None) -> float:
    """Crossover context from a chip's real FLOP/s and bandwidth [tokens]."""
    return crossover_context(active_params, kv_bytes_per_token, multiply_adds_per_byte(chip, precision))


def large_batch_decode(context_tokens, *, active_params: float, kv_bytes_per_token: float, chip: Chip,
                       precision: roofline.Precision | None = None) -> roofline.DecodeStep:
    """One sequence's share of a large-batch decode step on one chip, weights amortised away.

    A ``roofline.DecodeStep`` with batch 1 and no weight read: ``compute_s`` is
    the same at every context, ``kv_s`` grows with ``context_tokens`` (scalar or
    array) [s]; ``step_s`` is the chip-time one output token takes.
    """
    return roofline.decode_step(1.0, active_params=active_params, total_params=0.0,
                                context_tokens=np.asarray(context_tokens, dtype=float),
                                kv_bytes_per_token=kv_bytes_per_token, chip=chip, precision=precision)


def kv_load_time_s(context_tokens: float, kv_bytes_per_token: float, bandwidth: float) -> float:
    """Time to read a sequence's KV cache from memory at ``bandwidth`` [s]."""
    return context_tokens * kv_bytes_per_token / bandwidth


def kv_recompute_time_s(context_tokens: float, active_params: float, flops_per_s: float, mfu: float = 1.0,
                        flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN) -> float:
    """Time to rebuild a KV cache by prefilling the context again at a given MFU [s]."""
    return context_tokens * active_params * flops_per_param_token / (flops_per_s * mfu)


def recompute_to_load_ratio(active_params: float, kv_bytes_per_token: float, flops_per_s: float,
                            bandwidth: float, mfu: float = 1.0,
                            flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN) -> float:
    """How many times longer recomputing a KV cache takes than loading it [x]; independent of context.

    Equals the crossover context in tokens (at MFU 1): reading ctx tokens of KV
    costs what computing one token does exactly when ctx is the crossover.
    """
    return kv_recompute_time_s(1.0, active_params, flops_per_s, mfu, flops_per_param_token) / kv_load_time_s(
        1.0, kv_bytes_per_token, bandwidth)


def price_ratio(tier: PriceTier, context_tokens, kind: str = "input"):
    """Price per token relative to the short-context price: 1 up to the threshold, long/short above [x].

    ``kind`` is "input" or "output". The threshold itself is billed at the short price.
    """
    if kind == "input":
        step = tier.input_long / tier.input_short
    elif kind == "output":
        step = tier.output_long / tier.output_short
    else:
        raise ValueError("kind must be 'input' or 'output'")
    context = np.asarray(context_tokens, dtype=float)
    return np.where(context > tier.threshold_tokens, step, 1.0)


def tier_implied_kv_bytes_per_token(tier: PriceTier, active_params: float,
                                    flops_per_byte: float = LECTURE_FLOPS_PER_BYTE) -> float:
    """KV bytes/token implied if ``tier``'s threshold is the model's crossover [bytes/token]."""
    return implied_kv_bytes_per_token(active_params, tier.threshold_tokens, flops_per_byte)
