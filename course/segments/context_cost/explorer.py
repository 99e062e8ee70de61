"""Segment 6 explorer: context length, active parameters, KV bytes/token and chip against cost per token."""

from __future__ import annotations

from functools import lru_cache

import ipywidgets as widgets
import numpy as np

from course.models import context_cost, roofline
from course.segments.context_cost.plot import ContextCurves, PriceStep, draw_context_curves, update_context_curves
from course.plots.figure import new_figure
from course.presets import chips, prices
from course.widgets.base import Explorer

CONTEXT_GRID = np.logspace(3, np.log10(2e6), 200)
"""Context lengths drawn, 1K to 2M tokens [tokens]."""


@lru_cache(maxsize=1)
def published_price_steps() -> tuple[PriceStep, ...]:
    """The published tiers (``course.presets.prices``) as relative price steps over ``CONTEXT_GRID``."""
    return tuple(
        PriceStep(label=tier.model.split(" (")[0], threshold_tokens=tier.threshold_tokens,
                  input_ratio=context_cost.price_ratio(tier, CONTEXT_GRID, "input"),
                  output_ratio=context_cost.price_ratio(tier, CONTEXT_GRID, "output"))
        for tier in prices.PRICE_TIERS.values()
    )


def context_curves(*, context_tokens: float, active_params: float, kv_bytes_per_token: float, chip: chips.Chip,
                   price_usd_per_chip_hour: float = chips.DEFAULT_PRICE_USD_PER_CHIP_HOUR) -> ContextCurves:
    """Everything the segment 6 figure shows for one setting of the controls (pure).

    Costs are one chip's time per output token at a batch large enough to
    amortise the weights, at 100% of peak, priced per chip-hour.
    """
    shape = dict(active_params=active_params, kv_bytes_per_token=kv_bytes_per_token, chip=chip)
    sweep = context_cost.large_batch_decode(CONTEXT_GRID, **shape)
    here = context_cost.large_batch_decode(context_tokens, **shape)
    usd_per_s = price_usd_per_chip_hour / roofline.SECONDS_PER_HOUR * roofline.TOKENS_PER_MILLION
    floor = float(sweep.compute_s) * usd_per_s
    total = roofline.cost_per_million_tokens(sweep, price_usd_per_chip_hour)
    current = float(roofline.cost_per_million_tokens(here, price_usd_per_chip_hour))
    return ContextCurves(
        context=CONTEXT_GRID,
        compute_cost=np.full_like(CONTEXT_GRID, floor),
        kv_cost=sweep.kv_s * usd_per_s,
        total_cost=total,
        relative_cost=total / floor,
        crossover_tokens=context_cost.crossover_context_on_chip(active_params, kv_bytes_per_token, chip),
        current_context=float(context_tokens),
        current_cost=current,
        current_relative=current / floor,
        price_steps=published_price_steps(),
    )


def _readout(curves: ContextCurves, *, active_params: float, kv_bytes_per_token: float, chip: chips.Chip) -> str:
    precision = roofline.serving_precision(chip)
    balance = context_cost.multiply_adds_per_byte(chip)
    bound = "KV-fetch-bound" if curves.current_relative > 1 else "compute-bound"
    implied = ", ".join(
        f"{tier.model.split(' (')[0]} at {tier.threshold_tokens // 1000}K → "
        f"{context_cost.tier_implied_kv_bytes_per_token(tier, active_params, balance):,.0f} B/token"
        for tier in prices.PRICE_TIERS.values())
    load_s = context_cost.kv_load_time_s(curves.current_context, kv_bytes_per_token, chip.hbm_bandwidth)
    recompute_s = context_cost.kv_recompute_time_s(curves.current_context, active_params,
                                                   precision.flops_per_s(chip))
    return (
        f"{chip.name}, {precision.name} serving: {balance:.0f} multiply-adds per byte → crossover at "
        f"<b>{curves.crossover_tokens:,.0f} tokens</b>. At {curves.current_context:,.0f} tokens: {bound}, "
        f"<b>{curves.current_relative:.2f}×</b> the short-context cost (${curves.current_cost:.3f} per million "
        f"tokens at 100% MFU), best decode MFU {1 / curves.current_relative:.0%}.<br>"
        f"Kinks as crossovers imply, for {active_params / 1e9:,.0f}B active: {implied}.<br>"
        f"This sequence's KV cache: load from HBM {load_s * 1e3:,.2f} ms vs recompute by prefill "
        f"{recompute_s:,.2f} s (at peak)."
    )


def context_cost_explorer() -> Explorer:
    """Sliders for context, active parameters, KV bytes/token and chip redrawing cost vs context."""
    roofline_chips = chips.roofline_chips()
    controls = {
        "context_tokens": widgets.FloatLogSlider(value=200_000, base=10, min=3, max=np.log10(2e6), step=0.05,
                                                 description="context", readout_format=",.0f"),
        "active_billions": widgets.FloatLogSlider(value=100, base=10, min=0, max=3, step=0.05,
                                                  description="active [B]", readout_format=".0f"),
        "kv_bytes_per_token": widgets.FloatLogSlider(value=1_667, base=10, min=2, max=6, step=0.05,
                                                     description="KV B/token", readout_format=",.0f"),
        "chip": widgets.Dropdown(options=[(c.name, key) for key, c in roofline_chips.items()], value="h100",
                                 description="chip"),
    }
    figure, (cost_ax, relative_ax) = new_figure(width_in=10.0, height_in=4.0)
    state = {}

    def update(values: dict) -> str:
        chip = roofline_chips[values["chip"]]
        shape = dict(active_params=values["active_billions"] * 1e9,
                     kv_bytes_per_token=values["kv_bytes_per_token"], chip=chip)
        curves = context_curves(context_tokens=values["context_tokens"], **shape)
        if "artists" not in state:
            state["artists"] = draw_context_curves(cost_ax, relative_ax, curves)
        else:
            update_context_curves(state["artists"], curves)
        return _readout(curves, **shape)

    return Explorer(controls, figure, update, title="Context-length cost explorer")
