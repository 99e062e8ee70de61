"""Segment 1 explorer: batch size, sparsity, context and chip against latency and cost."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from course.models import kv_cache, roofline
from course.segments.batch_size.plot import BatchCurves, draw_batch_curves, update_batch_curves
from course.plots.figure import new_figure
from course.presets import chips, llms
from course.widgets.base import Explorer

BATCH_GRID = np.logspace(0, 14, 120, base=2.0)
"""Batch sizes drawn, 1 to 16,384 [sequences]."""


def batch_curves(*, batch: float, active_fraction: float, context_tokens: float, chip: chips.Chip,
                 price_usd_per_chip_hour: float, llm: llms.LLM = llms.DEEPSEEK_V3) -> BatchCurves:
    """Everything the segment 1 figure shows, for one setting of the controls (pure).

    The model keeps ``llm``'s active parameters and KV layout; its total is
    active / active_fraction. The chip count is the fewest chips (a power of two)
    whose HBM holds the weights.
    """
    precision = roofline.serving_precision(chip)
    total = llm.active_params / active_fraction
    kv = kv_cache.kv_bytes_per_token(llm)
    n_chips = int(2 ** np.ceil(np.log2(roofline.chips_to_hold(total * precision.weight_bytes_per_param, chip))))
    shape = dict(active_params=llm.active_params, total_params=total, context_tokens=context_tokens,
                 kv_bytes_per_token=kv, chip=chip, n_chips=n_chips, precision=precision)
    sweep = roofline.decode_step(BATCH_GRID, **shape)
    here = roofline.decode_step(batch, **shape)
    shape.pop("n_chips")
    return BatchCurves(
        batch=BATCH_GRID,
        compute_ms=sweep.compute_s * 1e3,
        memory_ms=sweep.memory_s * 1e3,
        step_ms=sweep.step_s * 1e3,
        cost_usd_per_mtok=roofline.cost_per_million_tokens(sweep, price_usd_per_chip_hour),
        current_batch=float(batch),
        critical_batch=roofline.critical_batch(**shape),
        drain_ms=roofline.drain_time_s(chip) * 1e3,
        current_step_ms=float(here.step_s) * 1e3,
        current_cost=float(roofline.cost_per_million_tokens(here, price_usd_per_chip_hour)),
    ), here


def _readout(curves: BatchCurves, step: roofline.DecodeStep, chip: chips.Chip) -> str:
    bound = "compute-bound" if bool(step.compute_bound) else "memory-bound"
    critical = f"{curves.critical_batch:,.0f}" if np.isfinite(curves.critical_batch) else "never (KV reads outgrow compute)"
    return (
        f"{step.n_chips} × {chip.name}: step <b>{curves.current_step_ms:.2f} ms</b> ({bound}), "
        f"{float(step.tokens_per_s):,.0f} tokens/s, MFU {float(step.mfu):.0%}, "
        f"<b>${curves.current_cost:.3f}</b> per million tokens · critical batch {critical} · "
        f"HBM drain time {curves.drain_ms:.1f} ms"
    )


def batch_size_explorer(llm: llms.LLM = llms.DEEPSEEK_V3) -> Explorer:
    """Sliders for batch, sparsity, context, price and chip redrawing latency and cost vs batch."""
    roofline_chips = chips.roofline_chips()
    controls = {
        "batch": widgets.FloatLogSlider(value=256, base=2, min=0, max=14, step=0.25, description="batch",
                                        readout_format=".0f", continuous_update=True),
        "active_fraction": widgets.FloatLogSlider(value=llm.sparsity, base=2, min=-6, max=0, step=0.05,
                                                  description="active share", readout_format=".3f"),
        "context_tokens": widgets.FloatLogSlider(value=1024, base=2, min=7, max=20, step=0.5,
                                                 description="context", readout_format=".0f"),
        "price": widgets.FloatSlider(value=chips.DEFAULT_PRICE_USD_PER_CHIP_HOUR, min=0.5, max=10, step=0.25,
                                     description="$/chip-hour"),
        "chip": widgets.Dropdown(options=[(c.name, key) for key, c in roofline_chips.items()], value="h100",
                                 description="chip"),
    }
    figure, (latency_ax, cost_ax) = new_figure()
    state = {}

    def update(values: dict) -> str:
        chip = roofline_chips[values["chip"]]
        curves, step = batch_curves(batch=values["batch"], active_fraction=values["active_fraction"],
                                    context_tokens=values["context_tokens"], chip=chip,
                                    price_usd_per_chip_hour=values["price"], llm=llm)
        if "artists" not in state:
            state["artists"] = draw_batch_curves(latency_ax, cost_ax, curves)
        else:
            update_batch_curves(state["artists"], curves)
        return _readout(curves, step, chip)

    return Explorer(controls, figure, update, title=f"Batch size explorer ({llm.name} shape)")
