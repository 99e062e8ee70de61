"""Roofline of one decode step: compute time vs memory time as batch size grows.

Conventions (and how they meet the lecture's "~300 FLOPs/byte"):

* A token costs ``flops_per_param_token = 2`` FLOPs per active parameter
  (one multiply and one add).
* A ``Precision`` says three things explicitly: bytes per stored weight, which
  tensor throughput (bf16 or fp8 FLOP/s of the chip) the matmuls run at, and
  bytes per KV-cache value.
* The lecture writes t_compute = B*N_active/FLOPs and t_mem = N_total/mem_bw
  and calls FLOPs/mem_bw ~ 300: the chip's dense **bf16** FLOP/s over its HBM
  bandwidth (295 on an H100 SXM, see ``machine_balance``). With real counts the
  no-KV critical batch is

      B* = (F / bw) * (w / f) / sparsity,

  F the tensor FLOP/s used, w bytes per weight, f = 2 FLOPs per parameter.
  bf16 weights + bf16 compute: F_bf16 * 2/2 = F_bf16; fp8 weights + fp8
  compute: 2 F_bf16 * 1/2 = F_bf16. So both give the lecture's 300/sparsity:
  the formula is not "exact only for fp8". 8-bit weights with bf16 compute
  (weight-only quantization, upcast before the matmul) give F_bf16 * 1/2: the
  weight read halves, the compute does not, and the critical batch **halves**.

Two step-time models (``step_model``):

* ``"overlap"`` (the lecture, the default): T = max(t_compute, t_weights + t_KV);
  KV reads overlap the matmuls.
* ``"additive"`` (jax-ml/scaling-book, inference chapter): attention is
  memory-bound on its own and runs beside, not under, the weight matmuls:
  T = t_KV + max(t_compute, t_weights). Its critical batch (the matmuls turn
  compute-bound) no longer depends on context, but at long context t_KV still
  dominates T and MFU stays low. The lecture's "no batch is ever compute-bound
  at long context" holds only in the overlap model.
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


COMPUTE_FORMATS = ("bf16", "fp8")
"""Tensor formats whose dense FLOP/s the chip presets carry."""

STEP_MODELS = ("overlap", "additive")
"""Step-time models: the lecture's max(compute, weights + KV), scaling-book's KV + max(compute, weights)."""


@dataclass(frozen=True)
class Precision:
    """How weights are stored, which tensor throughput serves them, and how wide KV values are.

    Attributes:
        name: display name, e.g. "fp8".
        weight_bytes_per_param: storage per weight [bytes].
        compute: tensor format of the matmuls, "bf16" or "fp8": selects the
            chip's ``dense_bf16_flops`` or ``dense_fp8_flops``. Left out, it is
            read from ``name``, which must then be exactly (any case) "bf16" or
            "fp8"; any other name without ``compute`` is an error, never a
            silent bf16.
        kv_bytes_per_value: storage per KV-cache value [bytes]; 2 for bf16, 1 for 8-bit KV.
    """

    name: str
    weight_bytes_per_param: float
    compute: str | None = None
    kv_bytes_per_value: float = 2.0

    def __post_init__(self):
        compute = self.compute if self.compute is not None else self.name
        if not isinstance(compute, str) or compute.lower() not in COMPUTE_FORMATS:
            raise ValueError(
                f"precision {self.name!r}: compute must be one of {', '.join(COMPUTE_FORMATS)} "
                f"(got {self.compute!r}); pass compute=... explicitly or use roofline.precision_named()")
        object.__setattr__(self, "compute", compute.lower())
        if not self.weight_bytes_per_param > 0 or not self.kv_bytes_per_value > 0:
            raise ValueError(f"precision {self.name!r}: bytes per weight and per KV value must be positive")

    def flops_per_s(self, chip: Chip) -> float:
        """Dense tensor throughput of ``chip`` in this precision's compute format [FLOP/s]."""
        value = chip.dense_fp8_flops if self.compute == "fp8" else chip.dense_bf16_flops
        if value is None:
            raise ValueError(f"{chip.name} has no published dense {self.compute} FLOP/s in the course presets "
                             "(course/presets/chips.py); choose bf16 compute or another chip")
        return value


FP8 = Precision("fp8", 1.0, compute="fp8")
"""fp8 weights, fp8 tensor cores, bf16 KV (the lecture's convention and DeepSeek-V3's serving)."""

BF16 = Precision("bf16", 2.0, compute="bf16")
"""bf16 weights and tensor cores, bf16 KV."""

W8_BF16 = Precision("w8-bf16", 1.0, compute="bf16")
"""8-bit weights upcast to bf16 before the matmul (weight-only quantization), bf16 KV: halves B*."""

PRECISIONS: dict[str, Precision] = {"fp8": FP8, "bf16": BF16, "w8-bf16": W8_BF16}
"""Named precisions; ``precision_named`` looks them up."""


def precision_named(name: str) -> Precision:
    """The precision called ``name`` (exact match, any case) in ``PRECISIONS``; else ValueError naming the choices."""
    key = name.lower() if isinstance(name, str) else name
    if key not in PRECISIONS:
        raise ValueError(f"unknown precision {name!r}; choose one of {', '.join(PRECISIONS)} "
                         "(course/models/roofline.py, PRECISIONS)")
    return PRECISIONS[key]


def custom_precision(*, weight_bytes_per_param: float, compute: str, kv_bytes_per_value: float = 2.0) -> Precision:
    """A precision from its three numbers, named like "w1-fp8-kv2" [bytes, format, bytes]."""
    name = f"w{weight_bytes_per_param:g}-{compute.lower() if isinstance(compute, str) else compute}-kv{kv_bytes_per_value:g}"
    return Precision(name, weight_bytes_per_param, compute=compute, kv_bytes_per_value=kv_bytes_per_value)


