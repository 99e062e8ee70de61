"""Segment 6 explorer: context length, active parameters, KV bytes/token and chip against cost per token."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from course.presets import chips
from course.segments.context_cost import plot
from course.segments.context_cost.view import DEFAULT_ATTENTION_FLOPS_PER_PAIR, ContextCostView, view
from course.widgets.explorer import Explorer, Scene, explorer_factory


def readout(view: ContextCostView) -> str:
    """HTML under the figure: the crossover, the selected context's cost, implied KV sizes, load vs recompute."""
    bound = "KV-fetch-bound" if view.current_relative > 1 else "compute-bound"
    implied = ", ".join(f"{product} at {threshold // 1000:,.0f}K → {kv:,.0f} B/token"
                        for product, threshold, kv in view.implied_kv)
    return (
        f"{view.chip_name}, {view.precision_name} serving: {view.multiply_adds_per_byte:.0f} multiply-adds per byte "
        f"→ crossover at <b>{view.crossover_tokens:,.0f} tokens</b>. At {view.current_context:,.0f} tokens: {bound}, "
        f"<b>{view.current_relative:.2f}×</b> the short-context cost (${view.current_cost:.3f} per million "
        f"tokens at 100% MFU), best decode MFU {1 / view.current_relative:.0%}.<br>"
        f"Kinks as crossovers imply, for {view.active_params / 1e9:,.0f}B active: {implied}.<br>"
        f"This sequence's KV cache: load from HBM {view.load_ms:,.2f} ms vs recompute by prefill "
        f"{view.recompute_s:,.2f} s (at peak).<br>"
        f"Input tokens are prefill: compute-bound, and attention doubles an input token's cost at a "
        f"{view.attention_doubling_tokens:,.0f}-token prompt; at this length it is "
        f"<b>{view.current_prefill_relative:.2f}×</b> its weights-only floor. Compare it with the input price steps "
        f"(solid), and the decode ramp with the output steps (dashed)."
    )


@explorer_factory
def context_cost_explorer() -> Explorer:
    """Sliders for context, active parameters, KV bytes/token and chip redrawing cost vs context."""
    controls = {
        "context_tokens": widgets.FloatLogSlider(value=200_000, base=10, min=3, max=np.log10(2e6), step=0.05,
                                                 description="context", readout_format=",.0f"),
        "active_billions": widgets.FloatLogSlider(value=100, base=10, min=0, max=3, step=0.05,
                                                  description="active [B]", readout_format=".0f"),
        "kv_bytes_per_token": widgets.FloatLogSlider(value=1_667, base=10, min=2, max=6, step=0.05,
                                                     description="KV B/token", readout_format=",.0f"),
        "chip": widgets.Dropdown(options=[(c.name, key) for key, c in chips.roofline_chips().items()], value="h100",
                                 description="chip"),
        "attention_mflop": widgets.FloatLogSlider(value=round(DEFAULT_ATTENTION_FLOPS_PER_PAIR / 1e6, 2), base=10,
                                                  min=-1, max=np.log10(20), step=0.05,
                                                  description="attn [MFLOP/pair]", readout_format=".3g"),
    }
    scene = Scene(layout=plot.LAYOUT, view=view, draw=plot.draw, update=plot.update, readout=readout)
    return Explorer(controls, scene, title="Context-length cost explorer", main="context_tokens")


EXPLORER = context_cost_explorer
"""This segment's explorer, as the tests, the benchmark and the grader's warm-up call it."""
