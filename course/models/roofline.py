"""Roofline of one decode step: compute time vs memory time as batch size grows.

Conventions (and how they meet the lecture's "~300 FLOPs/byte"):

* A token costs ``flops_per_param_token = 2`` FLOPs per active parameter
  (one multiply and one add).
* Weights take ``weight_bytes_per_param`` bytes each: 1 for fp8, 2 for bf16.
* The lecture writes t_compute = B*N_active/FLOPs and t_mem = N_total/mem_bw,
  i.e. one operation per weight use and one byte per weight, and calls
  FLOPs/mem_bw ~ 300. That is exact for fp8 serving: fp8 tensor throughput is
  twice the bf16 figure, and the 2 FLOPs per multiply-add cancel that doubling,
  so the lecture's "300" is the chip's dense **bf16** FLOP/s over its HBM
  bandwidth (295 on an H100 SXM, see ``machine_balance``). The course computes
  with real FLOP and byte counts and serves in fp8 by default, which reproduces
  the lecture's formulas exactly; bf16 serving gives the same critical batch
  (both 2s cancel) but different KV-bound figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course.presets.chips import Chip
from course.units import SECONDS_PER_HOUR, TOKENS_PER_MILLION

LECTURE_FLOPS_PER_BYTE = 300.0
"""The lecture's round machine balance [FLOP/byte] (dense bf16 FLOP/s per HBM byte/s)."""

FLOPS_PER_PARAM_TOKEN = 2.0
"""Forward-pass FLOPs per active parameter per token: a multiply and an add [FLOP]."""


@dataclass(frozen=True)
class Precision:
    """How weights are stored and which tensor throughput serves them.

    Attributes:
        name: "fp8" or "bf16".
        weight_bytes_per_param: storage per weight [bytes].
    """

    name: str
    weight_bytes_per_param: float

    def flops_per_s(self, chip: Chip) -> float:
        """Dense tensor throughput of ``chip`` at this precision [FLOP/s]."""
        value = chip.dense_fp8_flops if self.name == "fp8" else chip.dense_bf16_flops
        if value is None:
            raise ValueError(f"{chip.name} has no published dense {self.name} FLOP/s in the course presets")
        return value


FP8 = Precision("fp8", 1.0)
BF16 = Precision("bf16", 2.0)


def serving_precision(chip: Chip) -> Precision:
    """fp8 where the chip has it (the lecture's convention), else bf16."""
    return FP8 if chip.dense_fp8_flops is not None else BF16


def machine_balance(chip: Chip) -> float:
    """Dense bf16 FLOP/s per byte/s of HBM bandwidth [FLOP/byte]: the lecture's '~300'."""
    if chip.dense_bf16_flops is None:
        raise ValueError(f"{chip.name} has no published dense bf16 FLOP/s in the course presets")
    return chip.dense_bf16_flops / chip.hbm_bandwidth


def critical_batch_from_balance(flops_per_byte: float, active_fraction: float) -> float:
    """Lecture form B* = (FLOPs/mem_bw) / sparsity [tokens], sparsity = N_active/N_total."""
    if not 0 < active_fraction <= 1:
        raise ValueError("active_fraction (N_active / N_total) must be in (0, 1]")
    return flops_per_byte / active_fraction


def drain_time_s(chip: Chip) -> float:
    """Time to read all of HBM once, capacity / bandwidth [s]: the floor on a decode step."""
    return chip.hbm_bytes / chip.hbm_bandwidth


