"""HBM capacity: how many sequences, how long a context, how many chips.

A group of n chips holds the weights once (sharded) and every sequence's KV
cache:

    N_total * w + B * ctx * kv  <=  n * HBM * (1 - r),

w bytes per weight, kv bytes per token, r a reserved fraction of HBM for
activations, the runtime and fragmentation. r = 0 by default, the bound the
issue's figures use; vLLM's default ``gpu_memory_utilization = 0.9`` is r = 0.1
(source tag ``vllm-docs``). Solving for each unknown:

    B_max   = floor((n * HBM * (1 - r) - N_total * w) / (ctx * kv))
    ctx_max = floor((n * HBM * (1 - r) - N_total * w) / (B * kv))
    n_min   = ceil((N_total * w + B * ctx * kv) / (HBM * (1 - r)))

A critical batch above B_max cannot be reached on that group: the step stays
memory-bound at every batch that fits. Example (segment 1 explorer defaults:
DeepSeek-V3, fp8 weights, bf16 MLA KV of 70,272 B/token, 1,024-token context):
16 x H100 hold (1.28 TB - 671 GB) / 71.96 MB = 8,463 sequences against a
critical batch of 12,588; 4 x B200 hold (768 GB - 671 GB) / 71.96 MB = 1,348
against 11,259.
"""

from __future__ import annotations

import math

from course.models import roofline
from course.models.roofline import Precision
from course.presets.chips import Chip

SOURCES = {
    "vllm-docs": "vLLM engine arguments: --gpu-memory-utilization, default 0.9 (fraction of GPU memory the "
                 "engine may use for weights, activations and KV cache)",
}

VLLM_RESERVED_FRACTION = 0.1
"""HBM share a default vLLM server leaves unused, 1 - 0.9 [fraction] (source tag ``vllm-docs``)."""


def _check_reserved(reserved_fraction: float) -> None:
    if not 0 <= reserved_fraction < 1:
        raise ValueError("reserved_fraction is the share of HBM kept back, in [0, 1)")


def usable_hbm_bytes(chip: Chip, n_chips: int = 1, reserved_fraction: float = 0.0) -> float:
    """HBM of the group left for weights and KV, n * HBM * (1 - r) [bytes]."""
    _check_reserved(reserved_fraction)
    if n_chips < 1:
        raise ValueError("n_chips must be at least 1")
    return n_chips * chip.hbm_bytes * (1 - reserved_fraction)


def weight_bytes(total_params: float, precision: Precision) -> float:
    """Bytes of stored weights, N_total * w [bytes]."""
    return total_params * precision.weight_bytes_per_param


def max_batch_that_fits(*, total_params: float, context_tokens: float, kv_bytes_per_token: float, chip: Chip,
                        n_chips: int = 1, precision: Precision | None = None,
                        reserved_fraction: float = 0.0) -> float:
    """Largest whole number of sequences whose KV fits beside the weights [sequences].

    0 when the weights alone do not fit; ``inf`` when a sequence needs no KV
    (context 0 or kv 0) and the weights fit.
    """
    precision = precision or roofline.serving_precision(chip)
    free = usable_hbm_bytes(chip, n_chips, reserved_fraction) - weight_bytes(total_params, precision)
    if free < 0:
        return 0.0
    per_sequence = context_tokens * kv_bytes_per_token
    if per_sequence <= 0:
        return math.inf
    return float(math.floor(free / per_sequence))


def max_context_that_fits(batch: float, *, total_params: float, kv_bytes_per_token: float, chip: Chip,
                          n_chips: int = 1, precision: Precision | None = None,
                          reserved_fraction: float = 0.0) -> float:
    """Longest context (tokens per sequence) at which ``batch`` sequences fit [tokens]; 0 if the weights do not."""
    if not batch > 0 or not kv_bytes_per_token > 0:
        raise ValueError("batch and kv_bytes_per_token must be positive")
    precision = precision or roofline.serving_precision(chip)
    free = usable_hbm_bytes(chip, n_chips, reserved_fraction) - weight_bytes(total_params, precision)
    return float(math.floor(max(free, 0.0) / (batch * kv_bytes_per_token)))


def hbm_bytes_needed(batch: float, *, total_params: float, context_tokens: float, kv_bytes_per_token: float,
                     precision: Precision) -> float:
    """Weights plus every sequence's KV cache [bytes] (``roofline.memory_needed_bytes`` for one batch)."""
    return float(roofline.memory_needed_bytes(batch, total_params=total_params, context_tokens=context_tokens,
                                              kv_bytes_per_token=kv_bytes_per_token, precision=precision))


def min_chips_to_serve(batch: float, *, total_params: float, context_tokens: float, kv_bytes_per_token: float,
                       chip: Chip, precision: Precision | None = None, reserved_fraction: float = 0.0) -> int:
    """Fewest chips whose usable HBM holds the weights and ``batch`` sequences at ``context_tokens`` [count]."""
    precision = precision or roofline.serving_precision(chip)
    needed = hbm_bytes_needed(batch, total_params=total_params, context_tokens=context_tokens,
                              kv_bytes_per_token=kv_bytes_per_token, precision=precision)
    return max(1, math.ceil(needed / usable_hbm_bytes(chip, 1, reserved_fraction)))


def critical_batch_fits(*, active_params: float, total_params: float, context_tokens: float,
                        kv_bytes_per_token: float, chip: Chip, n_chips: int = 1,
                        precision: Precision | None = None, reserved_fraction: float = 0.0,
                        step_model: str = "overlap") -> bool:
    """True when the group's HBM holds the critical batch, so the step can become compute-bound."""
    precision = precision or roofline.serving_precision(chip)
    critical = roofline.critical_batch(active_params=active_params, total_params=total_params,
                                       context_tokens=context_tokens, kv_bytes_per_token=kv_bytes_per_token,
                                       chip=chip, precision=precision, step_model=step_model)
    fits = max_batch_that_fits(total_params=total_params, context_tokens=context_tokens,
                               kv_bytes_per_token=kv_bytes_per_token, chip=chip, n_chips=n_chips,
                               precision=precision, reserved_fraction=reserved_fraction)
    return math.isfinite(critical) and critical <= fits
