"""Cost per token as context grows, and what API price tiers imply about KV size.

At large batch the weight fetch is amortised away, so a decode step per
sequence costs max(compute, KV fetch): flat in context while compute-bound,
linear once the KV cache dominates. The crossover is where
N_active*f/F = ctx*kv/bw, i.e. kv = (bw/F')*N_active/ctx with F' = F/f the
multiply-add rate; with the lecture's ~300 that is kv = N_active/(300*ctx).
"""

from __future__ import annotations

import numpy as np

from course.models.roofline import LECTURE_FLOPS_PER_BYTE


def crossover_context(active_params: float, kv_bytes_per_token: float,
                      flops_per_byte: float = LECTURE_FLOPS_PER_BYTE) -> float:
    """Context length where KV-fetch time equals compute time [tokens]."""
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


def kv_load_time_s(context_tokens: float, kv_bytes_per_token: float, bandwidth: float) -> float:
    """Time to read a sequence's KV cache from memory at ``bandwidth`` [s]."""
    return context_tokens * kv_bytes_per_token / bandwidth


def kv_recompute_time_s(context_tokens: float, active_params: float, flops_per_s: float, mfu: float = 1.0,
                        flops_per_param_token: float = 2.0) -> float:
    """Time to rebuild a KV cache by prefilling the context again at a given MFU [s]."""
    return context_tokens * active_params * flops_per_param_token / (flops_per_s * mfu)
