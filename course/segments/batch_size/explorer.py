"""Segment 1 explorer: batch size, sparsity, context, price and chip against latency and cost."""

from __future__ import annotations

import functools

import ipywidgets as widgets
import numpy as np

from course.presets import chips, llms
from course.segments.batch_size import plot
from course.segments.batch_size.view import BatchSizeView, view
from course.widgets.explorer import Explorer, Scene, explorer_factory


def readout(view: BatchSizeView) -> str:
    """HTML under the figure: the selected batch's step, throughput, cost, critical batch and drain time."""
    bound = "compute-bound" if view.compute_bound else "memory-bound"
    critical = (f"{view.critical_batch:,.0f}" if np.isfinite(view.critical_batch)
                else "never (KV reads outgrow compute)")
    return (
        f"{view.n_chips} × {view.chip_name}: step <b>{view.current_step_ms:.2f} ms</b> ({bound}), "
        f"{view.tokens_per_s:,.0f} tokens/s, MFU {view.mfu:.0%}, "
        f"<b>${view.current_cost:.3f}</b> per million tokens · critical batch {critical} · "
        f"HBM drain time {view.drain_ms:.1f} ms"
    )


@explorer_factory
def batch_size_explorer(llm: llms.LLM = llms.DEEPSEEK_V3) -> Explorer:
    """Sliders for batch, sparsity, context, price and chip redrawing latency and cost vs batch."""
    controls = {
        "batch": widgets.FloatLogSlider(value=256, base=2, min=0, max=14, step=0.25, description="batch",
                                        readout_format=".0f", continuous_update=True),
        "active_fraction": widgets.FloatLogSlider(value=llm.sparsity, base=2, min=-6, max=0, step=0.05,
                                                  description="active share", readout_format=".3f"),
        "context_tokens": widgets.FloatLogSlider(value=1024, base=2, min=7, max=20, step=0.5,
                                                 description="context", readout_format=".0f"),
        "price": widgets.FloatSlider(value=chips.DEFAULT_PRICE_USD_PER_CHIP_HOUR, min=0.5, max=10, step=0.25,
                                     description="$/chip-hour"),
        "chip": widgets.Dropdown(options=[(c.name, key) for key, c in chips.roofline_chips().items()],
                                 value="h100", description="chip"),
    }
    scene = Scene(layout=plot.LAYOUT, view=functools.partial(view, llm=llm), draw=plot.draw, update=plot.update,
                  readout=readout)
    return Explorer(controls, scene, title=f"Batch size explorer ({llm.name} shape)", main="batch")


EXPLORER = batch_size_explorer
"""This segment's explorer, as the tests, the benchmark and the grader's warm-up call it."""
