"""Segment 1 view: the numbers the batch-size figure and readout show, for one setting of the controls."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from course.models import kv_cache, roofline
from course.plots.common import log_limits
from course.presets import chips, llms

BATCH_GRID = np.logspace(0, 14, 120, base=2.0)
"""Batch sizes drawn, 1 to 16,384 [sequences]."""


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
        latency_ylim, cost_ylim: y limits of the two panels, whole decades [ms], [USD per million tokens].
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

    @property
    def layout_key(self) -> tuple:
        """The axis limits: the background changes only when they do."""
        return self.latency_ylim, self.cost_ylim

    @property
    def label_key(self) -> tuple:
        """No label layer."""
        return ()


def batch_size_view(*, batch: float, active_fraction: float, context_tokens: float, chip: chips.Chip,
                    price_usd_per_chip_hour: float, llm: llms.LLM = llms.DEEPSEEK_V3) -> BatchSizeView:
    """The segment 1 figure's numbers (pure).

    The model keeps ``llm``'s active parameters and KV layout; its total is active / active_fraction.
    The chip count is the fewest chips (a power of two) whose HBM holds the weights.

    Args:
        batch: selected batch [sequences].
        active_fraction: active / total parameters [fraction].
        context_tokens: tokens in each sequence's KV cache [tokens].
        chip: the accelerator.
        price_usd_per_chip_hour: rental price [USD per chip-hour].
        llm: the model shape.
    """
    precision = roofline.serving_precision(chip)
    total = llm.active_params / active_fraction
    kv = kv_cache.kv_bytes_per_token(llm)
    n_chips = int(2 ** np.ceil(np.log2(roofline.chips_to_hold(total * precision.weight_bytes_per_param, chip))))
    shape = dict(active_params=llm.active_params, total_params=total, context_tokens=context_tokens,
                 kv_bytes_per_token=kv, chip=chip, precision=precision)
    sweep = roofline.decode_step(BATCH_GRID, n_chips=n_chips, **shape)
    here = roofline.decode_step(batch, n_chips=n_chips, **shape)
    compute_ms, memory_ms = sweep.compute_s * 1e3, sweep.memory_s * 1e3
    cost = roofline.cost_per_million_tokens(sweep, price_usd_per_chip_hour)
    return BatchSizeView(
        batch=BATCH_GRID,
        compute_ms=compute_ms,
        memory_ms=memory_ms,
        step_ms=sweep.step_s * 1e3,
        cost_usd_per_mtok=cost,
        current_batch=float(batch),
        current_step_ms=float(here.step_s) * 1e3,
        current_cost=float(roofline.cost_per_million_tokens(here, price_usd_per_chip_hour)),
        critical_batch=roofline.critical_batch(**shape),
        drain_ms=roofline.drain_time_s(chip) * 1e3,
        chip_name=chip.name,
        n_chips=n_chips,
        compute_bound=bool(here.compute_bound),
        tokens_per_s=float(here.tokens_per_s),
        mfu=float(here.mfu),
        latency_ylim=log_limits(compute_ms, memory_ms),
        cost_ylim=log_limits(cost),
    )


def view(values: Mapping[str, object], llm: llms.LLM = llms.DEEPSEEK_V3) -> BatchSizeView:
    """The view for the explorer's control values (keys: batch, active_fraction, context_tokens, price, chip)."""
    return batch_size_view(batch=values["batch"], active_fraction=values["active_fraction"],
                           context_tokens=values["context_tokens"], chip=chips.roofline_chips()[values["chip"]],
                           price_usd_per_chip_hour=values["price"], llm=llm)
