"""Segment 1 view: the numbers the batch-size figure and readout show, for one setting of the controls."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from course.models import expert_reads as moe_reads
from course.models import kv_cache, memory, roofline
from course.plots.common import log_limits
from course.presets import chips, llms

BATCH_GRID = np.logspace(0, 14, 120, base=2.0)
"""Batch sizes drawn, 1 to 16,384 [sequences]."""

EXPERT_READS = ("full", "expected")
"""Weight-read models: the whole model every step (the lecture), or the expected MoE read
(``course.models.expert_reads``)."""

CHIP_MULTIPLIERS = (1, 2, 4)
"""Chip counts the explorer offers, as multiples of the fewest chips that hold the weights [factor]."""


@dataclass(frozen=True)
class BatchSizeView:
    """What the segment 1 figure and readout show.

    Attributes:
        batch: batch sizes of the curves [sequences].
        compute_ms, memory_ms, step_ms: decode-step times over ``batch`` [ms].
        cost_usd_per_mtok: serving cost over ``batch`` [USD per million output tokens].
        current_batch: the selected batch [sequences].
        current_step_ms, current_cost: step time [ms] and cost [USD per million tokens] there.
        critical_batch: where compute time meets memory time [sequences]; inf if never.
        drain_ms: HBM capacity / bandwidth [ms].
        chip_name: the chip's display name; n_chips: chips holding the weights (a power of two) [count].
        compute_bound: whether the selected batch is compute-bound.
        tokens_per_s: output tokens per second of the group at the selected batch [tokens/s].
        mfu: model FLOPs utilisation there [fraction].
        latency_ylim, cost_ylim: y limits of the two panels, whole decades holding the curves of every
            menu choice (``menu_independent_limits``) [ms], [USD per million tokens].
    """

    batch: np.ndarray
    compute_ms: np.ndarray
    memory_ms: np.ndarray
    step_ms: np.ndarray
    cost_usd_per_mtok: np.ndarray
    current_batch: float
    current_step_ms: float
    current_cost: float
    critical_batch: float
    drain_ms: float
    chip_name: str
    n_chips: int
    compute_bound: bool
    tokens_per_s: float
    mfu: float
    latency_ylim: tuple[float, float]
    cost_ylim: tuple[float, float]
    weights_ms: np.ndarray
    max_batch: float
    critical_fits: bool
    precision_name: str
    step_model: str
    expert_reads: str

    @property
    def layout_key(self) -> tuple:
        """The axis limits: the background changes only when they do."""
        return self.latency_ylim, self.cost_ylim

    @property
    def label_key(self) -> tuple:
        """No label layer."""
        return ()


def expected_params_read(batch, llm: llms.LLM, total_params: float):
    """Expected parameters one step of ``batch`` tokens reads, for ``llm``'s routing at another total [count].

    ``course.models.expert_reads.expected_params_read`` with ``llm`` resized to ``total_params``. Where the active share
    is below the routed share k/E, that routing cannot produce it: every parameter is then taken as routed,
    with k/E equal to the active share, so one token still reads exactly N_active.
    """
    if llm.routed_experts is None:
        return np.full(np.shape(batch), total_params) if np.ndim(batch) else total_params
    resized = replace(llm, total_params=total_params)
    if moe_reads.always_on_params(resized) >= 0:
        return moe_reads.expected_params_read(batch, resized)
    share = llm.active_params / total_params
    return total_params * moe_reads.touched_expert_fraction(batch, share * llm.routed_experts, llm.routed_experts)


def chip_precision(chip: chips.Chip, name: str) -> roofline.Precision:
    """The precision ``name`` (``roofline.PRECISIONS``) on ``chip``; fp8 becomes bf16 on a chip without fp8."""
    if name == "fp8" and chip.dense_fp8_flops is None:
        name = "bf16"
    return roofline.precision_named(name)


def _weights_read(batch, llm: llms.LLM, total: float, precision: roofline.Precision, expert_reads: str):
    """Weight bytes one step reads [bytes]: None (the whole model) or the expected MoE read."""
    if expert_reads not in EXPERT_READS:
        raise ValueError(f"unknown expert_reads {expert_reads!r}; choose one of {', '.join(EXPERT_READS)}")
    if expert_reads == "full":
        return None
    return expected_params_read(batch, llm, total) * precision.weight_bytes_per_param


def _setup(chip: chips.Chip, precision: roofline.Precision, active_fraction: float, context_tokens: float,
           llm: llms.LLM, chip_multiplier: int) -> tuple[int, dict]:
    """(n_chips, model shape): the fewest chips (a power of two) holding the weights, times the multiplier."""
    total = llm.active_params / active_fraction
    n_chips = chip_multiplier * int(2 ** np.ceil(np.log2(roofline.chips_to_hold(
        memory.weight_bytes(total, precision), chip))))
    shape = dict(active_params=llm.active_params, total_params=total, context_tokens=context_tokens,
                 kv_bytes_per_token=kv_cache.kv_bytes_per_token(llm), chip=chip, precision=precision)
    return n_chips, shape


def _sweep(chip: chips.Chip, precision: roofline.Precision, active_fraction: float, context_tokens: float,
           llm: llms.LLM, step_model: str, expert_reads: str, chip_multiplier: int):
    """(n_chips, model shape, decode steps over ``BATCH_GRID``)."""
    n_chips, shape = _setup(chip, precision, active_fraction, context_tokens, llm, chip_multiplier)
    reads = _weights_read(BATCH_GRID, llm, shape["total_params"], precision, expert_reads)
    return n_chips, shape, roofline.decode_step(BATCH_GRID, n_chips=n_chips, step_model=step_model,
                                                weight_bytes_read=reads, **shape)


@lru_cache(maxsize=512)
def menu_independent_limits(active_fraction: float, context_tokens: float, price_usd_per_chip_hour: float,
                            llm: llms.LLM) -> tuple[tuple[float, float], tuple[float, float]]:
    """Latency [ms] and cost [USD per million tokens] limits holding the curves of every menu choice (each
    roofline chip, named precision, step model, expert-read model and chip multiplier), so a menu change
    moves the curves, not the axes (whole decades)."""
    latency, cost = [], []
    for chip in chips.roofline_chips().values():
        for precision_name in dict.fromkeys(chip_precision(chip, name).name for name in roofline.PRECISIONS):
            precision = roofline.precision_named(precision_name)
            for expert_reads in EXPERT_READS:
                for chip_multiplier in CHIP_MULTIPLIERS:
                    _, _, sweep = _sweep(chip, precision, active_fraction, context_tokens, llm,
                                         roofline.STEP_MODELS[0], expert_reads, chip_multiplier)
                    latency += [sweep.compute_s, sweep.memory_s]
                    for step_model in roofline.STEP_MODELS:  # the same compute and HBM times, combined otherwise
                        step = replace(sweep, step_model=step_model)
                        latency.append(step.step_s)
                        cost.append(roofline.cost_per_million_tokens(step, price_usd_per_chip_hour))
    return log_limits(*(np.asarray(values) * 1e3 for values in latency)), log_limits(*cost)


def batch_size_view(*, batch: float, active_fraction: float, context_tokens: float, chip: chips.Chip,
                    price_usd_per_chip_hour: float, llm: llms.LLM = llms.DEEPSEEK_V3,
                    precision: roofline.Precision | None = None, step_model: str = "overlap",
                    expert_reads: str = "full", chip_multiplier: int = 1) -> BatchSizeView:
    """The segment 1 figure's numbers (pure).

    The model keeps ``llm``'s active parameters and KV layout; its total is active / active_fraction.
    The chip count is the fewest chips (a power of two) whose HBM holds the weights, times ``chip_multiplier``.

    Args:
        batch: selected batch [sequences].
        active_fraction: active / total parameters [fraction].
        context_tokens: tokens in each sequence's KV cache [tokens].
        chip: the accelerator.
        price_usd_per_chip_hour: rental price [USD per chip-hour].
        llm: the model shape.
        precision: serving precision (default: fp8 where the chip has it, else bf16).
        step_model: "overlap" (lecture) or "additive" (scaling-book), see ``roofline``.
        expert_reads: "full" (the whole model every step) or "expected" (MoE experts touched at this batch).
        chip_multiplier: chips beyond the fewest that hold the weights [factor].
    """
    precision = precision or roofline.serving_precision(chip)
    n_chips, shape, sweep = _sweep(chip, precision, active_fraction, context_tokens, llm, step_model,
                                   expert_reads, chip_multiplier)
    here = roofline.decode_step(batch, n_chips=n_chips, step_model=step_model, **shape,
                                weight_bytes_read=_weights_read(batch, llm, shape["total_params"], precision,
                                                                expert_reads))
    compute_ms, memory_ms = sweep.compute_s * 1e3, np.broadcast_to(sweep.memory_s, BATCH_GRID.shape) * 1e3
    cost = roofline.cost_per_million_tokens(sweep, price_usd_per_chip_hour)
    critical = roofline.critical_batch(step_model=step_model, **shape)
    max_batch = memory.max_batch_that_fits(total_params=shape["total_params"], context_tokens=context_tokens,
                                           kv_bytes_per_token=shape["kv_bytes_per_token"], chip=chip,
                                           n_chips=n_chips, precision=precision)
    if (chip in chips.roofline_chips().values() and precision.name in roofline.PRECISIONS
            and precision == chip_precision(chip, precision.name) and chip_multiplier in CHIP_MULTIPLIERS):
        latency_ylim, cost_ylim = menu_independent_limits(active_fraction, context_tokens, price_usd_per_chip_hour,
                                                          llm)
    else:
        latency_ylim, cost_ylim = log_limits(compute_ms, memory_ms, sweep.step_s * 1e3), log_limits(cost)
    return BatchSizeView(
        batch=BATCH_GRID,
        compute_ms=compute_ms,
        memory_ms=memory_ms,
        step_ms=sweep.step_s * 1e3,
        cost_usd_per_mtok=cost,
        current_batch=float(batch),
        current_step_ms=float(here.step_s) * 1e3,
        current_cost=float(roofline.cost_per_million_tokens(here, price_usd_per_chip_hour)),
        critical_batch=critical,
        drain_ms=roofline.drain_time_s(chip) * 1e3,
        chip_name=chip.name,
        n_chips=n_chips,
        compute_bound=bool(here.compute_bound),
        tokens_per_s=float(here.tokens_per_s),
        mfu=float(here.mfu),
        latency_ylim=latency_ylim,
        cost_ylim=cost_ylim,
        weights_ms=np.broadcast_to(sweep.weights_s, BATCH_GRID.shape) * 1e3,
        max_batch=max_batch,
        critical_fits=bool(np.isfinite(critical) and critical <= max_batch),
        precision_name=precision.name,
        step_model=step_model,
        expert_reads=expert_reads,
    )


def view(values: Mapping[str, object], llm: llms.LLM = llms.DEEPSEEK_V3) -> BatchSizeView:
    """The view for the explorer's control values.

    Keys: batch, active_fraction, context_tokens, price, chip, and optionally precision (a name in
    ``roofline.PRECISIONS``; fp8 falls back to bf16 on a chip without fp8), step_model, expert_reads, chips
    (the chip multiplier).
    """
    chip = chips.roofline_chips()[values["chip"]]
    return batch_size_view(batch=values["batch"], active_fraction=values["active_fraction"],
                           context_tokens=values["context_tokens"], chip=chip,
                           price_usd_per_chip_hour=values["price"], llm=llm,
                           precision=chip_precision(chip, values.get("precision", "fp8")),
                           step_model=values.get("step_model", "overlap"),
                           expert_reads=values.get("expert_reads", "full"),
                           chip_multiplier=int(values.get("chips", 1)))
