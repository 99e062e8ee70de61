"""Segment 4 plot: time per pipeline stage (bottleneck marked) and pipeline efficiency against context.

The stage axis shows a frame of stage slots (a power of two, ``view.frame``), so its ticks move only when
the stage count crosses one; each stage's global layers are written above its bar slot ("2 G").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullLocator

from course.plots.common import CURVE_ZORDER, FigureLayout, PlotArtists
from course.segments.imbalance.view import MAX_STAGES, ImbalanceView

COLORS = {"stage": "#1f77b4", "bottleneck": "#d62728", "mean": "black", "even": "#1f77b4", "best": "#2ca02c",
          "marker": "#ff7f0e", "context": "gray"}

LAYOUT = FigureLayout(width_in=9.0, height_in=4.0, bottom_in=0.95, top_in=0.3)
"""Two panels, with room below for the shared legend."""


LABEL_Y = 0.97
"""Height of the global-layer labels, near the top of the stage axis [fraction of the axes]."""


@dataclass
class ImbalanceArtists(PlotArtists):
    """Artists of the segment 4 figure, kept to be moved in place."""

    bars: list[Rectangle]
    global_labels: list[Text]
    mean_line: Line2D
    even_line: Line2D
    best_line: Line2D
    point: Line2D
    context_line: Line2D
    stage_ax: Axes
    efficiency_ax: Axes

    def moving(self) -> tuple[Artist, ...]:
        return (*self.bars, self.mean_line, self.even_line, self.best_line, self.context_line, self.point)

    def labels(self) -> tuple[Artist, ...]:
        return tuple(self.global_labels)


def _tokens_label(value: float, _position=None) -> str:
    if value >= 2 ** 20:
        return f"{value / 2 ** 20:g}M"
    if value >= 2 ** 10:
        return f"{value / 2 ** 10:g}K"
    return f"{value:g}"


def draw(axes: list[Axes], view: ImbalanceView) -> ImbalanceArtists:
    """Pre-create ``MAX_STAGES`` bars and labels and the efficiency curves; return the artists (drawn with ``view``)."""
    stage_ax, efficiency_ax = axes
    bars = list(stage_ax.bar(np.arange(MAX_STAGES), np.zeros(MAX_STAGES), width=0.8, color=COLORS["stage"],
                             zorder=CURVE_ZORDER, label="stage"))
    labels = [stage_ax.text(k, LABEL_Y, "", ha="center", va="top", fontsize=7,
                            transform=stage_ax.get_xaxis_transform()) for k in range(MAX_STAGES)]
    mean_line = stage_ax.axhline(0.0, color=COLORS["mean"], ls="--", lw=1.2, zorder=CURVE_ZORDER,
                                 label="mean stage (perfect balance)")
    stage_ax.set(xlabel="pipeline stage (G: global layers on it)", ylabel="time per micro-batch [ms]",
                 title="Time per stage")
    stage_ax.set_axisbelow(True)
    stage_ax.grid(True, axis="y", alpha=0.3)
    stage_ax.yaxis.set_major_locator(MaxNLocator(steps=[1, 2, 5, 10]))

    efficiency_ax.set_xscale("log", base=2)
    efficiency_ax.xaxis.set_minor_locator(NullLocator())
    efficiency_ax.xaxis.set_major_formatter(FuncFormatter(_tokens_label))
    line = dict(zorder=CURVE_ZORDER)
    (even_line,) = efficiency_ax.plot([], [], color=COLORS["even"], label="even split", **line)
    (best_line,) = efficiency_ax.plot([], [], color=COLORS["best"], ls="--", label="best contiguous split", **line)
    context_line = efficiency_ax.axvline(1.0, color=COLORS["context"], ls=":", **line)
    (point,) = efficiency_ax.plot([], [], "o", color=COLORS["marker"], ms=8, label="shown split", **line)
    efficiency_ax.set(xlabel="context length [tokens]", ylabel="pipeline efficiency (mean / slowest)",
                      title="Efficiency as context grows", ylim=(0.0, 1.05),
                      xlim=(float(view.contexts.min()), float(view.contexts.max())))
    efficiency_ax.set_axisbelow(True)
    efficiency_ax.grid(True, alpha=0.3)
    handles = [mean_line, Patch(color=COLORS["bottleneck"], label="bottleneck stage"), even_line, best_line, point]
    stage_ax.figure.legend(handles=handles, loc="lower center", ncols=len(handles), fontsize=8, frameon=False,
                           handlelength=1.6, columnspacing=1.2)
    artists = ImbalanceArtists(bars, labels, mean_line, even_line, best_line, point, context_line, stage_ax,
                               efficiency_ax)
    update(artists, view)
    return artists


def update(artists: ImbalanceArtists, view: ImbalanceView) -> None:
    """Move bars, labels, lines and the marker to ``view``; hide the bars beyond the stage count; set the frame."""
    stages = len(view.stage_ms)
    if stages > len(artists.bars):
        raise ValueError(f"{stages} stages but only {len(artists.bars)} bars were created")
    for k, (bar, label) in enumerate(zip(artists.bars, artists.global_labels)):
        visible = k < stages
        bar.set_visible(visible)
        label.set_visible(visible)
        if visible:
            bar.set_height(float(view.stage_ms[k]))
            bar.set_color(COLORS["bottleneck"] if view.bottleneck[k] else COLORS["stage"])
            label.set_text(f"{view.globals_per_stage[k]} G")
    artists.mean_line.set_ydata([view.mean_ms] * 2)
    stage_ax = artists.stage_ax
    stage_ax.set_ylim(0.0, view.stage_top)
    stage_ax.set_xlim(-0.6, view.frame - 0.4)
    stage_ax.set_xticks(np.arange(view.frame), [str(k + 1) for k in range(view.frame)])
    artists.even_line.set_data(view.contexts, view.even_efficiency)
    artists.best_line.set_data(view.contexts, view.best_efficiency)
    artists.point.set_data([view.context_tokens], [view.efficiency])
    artists.context_line.set_xdata([view.context_tokens] * 2)
