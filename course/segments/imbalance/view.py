"""Segment 4 view: stage times of an interleaved local/global stack and pipeline efficiency, for one setting."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from course.models import imbalance
from course.plots.common import nice_ceiling
from course.presets import chips

MAX_STAGES = 16
"""Most stages the explorer offers; one bar is pre-created for each [count]."""

CONTEXT_GRID = np.logspace(10, 20, 31, base=2.0)
"""Context lengths of the efficiency curves, 1K to 1M tokens [tokens]."""

DEFAULT_STAGES = 8
"""Stage count the explorer opens with [count]."""

PATTERNS = (("all global", 0), ("1 local : 1 global", 1), ("3 local : 1 global", 3),
            ("5 local : 1 global", 5), ("7 local : 1 global", 7))
"""Interleave choices: (label, local layers per global layer)."""

LIMIT_STEPS = (1.0, 3.0)
"""Top of the stage-time axis: the smallest step x 10^k above the bars, so the axis moves only when the
tallest bar crosses a step, not on every slider event."""

BAR_HEADROOM = 1.3
"""The stage-time axis reaches at least this many times the tallest bar (room for the labels above the bars)."""

MIN_FRAME = 4
"""Fewest stage slots the stage axis shows [count]."""

TRANSFER_CHIP = chips.H100_SXM
"""Chip whose scale-out link carries the residuals in the readout's transfer time."""


def stage_frame(stages: int) -> int:
    """Stage slots the stage axis shows: the smallest power of two at or above ``stages``, at least
    ``MIN_FRAME``, so the axis' ticks move only when the stage count crosses a power of two [count]."""
    return max(MIN_FRAME, 1 << max(0, int(stages) - 1).bit_length())


@lru_cache(maxsize=256)
def efficiency_curves(window_tokens: float, local_per_global: int, stages: int) -> tuple[np.ndarray, np.ndarray]:
    """Even and best-split efficiency over ``CONTEXT_GRID`` [fraction] (cached, read-only)."""
    stack = imbalance.deepseek_shaped_stack(local_per_global=local_per_global, window_tokens=window_tokens)
    curves = (imbalance.efficiency_vs_context(stack, CONTEXT_GRID, stages, "even"),
              imbalance.efficiency_vs_context(stack, CONTEXT_GRID, stages, "best"))
    for curve in curves:
        curve.flags.writeable = False
    return curves


@dataclass(frozen=True)
class ImbalanceView:
    """What the segment 4 figure and readout show for one setting of the controls.

    Attributes:
        stage_ms: time of each stage for one micro-batch [ms] (length = stage count).
        bottleneck: True for each stage as slow as the slowest [bool per stage].
        mean_ms: mean stage time [ms]; slowest_stage: index of the bottleneck (0-based).
        globals_per_stage: global-attention layers on each stage [count].
        split: layers per stage [count].
        contexts: context lengths of the efficiency curves [tokens].
        even_efficiency, best_efficiency: pipeline efficiency at each context, even and best contiguous
            split [fraction].
        context_tokens, efficiency: the selected context [tokens] and the shown split's efficiency there [fraction].
        split_label: "even" or "best".
        frame: stage slots the stage axis shows [count]; stage_top: top of the stage-time axis [ms].
        last_stage_bytes: residual bytes the last stage receives per token [bytes];
        plain_bytes: a plain pipeline's bytes per boundary per token [bytes];
        fetch_ms: time to receive the last stage's residuals for one micro-batch over ``chip_name``'s
            scale-out [ms].
    """

    stage_ms: np.ndarray
    bottleneck: np.ndarray
    mean_ms: float
    slowest_stage: int
    globals_per_stage: tuple[int, ...]
    split: tuple[int, ...]
    contexts: np.ndarray
    even_efficiency: np.ndarray
    best_efficiency: np.ndarray
    context_tokens: float
    efficiency: float
    split_label: str
    frame: int
    stage_top: float
    last_stage_bytes: float
    plain_bytes: float
    fetch_ms: float
    chip_name: str

    @property
    def layout_key(self) -> tuple:
        return self.frame, self.stage_top

    @property
    def label_key(self) -> tuple:
        return self.globals_per_stage


def imbalance_view(*, context_tokens: float, window_tokens: float, local_per_global: int, stages: int,
                   split: str = "even") -> ImbalanceView:
    """The segment 4 figure's numbers (pure).

    The stack is ``imbalance.deepseek_shaped_stack`` with the chosen interleave and window.

    Args:
        context_tokens: tokens attended by global layers [tokens].
        window_tokens: local layers' attention window [tokens].
        local_per_global: local layers per global layer [count].
        stages: pipeline stages [count].
        split: "even" or "best" (best contiguous split at this context).
    """
    stack = imbalance.deepseek_shaped_stack(local_per_global=local_per_global, window_tokens=window_tokens)
    loads = imbalance.stage_loads(stack, context_tokens, stages, split)
    even_curve, best_curve = efficiency_curves(float(window_tokens), int(local_per_global), int(stages))
    last_stage_bytes = float(imbalance.residual_bytes_received_per_stage(loads.split, stack.hidden_size)[-1])
    stage_ms = loads.stage_times_s * 1e3
    return ImbalanceView(
        stage_ms=stage_ms,
        bottleneck=loads.bottlenecks,
        mean_ms=loads.mean_stage_s * 1e3,
        slowest_stage=loads.slowest_stage,
        globals_per_stage=tuple(loads.globals_per_stage()),
        split=loads.split,
        contexts=CONTEXT_GRID,
        even_efficiency=even_curve,
        best_efficiency=best_curve,
        context_tokens=float(context_tokens),
        efficiency=loads.efficiency,
        split_label=split,
        frame=stage_frame(stages),
        stage_top=nice_ceiling(float(np.max(stage_ms)) * BAR_HEADROOM, LIMIT_STEPS),
        last_stage_bytes=last_stage_bytes,
        plain_bytes=imbalance.plain_pipeline_bytes_per_boundary(stack.hidden_size),
        fetch_ms=imbalance.transfer_time_s(last_stage_bytes * imbalance.ILLUSTRATIVE_MICROBATCH_SEQUENCES,
                                           TRANSFER_CHIP.scale_out_bandwidth) * 1e3,
        chip_name=TRANSFER_CHIP.name,
    )


def view(values: Mapping[str, object]) -> ImbalanceView:
    """The view for the explorer's control values (keys: context_tokens, window_tokens, local_per_global,
    stages, split)."""
    return imbalance_view(context_tokens=values["context_tokens"], window_tokens=values["window_tokens"],
                          local_per_global=values["local_per_global"], stages=values["stages"], split=values["split"])