@dataclass(frozen=True)
class DecodeStep:
    """Times of one decode step for a batch (scalars or numpy arrays over batch) [s].

    Attributes:
        batch: sequences decoded together [tokens per step].
        compute_s: time the tensor cores need [s].
        weights_s: time to stream the weights from HBM once [s].
        kv_s: time to stream every sequence's KV cache [s].
        n_chips: chips sharing the step [count].
    """

    batch: np.ndarray | float
    compute_s: np.ndarray | float
    weights_s: float
    kv_s: np.ndarray | float
    n_chips: int

    @property
    def memory_s(self):
        """HBM time: weights plus KV cache [s]."""
        return self.weights_s + self.kv_s

    @property
    def step_s(self):
        """Step latency T = max(t_compute, t_mem) [s]."""
        return np.maximum(self.compute_s, self.memory_s)

    @property
    def tokens_per_s(self):
        """Output tokens per second of the whole group [tokens/s]."""
        return self.batch / self.step_s

    @property
    def mfu(self):
        """Model FLOPs utilisation, t_compute / T [fraction of peak]."""
        return self.compute_s / self.step_s

    @property
    def compute_bound(self):
        """True where compute time is at least memory time."""
        return self.compute_s >= self.memory_s


def decode_step(
    batch,
    *,
    active_params: float,
    total_params: float,
    context_tokens: float,
    kv_bytes_per_token: float,
    chip: Chip,
    n_chips: int = 1,
    precision: Precision | None = None,
    flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN,
) -> DecodeStep:
    """Roofline of one decode step on ``n_chips`` chips sharing the work evenly.

    Args:
        batch: sequences per step [count]; scalar or array.
        active_params, total_params: parameters used per token / stored [count].
        context_tokens: tokens already in each sequence's KV cache [tokens].
        kv_bytes_per_token: KV-cache size per token [bytes/token].
        chip: the accelerator; n_chips: how many share the step.
        precision: fp8 or bf16 serving (default: ``serving_precision(chip)``).
        flops_per_param_token: FLOPs per active parameter per token [FLOP].
    """
    precision = precision or serving_precision(chip)
    batch = np.asarray(batch, dtype=float) if np.ndim(batch) else float(batch)
    flops_per_s = precision.flops_per_s(chip) * n_chips
    bandwidth = chip.hbm_bandwidth * n_chips
    compute_s = batch * active_params * flops_per_param_token / flops_per_s
    weights_s = total_params * precision.weight_bytes_per_param / bandwidth
    kv_s = batch * context_tokens * kv_bytes_per_token / bandwidth
    return DecodeStep(batch=batch, compute_s=compute_s, weights_s=weights_s, kv_s=kv_s, n_chips=n_chips)


def critical_batch(
    *,
    active_params: float,
    total_params: float,
    context_tokens: float,
    kv_bytes_per_token: float,
    chip: Chip,
    precision: Precision | None = None,
    flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN,
) -> float:
    """Smallest batch at which compute time reaches memory time [sequences].

    Solves B*N_a*f/F = (N_t*w + B*ctx*kv)/bw. Returns ``inf`` when the KV cache
    alone grows faster than compute, so no batch is ever compute-bound.
    Independent of the chip count.
    """
    precision = precision or serving_precision(chip)
    flops_per_s = precision.flops_per_s(chip)
    per_sequence_compute = active_params * flops_per_param_token / flops_per_s
    per_sequence_kv = context_tokens * kv_bytes_per_token / chip.hbm_bandwidth
    margin = per_sequence_compute - per_sequence_kv
    if margin <= 0:
        return float("inf")
    return total_params * precision.weight_bytes_per_param / chip.hbm_bandwidth / margin


def cost_per_million_tokens(step: DecodeStep, price_usd_per_chip_hour: float):
    """Serving cost of a million output tokens [USD / 1e6 tokens]."""
    group_usd_per_s = step.n_chips * price_usd_per_chip_hour / SECONDS_PER_HOUR
    return group_usd_per_s * step.step_s / step.batch * TOKENS_PER_MILLION


def memory_needed_bytes(batch, *, total_params: float, context_tokens: float, kv_bytes_per_token: float,
                        precision: Precision) -> np.ndarray | float:
    """HBM needed for weights plus every sequence's KV cache [bytes]."""
    return total_params * precision.weight_bytes_per_param + np.asarray(batch) * context_tokens * kv_bytes_per_token


def chips_to_hold(weight_and_kv_bytes: float, chip: Chip) -> int:
    """Fewest chips whose HBM holds the given bytes [count]."""
    return max(1, int(np.ceil(weight_and_kv_bytes / chip.hbm_bytes)))
