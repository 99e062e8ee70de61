"""Segment 1 explorer: batch size, sparsity, context, price, chip, precision, step model, expert reads and chip
count against latency and cost, with the largest batch that fits in HBM."""

from __future__ import annotations

import functools

import ipywidgets as widgets
import numpy as np

from course.presets import chips, llms
from course.segments.batch_size import plot
from course.segments.batch_size.view import CHIP_MULTIPLIERS, BatchSizeView, view
from course.widgets.explorer import Explorer, Scene, explorer_factory


STEP_FORMULAS = {"overlap": "step = max(compute, weights + KV)", "additive": "step = KV + max(compute, weights)"}
"""The readout's words for each step model."""


def readout(view: BatchSizeView) -> str:
    """HTML under the figure: step, throughput, cost, critical batch, the HBM limit and the drain time."""
    bound = "compute-bound" if view.compute_bound else "memory-bound"
    critical = (f"{view.critical_batch:,.0f}" if np.isfinite(view.critical_batch)
                else "never (KV reads outgrow compute)")
    if view.max_batch < 1:
        fits = "<b>the weights alone do not fit</b>"
    elif np.isfinite(view.critical_batch) and not view.critical_fits:
        fits = (f"<b>critical batch out of reach</b>: HBM holds at most {view.max_batch:,.0f} sequences, "
                "so every batch that fits is memory-bound")
    else:
        fits = f"HBM holds at most {view.max_batch:,.0f} sequences"
    overflow = " <b>(this batch does not fit in HBM)</b>" if view.current_batch > view.max_batch else ""
    reads = ("expected expert reads: weights read "
             f"{view.weights_ms[0]:.2f} ms at batch 1 (active parameters) to {view.weights_ms[-1]:.2f} ms"
             if view.expert_reads == "expected" else "every step reads the whole model")
    return (
        f"{view.n_chips} × {view.chip_name}, {view.precision_name}, {STEP_FORMULAS[view.step_model]}: "
        f"step <b>{view.current_step_ms:.2f} ms</b> ({bound}){overflow}, "
        f"{view.tokens_per_s:,.0f} tokens/s, MFU {view.mfu:.0%}, "
        f"<b>${view.current_cost:.3f}</b> per million tokens · critical batch {critical} · {fits} · "
        f"{reads} · HBM drain time {view.drain_ms:.1f} ms"
    )


@explorer_factory
def batch_size_explorer(llm: llms.LLM = llms.DEEPSEEK_V3) -> Explorer:
    """Sliders and menus for batch, sparsity, context, price, chip, precision, step model, expert reads and chip
    count, redrawing latency and cost vs batch."""
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
        "precision": widgets.Dropdown(options=[("fp8 weights, fp8 compute", "fp8"),
                                               ("bf16 weights, bf16 compute", "bf16"),
                                               ("8-bit weights, bf16 compute", "w8-bf16")],
                                      value="fp8", description="precision"),
        "step_model": widgets.Dropdown(options=[("overlap: max(compute, weights + KV)", "overlap"),
                                                ("additive: KV + max(compute, weights)", "additive")],
                                       value="overlap", description="step model"),
        "expert_reads": widgets.Dropdown(options=[("full model every step", "full"),
                                                  ("expected (experts touched)", "expected")],
                                         value="full", description="expert reads"),
        "chips": widgets.Dropdown(options=[("fewest for the weights" if m == 1 else f"{m} × that", m)
                                           for m in CHIP_MULTIPLIERS], value=1, description="chips"),
    }
    scene = Scene(layout=plot.LAYOUT, view=functools.partial(view, llm=llm), draw=plot.draw, update=plot.update,
                  readout=readout)
    return Explorer(controls, scene, title=f"Batch size explorer ({llm.name} shape)", main="batch")


EXPLORER = batch_size_explorer
"""This segment's explorer, as the tests, the benchmark and the grader's warm-up call it."""
