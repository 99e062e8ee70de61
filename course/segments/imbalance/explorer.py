"""Segment 4 explorer: how interleaved local/global attention unbalances pipeline stages."""

from __future__ import annotations

from functools import lru_cache

import ipywidgets as widgets
import numpy as np

from course.models import imbalance
from course.plots.figure import new_figure
from course.segments.imbalance.plot import ImbalanceView, draw_imbalance, update_imbalance
from course.presets import chips
from course.widgets.base import Explorer

MAX_STAGES = 16
"""Most stages the explorer offers; one bar is pre-created for each [count]."""

CONTEXT_GRID = np.logspace(10, 20, 31, base=2.0)
"""Context lengths of the efficiency curves, 1K to 1M tokens [tokens]."""

DEFAULT_STAGES = 8
"""Stage count the explorer opens with [count]."""

PATTERNS = (("all global", 0), ("1 local : 1 global", 1), ("3 local : 1 global", 3),
            ("5 local : 1 global", 5), ("7 local : 1 global", 7))
"""Interleave choices: (label, local layers per global layer)."""


@lru_cache(maxsize=256)
def _efficiency_curves(window_tokens: float, local_per_global: int, stages: int) -> tuple[np.ndarray, np.ndarray]:
    """Even and best-split efficiency over ``CONTEXT_GRID`` (they do not depend on the selected context)."""
    stack = imbalance.deepseek_shaped_stack(local_per_global=local_per_global, window_tokens=window_tokens)
    curves = (imbalance.efficiency_vs_context(stack, CONTEXT_GRID, stages, "even"),
              imbalance.efficiency_vs_context(stack, CONTEXT_GRID, stages, "best"))
    for curve in curves:
        curve.flags.writeable = False
    return curves


def imbalance_view(*, context_tokens: float, window_tokens: float, local_per_global: int, stages: int,
                   split: str = "even") -> tuple[ImbalanceView, imbalance.StageLoads, imbalance.InterleavedStack]:
    """Everything the segment 4 figure shows for one setting of the controls (pure).

    The stack is ``imbalance.deepseek_shaped_stack`` with the chosen interleave and window;
    ``split`` is ``"even"`` or ``"best"`` (best contiguous split at this context).
    """
    stack = imbalance.deepseek_shaped_stack(local_per_global=local_per_global, window_tokens=window_tokens)
    loads = imbalance.stage_loads(stack, context_tokens, stages, split)
    even_curve, best_curve = _efficiency_curves(float(window_tokens), int(local_per_global), int(stages))
    view = ImbalanceView(
        stage_ms=loads.stage_times_s * 1e3,
        bottleneck=loads.bottlenecks,
        mean_ms=loads.mean_stage_s * 1e3,
        globals_per_stage=tuple(loads.globals_per_stage()),
        contexts=CONTEXT_GRID,
        even_efficiency=even_curve,
        best_efficiency=best_curve,
        context_tokens=float(context_tokens),
        efficiency=loads.efficiency,
        split_label=split,
    )
    return view, loads, stack


def _readout(loads: imbalance.StageLoads, stack: imbalance.InterleavedStack) -> str:
    last_stage_bytes = imbalance.residual_bytes_received_per_stage(loads.split, stack.hidden_size)[-1]
    plain_bytes = imbalance.plain_pipeline_bytes_per_boundary(stack.hidden_size)
    chip = chips.H100_SXM
    fetch_ms = imbalance.transfer_time_s(last_stage_bytes * imbalance.ILLUSTRATIVE_MICROBATCH_SEQUENCES,
                                         chip.scale_out_bandwidth) * 1e3
    split = "+".join(str(n) for n in loads.split)
    return (
        f"layers per stage {split}: slowest stage {loads.slowest_stage + 1} takes "
        f"<b>{loads.slowest_stage_s * 1e3:.2f} ms</b>, mean {loads.mean_stage_s * 1e3:.2f} ms · "
        f"pipeline efficiency <b>{loads.efficiency:.1%}</b><br>"
        f"Attention to all earlier residuals: the last stage receives "
        f"{last_stage_bytes / 1e3:,.0f} kB per token ({last_stage_bytes / plain_bytes:.0f}× a plain pipeline's "
        f"{plain_bytes / 1e3:.1f} kB), {fetch_ms:.2f} ms per micro-batch over {chip.name} scale-out"
    )


def imbalance_explorer() -> Explorer:
    """Sliders for context and window, choices of interleave, stage count and split, redrawing stage times."""
    controls = {
        "context_tokens": widgets.FloatLogSlider(value=2 ** 17, base=2, min=10, max=20, step=0.5,
                                                 description="context", readout_format=".0f"),
        "window_tokens": widgets.FloatLogSlider(value=imbalance.ILLUSTRATIVE_WINDOW_TOKENS, base=2, min=9, max=17,
                                                step=1, description="window", readout_format=".0f"),
        "local_per_global": widgets.Dropdown(options=PATTERNS, value=imbalance.ILLUSTRATIVE_LOCAL_PER_GLOBAL,
                                             description="pattern"),
        "stages": widgets.IntSlider(value=DEFAULT_STAGES, min=1, max=MAX_STAGES, description="stages"),
        "split": widgets.Dropdown(options=[("even", "even"), ("best contiguous", "best")], value="even",
                                  description="split"),
    }
    figure, (stage_ax, efficiency_ax) = new_figure()
    state = {}

    def update(values: dict) -> str:
        view, loads, stack = imbalance_view(context_tokens=values["context_tokens"],
                                            window_tokens=values["window_tokens"],
                                            local_per_global=values["local_per_global"], stages=values["stages"],
                                            split=values["split"])
        if "artists" not in state:
            state["artists"] = draw_imbalance(stage_ax, efficiency_ax, view, MAX_STAGES)
        else:
            update_imbalance(state["artists"], view)
        return _readout(loads, stack)

    return Explorer(controls, figure, update,
                    title="Pipeline load explorer (DeepSeek-V3 shape with an illustrative local/global interleave)")
