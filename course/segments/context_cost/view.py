"""Segment 6 view: decode cost per token against context length, and published price steps, for one setting."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from course.models import context_cost, prefill, roofline
from course.plots.common import log_limits
from course.presets import chips, llms, prices

CONTEXT_GRID = np.logspace(3, np.log10(2e6), 200)
"""Context lengths drawn, 1K to 2M tokens [tokens]."""

DEFAULT_ATTENTION_FLOPS_PER_PAIR = prefill.attention_flops_per_query_key(llms.LLAMA_3_70B)
"""Attention FLOPs per query-key pair over all layers the explorer starts from: Llama-3-70B's 2.62M, a stand-in
for the lecture's 100B model, whose attention the lecture leaves open [FLOP]."""

RELATIVE_TOPS = (3.0, 5.0, 10.0, 20.0)
"""Tops the relative-cost axis may take [x]: the smallest above 1.2 x the curve's maximum, at most the last."""


@dataclass(frozen=True)
class PriceStep:
    """A published price tier drawn as ratios to its short-context price.

    Attributes:
        label: product name.
        threshold_tokens: where the long-context price starts [tokens].
        input_ratio, output_ratio: price relative to the short price over the context grid [x].
    """

    label: str
    threshold_tokens: float
    input_ratio: np.ndarray
    output_ratio: np.ndarray


@lru_cache(maxsize=1)
def published_price_steps() -> tuple[PriceStep, ...]:
    """The published tiers (``course.presets.prices``) as relative price steps over ``CONTEXT_GRID``."""
    return tuple(
        PriceStep(label=tier.model.split(" (")[0], threshold_tokens=tier.threshold_tokens,
                  input_ratio=context_cost.price_ratio(tier, CONTEXT_GRID, "input"),
                  output_ratio=context_cost.price_ratio(tier, CONTEXT_GRID, "output"))
        for tier in prices.PRICE_TIERS.values()
    )


@dataclass(frozen=True)
class ContextCostView:
    """What the segment 6 figure and readout show, over one context grid.

    Attributes:
        context: context lengths [tokens].
        compute_cost, kv_cost, total_cost: decode cost per million output tokens from compute alone,
            from KV fetches alone, and from their max [USD / 1e6 tokens].
        relative_cost: total cost over the compute-bound floor [x].
        crossover_tokens: where KV fetch time equals compute time [tokens].
        current_context: the selected context [tokens]; current_cost [USD / 1e6 tokens] and
            current_relative [x] are the values there.
        price_steps: published tiers as relative price steps (do not depend on the controls).
        cost_ylim: y limits of the cost panel, whole decades for every chip [USD / 1e6 tokens]; relative_top: top of the
            relative panel [x].
        chip_name, precision_name: the chip and its serving precision; multiply_adds_per_byte: its balance [1/B].
        implied_kv: (product, threshold [tokens], implied KV bytes per token [B/token]) per published tier.
        load_ms: time to load this sequence's KV cache from HBM [ms]; recompute_s: to recompute it by
            prefill at peak [s]; active_params: active parameters [count].
        prefill_relative: cost of an input (prefill) token of a prompt this long over its weights-only floor,
            1 + a (L+1) / (4 N) [x]; current_prefill_relative: its value at the selected context [x].
        attention_doubling_tokens: prompt length where attention doubles an input token's cost, 4 N / a [tokens].
    """

    context: np.ndarray
    compute_cost: np.ndarray
    kv_cost: np.ndarray
    total_cost: np.ndarray
    relative_cost: np.ndarray
    crossover_tokens: float
    current_context: float
    current_cost: float
    current_relative: float
    price_steps: tuple[PriceStep, ...]
    cost_ylim: tuple[float, float]
    relative_top: float
    chip_name: str
    precision_name: str
    multiply_adds_per_byte: float
    implied_kv: tuple
    load_ms: float
    recompute_s: float
    active_params: float
    prefill_relative: np.ndarray
    current_prefill_relative: float
    attention_doubling_tokens: float

    @property
    def layout_key(self) -> tuple:
        return self.cost_ylim, self.relative_top

    @property
    def label_key(self) -> tuple:
        return ()


@lru_cache(maxsize=512)
def chip_independent_cost_ylim(active_params: float, kv_bytes_per_token: float,
                               price_usd_per_chip_hour: float) -> tuple[float, float]:
    """Cost-panel limits holding every roofline chip's compute and KV curves, so switching chips moves the
    curves, not the axis (whole decades) [USD / 1e6 tokens]."""
    usd_per_s = price_usd_per_chip_hour / roofline.SECONDS_PER_HOUR * roofline.TOKENS_PER_MILLION
    kept = []
    for chip in chips.roofline_chips().values():
        sweep = context_cost.large_batch_decode(CONTEXT_GRID, active_params=active_params,
                                                kv_bytes_per_token=kv_bytes_per_token, chip=chip)
        floor = float(sweep.compute_s) * usd_per_s
        kv = sweep.kv_s * usd_per_s
        kept += [[floor], kv[kv >= floor / 1e3]]
    return log_limits(*kept, pad=1.5)


