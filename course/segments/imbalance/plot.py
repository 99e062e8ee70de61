"""Segment 4 plots: time per pipeline stage (bottleneck marked) and pipeline efficiency against context."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullLocator

from course.plots.figure import nice_ceiling

COLORS = {"stage": "#1f77b4", "bottleneck": "#d62728", "mean": "black", "even": "#1f77b4", "best": "#2ca02c",
          "marker": "#ff7f0e"}

LIMIT_STEPS = (1.0, 2.0, 5.0)
"""Top of the stage-time axis: the smallest step x 10^k above the bars, so the axis (its tick labels, the
costly part of a redraw) moves only when the tallest bar crosses a step, not on every slider event."""

BAR_HEADROOM = 1.3
"""The stage-time axis reaches at least this many times the tallest bar (room for the labels and legend)."""



@dataclass(frozen=True)
class ImbalanceView:
    """What the segment 4 figure shows for one setting of the controls.

    Attributes:
        stage_ms: time of each stage for one micro-batch [ms] (length = stage count).
        bottleneck: True for each stage as slow as the slowest [bool per stage].
        mean_ms: mean stage time [ms].
        globals_per_stage: global-attention layers on each stage [count].
        contexts: context lengths of the efficiency curves [tokens].
        even_efficiency, best_efficiency: pipeline efficiency at each context, even and best contiguous
            split [fraction].
        context_tokens, efficiency: the selected context [tokens] and the shown split's efficiency there [fraction].
        split_label: "even" or "best".
    """

    stage_ms: np.ndarray
    bottleneck: np.ndarray
    mean_ms: float
    globals_per_stage: tuple[int, ...]
    contexts: np.ndarray
    even_efficiency: np.ndarray
    best_efficiency: np.ndarray
    context_tokens: float
    efficiency: float
    split_label: str


@dataclass
class ImbalanceArtists:
    """Artists of the segment 4 figure, kept to be updated in place."""

    bars: object
    labels: list
    mean_line: object
    even_line: object
    best_line: object
    point: object
    context_line: object
    axes: tuple
    max_stages: int


def _tokens_label(value: float, _position=None) -> str:
    if value >= 2 ** 20:
        return f"{value / 2 ** 20:g}M"
    if value >= 2 ** 10:
        return f"{value / 2 ** 10:g}K"
    return f"{value:g}"


def _on_pixel(ax: Axes, x: float, y: float) -> tuple[float, float]:
    """``(x, y)`` moved vertically by under half a pixel onto a whole device pixel, once the figure's layout
    is frozen (after its first render): labels riding on the bars then reuse cached glyph bitmaps."""
    if not getattr(ax.figure, "_course_layout_frozen", False):
        return x, y
    transform = ax.transData
    px, py = transform.transform((x, y))
    return x, float(transform.inverted().transform((px, round(py)))[1])


def draw_imbalance(stage_ax: Axes, efficiency_ax: Axes, view: ImbalanceView, max_stages: int) -> ImbalanceArtists:
    """Pre-create ``max_stages`` bars and the efficiency curves; return the artists (drawn with ``view``)."""
    bars = stage_ax.bar(np.arange(max_stages), np.zeros(max_stages), width=0.8, color=COLORS["stage"])
    labels = [stage_ax.text(k, 0.0, "", ha="center", va="bottom", fontsize=7) for k in range(max_stages)]
    mean_line = stage_ax.axhline(0.0, color=COLORS["mean"], ls="--", lw=1.2, label="mean stage (perfect balance)")
    stage_ax.set(xlabel="pipeline stage", ylabel="time per micro-batch [ms]", title="Time per stage")
    stage_ax.legend(handles=[mean_line, Patch(color=COLORS["bottleneck"], label="bottleneck stage")],
                    loc="upper center", ncols=2, fontsize=8)
    stage_ax.grid(True, axis="y", alpha=0.3)
    stage_ax.yaxis.set_major_locator(MaxNLocator(steps=[1, 2, 5, 10]))  # 0.5 steps, not 0.25: short labels

    efficiency_ax.set_xscale("log", base=2)
    efficiency_ax.xaxis.set_minor_locator(NullLocator())
    efficiency_ax.xaxis.set_major_formatter(FuncFormatter(_tokens_label))
    (even_line,) = efficiency_ax.plot([], [], color=COLORS["even"], label="even split")
    (best_line,) = efficiency_ax.plot([], [], color=COLORS["best"], ls="--", label="best contiguous split")
    (point,) = efficiency_ax.plot([], [], "o", color=COLORS["marker"], ms=8, label="shown split")
    context_line = efficiency_ax.axvline(1.0, color="gray", ls=":")
    efficiency_ax.set(xlabel="context length [tokens]", ylabel="pipeline efficiency (mean / slowest)",
                      title="Efficiency as context grows", ylim=(0.0, 1.05))
    efficiency_ax.legend(loc="lower left", fontsize=8)
    efficiency_ax.grid(True, alpha=0.3)

    artists = ImbalanceArtists(bars, labels, mean_line, even_line, best_line, point, context_line,
                               (stage_ax, efficiency_ax), max_stages)
    update_imbalance(artists, view)
    return artists


def update_imbalance(artists: ImbalanceArtists, view: ImbalanceView) -> None:
    """Move bars, labels, lines and the marker to ``view`` in place; hide bars beyond the stage count.

    Only what differs is set: the stage axis' ticks change with the stage count only, its top moves in
    steps (``nice_ceiling``), and labels and colours are rewritten only when they change.
    """
    stages = len(view.stage_ms)
    if stages > artists.max_stages:
        raise ValueError(f"{stages} stages but only {artists.max_stages} bars were created")
    top = float(np.max(view.stage_ms))
    stage_ax, efficiency_ax = artists.axes
    ylim = (0.0, nice_ceiling(top * BAR_HEADROOM, LIMIT_STEPS))
    if stage_ax.get_ylim() != ylim:
        stage_ax.set_ylim(*ylim)
    for k, (bar, label) in enumerate(zip(artists.bars, artists.labels)):
        visible = k < stages
        if bar.get_visible() != visible:
            bar.set_visible(visible)
            label.set_visible(visible)
        if visible:
            height = float(view.stage_ms[k])
            bar.set_height(height)
            colour = COLORS["bottleneck"] if view.bottleneck[k] else COLORS["stage"]
            if getattr(bar, "_course_colour", None) != colour:
                bar.set_color(colour)
                bar._course_colour = colour
            label.set_position(_on_pixel(stage_ax, k, height))
            text = f"{view.globals_per_stage[k]} G"
            if label.get_text() != text:
                label.set_text(text)
    artists.mean_line.set_ydata([view.mean_ms] * 2)
    if getattr(stage_ax, "_course_stages", None) != stages:
        stage_ax.set_xlim(-0.6, stages - 0.4)
        stage_ax.set_xticks(np.arange(stages), [str(k + 1) for k in range(stages)])
        stage_ax._course_stages = stages

    for line, curve in ((artists.even_line, view.even_efficiency), (artists.best_line, view.best_efficiency)):
        if not (np.array_equal(line.get_xdata(), view.contexts) and np.array_equal(line.get_ydata(), curve)):
            line.set_data(view.contexts, curve)
    artists.point.set_data([view.context_tokens], [view.efficiency])
    artists.context_line.set_xdata([view.context_tokens] * 2)
    xlim = (float(view.contexts.min()), float(view.contexts.max()))
    if efficiency_ax.get_xlim() != xlim:
        efficiency_ax.set_xlim(*xlim)