def serving_precision(chip: Chip) -> Precision:
    """fp8 where the chip has it (the lecture's convention), else bf16."""
    return FP8 if chip.dense_fp8_flops is not None else BF16


def flops_per_byte(chip: Chip, precision: Precision) -> float:
    """Tensor FLOP/s in the precision's compute format per byte/s of HBM bandwidth [FLOP/byte]."""
    return precision.flops_per_s(chip) / chip.hbm_bandwidth


def critical_batch_dense(chip: Chip, precision: Precision,
                         flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN) -> float:
    """Critical batch of a dense model, KV ignored: (F / bw) * (w / f) [sequences].

    Weight read N*w/bw equals compute B*N*f/F at B = F*w/(bw*f): 295 on an
    H100 for bf16+bf16 and for fp8+fp8 alike, half that for 8-bit weights with
    bf16 compute. Divide by the sparsity N_active/N_total for an MoE.
    """
    return flops_per_byte(chip, precision) * precision.weight_bytes_per_param / flops_per_param_token


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


def check_step_model(step_model: str) -> str:
    """``step_model`` itself if it is one of ``STEP_MODELS``; else ValueError naming them."""
    if step_model not in STEP_MODELS:
        raise ValueError(f"unknown step model {step_model!r}; choose one of {', '.join(STEP_MODELS)}")
    return step_model


@dataclass(frozen=True)
class DecodeStep:
    """Times of one decode step for a batch (scalars or numpy arrays over batch) [s].

    Attributes:
        batch: sequences decoded together [tokens per step].
        compute_s: time the tensor cores need [s].
        weights_s: time to stream the weights from HBM once [s] (an array where it depends on batch).
        kv_s: time to stream every sequence's KV cache [s].
        n_chips: chips sharing the step [count].
        step_model: "overlap" (lecture, default) or "additive" (scaling-book); see the module docstring.
    """

    batch: np.ndarray | float
    compute_s: np.ndarray | float
    weights_s: np.ndarray | float
    kv_s: np.ndarray | float
    n_chips: int
    step_model: str = "overlap"

    @property
    def memory_s(self):
        """HBM time: weights plus KV cache [s]."""
        return self.weights_s + self.kv_s

    @property
    def step_s(self):
        """Step latency [s]: max(t_compute, t_weights + t_KV) (overlap) or t_KV + max(t_compute, t_weights) (additive)."""
        if self.step_model == "additive":
            return self.kv_s + np.maximum(self.compute_s, self.weights_s)
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
        """True where the batch is at or past this model's critical batch.

        Overlap: compute time is at least weights + KV time. Additive: the
        weight matmuls are compute-bound (compute at least the weight read);
        the KV read is memory-bound in every case and adds on top.
        """
        if self.step_model == "additive":
            return self.compute_s >= self.weights_s
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
    step_model: str = "overlap",
    weight_bytes_read=None,
) -> DecodeStep:
    """Roofline of one decode step on ``n_chips`` chips sharing the work evenly.

    Args:
        batch: sequences per step [count]; scalar or array.
        active_params, total_params: parameters used per token / stored [count].
        context_tokens: tokens already in each sequence's KV cache [tokens].
        kv_bytes_per_token: KV-cache size per token [bytes/token].
        chip: the accelerator; n_chips: how many share the step [count].
        precision: serving precision (default: ``serving_precision(chip)``).
        flops_per_param_token: FLOPs per active parameter per token [FLOP].
        step_model: "overlap" (lecture) or "additive" (scaling-book).
        weight_bytes_read: bytes of weights read this step [bytes], scalar or
            array over batch; default all of them, total_params * bytes per
            weight (the lecture). ``course.models.expert_reads`` gives the
            expected MoE read, which grows with batch.
    """
    check_step_model(step_model)
    precision = precision or serving_precision(chip)
    batch = np.asarray(batch, dtype=float) if np.ndim(batch) else float(batch)
    flops_per_s = precision.flops_per_s(chip) * n_chips
    bandwidth = chip.hbm_bandwidth * n_chips
    compute_s = batch * active_params * flops_per_param_token / flops_per_s
    if weight_bytes_read is None:
        weight_bytes_read = total_params * precision.weight_bytes_per_param
    weights_s = weight_bytes_read / bandwidth
    kv_s = batch * context_tokens * kv_bytes_per_token / bandwidth
    return DecodeStep(batch=batch, compute_s=compute_s, weights_s=weights_s, kv_s=kv_s, n_chips=n_chips,
                      step_model=step_model)


def critical_batch(
    *,
    active_params: float,
    total_params: float,
    context_tokens: float,
    kv_bytes_per_token: float,
    chip: Chip,
    precision: Precision | None = None,
    flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN,
    step_model: str = "overlap",
) -> float:
    """Smallest batch at which the step turns compute-bound [sequences]; independent of the chip count.

    Overlap: solves B*N_a*f/F = (N_t*w + B*ctx*kv)/bw, i.e.
    B* = (N_t*w/bw) / (N_a*f/F - ctx*kv/bw); ``inf`` when the KV cache alone
    grows faster than compute, so no batch is ever compute-bound.
    Additive: the matmuls turn compute-bound where B*N_a*f/F = N_t*w/bw,
    whatever the context (KV time adds on top either way).
    """
    check_step_model(step_model)
    precision = precision or serving_precision(chip)
    flops_per_s = precision.flops_per_s(chip)
    per_sequence_compute = active_params * flops_per_param_token / flops_per_s
    per_sequence_kv = context_tokens * kv_bytes_per_token / chip.hbm_bandwidth
    margin = per_sequence_compute - (per_sequence_kv if step_model == "overlap" else 0.0)
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