def context_cost_view(*, context_tokens: float, active_params: float, kv_bytes_per_token: float, chip: chips.Chip,
                      price_usd_per_chip_hour: float = chips.DEFAULT_PRICE_USD_PER_CHIP_HOUR,
                      attention_flops_per_pair: float = DEFAULT_ATTENTION_FLOPS_PER_PAIR) -> ContextCostView:
    """The segment 6 figure's numbers (pure).

    Costs are one chip's time per output token at a batch large enough to amortise the weights, at 100% of
    peak, priced per chip-hour.

    Args:
        context_tokens: selected context [tokens].
        active_params: active parameters [count].
        kv_bytes_per_token: KV-cache size per token [bytes/token].
        chip: the accelerator.
        price_usd_per_chip_hour: rental price [USD per chip-hour].
        attention_flops_per_pair: attention FLOPs per query-key pair over all layers, for prefill [FLOP].
    """
    shape = dict(active_params=active_params, kv_bytes_per_token=kv_bytes_per_token, chip=chip)
    sweep = context_cost.large_batch_decode(CONTEXT_GRID, **shape)
    here = context_cost.large_batch_decode(context_tokens, **shape)
    usd_per_s = price_usd_per_chip_hour / roofline.SECONDS_PER_HOUR * roofline.TOKENS_PER_MILLION
    floor = float(sweep.compute_s) * usd_per_s
    total = roofline.cost_per_million_tokens(sweep, price_usd_per_chip_hour)
    current = float(roofline.cost_per_million_tokens(here, price_usd_per_chip_hour))
    compute_cost = np.full_like(CONTEXT_GRID, floor)
    kv_cost = sweep.kv_s * usd_per_s
    relative = total / floor
    prompt = np.append(CONTEXT_GRID, float(context_tokens))
    with_attention = prefill.prefill_flops_per_token(prompt, active_params=active_params,
                                                     attention_flops_per_pair=attention_flops_per_pair)
    prefill_relative = with_attention / prefill.prefill_flops_per_token(prompt, active_params=active_params)
    precision = roofline.serving_precision(chip)
    balance = context_cost.multiply_adds_per_byte(chip)
    return ContextCostView(
        context=CONTEXT_GRID,
        compute_cost=compute_cost,
        kv_cost=kv_cost,
        total_cost=total,
        relative_cost=relative,
        crossover_tokens=context_cost.crossover_context_on_chip(active_params, kv_bytes_per_token, chip),
        current_context=float(context_tokens),
        current_cost=current,
        current_relative=current / floor,
        price_steps=published_price_steps(),
        cost_ylim=chip_independent_cost_ylim(float(active_params), float(kv_bytes_per_token),
                                             float(price_usd_per_chip_hour)),
        relative_top=next((top for top in RELATIVE_TOPS
                           if top >= 1.2 * max(float(relative.max()), float(prefill_relative.max()))),
                          RELATIVE_TOPS[-1]),
        chip_name=chip.name,
        precision_name=precision.name,
        multiply_adds_per_byte=balance,
        implied_kv=tuple((tier.model.split(" (")[0], tier.threshold_tokens,
                          context_cost.tier_implied_kv_bytes_per_token(tier, active_params, balance))
                         for tier in prices.PRICE_TIERS.values()),
        load_ms=context_cost.kv_load_time_s(context_tokens, kv_bytes_per_token, chip.hbm_bandwidth) * 1e3,
        recompute_s=context_cost.kv_recompute_time_s(context_tokens, active_params, precision.flops_per_s(chip)),
        active_params=float(active_params),
        prefill_relative=prefill_relative[:-1],
        current_prefill_relative=float(prefill_relative[-1]),
        attention_doubling_tokens=prefill.attention_doubling_length(active_params, attention_flops_per_pair),
    )


def view(values: Mapping[str, object]) -> ContextCostView:
    """The view for the explorer's control values (keys: context_tokens, active_billions, kv_bytes_per_token, chip,
    attention_mflop)."""
    return context_cost_view(context_tokens=values["context_tokens"], active_params=values["active_billions"] * 1e9,
                             kv_bytes_per_token=values["kv_bytes_per_token"],
                             chip=chips.roofline_chips()[values["chip"]],
                             attention_flops_per_pair=values["attention_mflop"] * 1e6)
