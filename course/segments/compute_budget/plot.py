"""Segment 5 plot: lifetime compute stacked by phase, and over-training against model size."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from course.plots.common import CURVE_ZORDER, FigureLayout, PlotArtists, plain_log_axes
from course.segments.compute_budget.view import PHASES, ComputeBudgetView

COLORS = {"pretrain": "#1f77b4", "rl": "#ff7f0e", "inference": "#2ca02c", "marker": "#d62728",
          "chinchilla": "gray", "lecture": "black"}
PHASE_NAMES = {"pretrain": "pre-training", "rl": "RL", "inference": "inference"}
BAR_NAMES = ("pre-training at\nChinchilla (20/param)", "equal-cost\noptimum")
BAR_LABEL_KEY = "above a bar: D_pre · pre-training's share of its compute"
"""What the numbers above each bar are, drawn once in the background: each event draws only the numbers
(text costs ~0.07 ms a glyph per frame)."""

LAYOUT = FigureLayout(width_in=10.0, height_in=4.3, left_in=0.8, right_in=0.3, bottom_in=1.05, top_in=0.3,
                      gap_in=1.0)
"""Two panels, with room below for the bar names and the shared legend."""



def format_tokens(tokens: float) -> str:
    """A token count with a T/B/M suffix, e.g. 2.59e14 -> '259T'."""
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(tokens) >= scale:
            value = tokens / scale
            return f"{value:,.0f}{suffix}" if value >= 100 else f"{value:.3g}{suffix}"
    return f"{tokens:.3g}"


@dataclass
class ComputeBudgetArtists(PlotArtists):
    """The artists of the segment 5 figure, kept to be moved in place."""

    bars: dict[str, list[Rectangle]]
    bar_labels: list[Text]
    curve: Line2D
    point: Line2D
    budget_ax: Axes
    overtraining_ax: Axes

    def moving(self) -> tuple[Artist, ...]:
        return (*(bar for phase in PHASES for bar in self.bars[phase]), *self.bar_labels, self.curve, self.point)


def draw(axes: list[Axes], view: ComputeBudgetView) -> ComputeBudgetArtists:
    """Draw the stacked compute bars (in units of the optimum's total) and the over-training curve; return the
    artists. Above each bar: its pre-training tokens and pre-training's share of its compute, as short numbers
    that ``BAR_LABEL_KEY`` explains (the other phases' tokens are the
    same for both bars, in the readout)."""
    budget_ax, overtraining_ax = axes
    positions = np.arange(len(BAR_NAMES))
    bars = {}
    for phase in PHASES:
        bars[phase] = list(budget_ax.bar(positions, np.ones(len(positions)), width=0.6, color=COLORS[phase],
                                         label=PHASE_NAMES[phase], zorder=CURVE_ZORDER))
    bar_labels = [budget_ax.text(x, 1.0, "", ha="center", va="bottom", fontsize=8, zorder=CURVE_ZORDER)
                  for x in positions]
    budget_ax.text(0.02, 0.97, BAR_LABEL_KEY, transform=budget_ax.transAxes, ha="left", va="top", fontsize=8)
    budget_ax.set_xticks(positions, BAR_NAMES, fontsize=8)
    budget_ax.set_xlim(-0.6, len(positions) - 0.4)
    budget_ax.set(ylabel="lifetime compute [× the optimum's total]", title="Compute by phase, same deployment")
    budget_ax.set_axisbelow(True)
    budget_ax.grid(True, axis="y", alpha=0.3)

    plain_log_axes(overtraining_ax)
    overtraining_ax.set_axisbelow(True)
    overtraining_ax.set(xlabel="active parameters", ylabel="D_pre / Chinchilla tokens [x]",
                        title="Over-training at the equal-cost optimum",
                        xlim=(float(view.params_grid.min()), float(view.params_grid.max())))
    chinchilla = overtraining_ax.axhline(1.0, color=COLORS["chinchilla"], ls=":", label="Chinchilla-optimal (1x)")
    (curve,) = overtraining_ax.plot([], [], color=COLORS["pretrain"], label="this deployment", zorder=CURVE_ZORDER)
    (point,) = overtraining_ax.plot([], [], "o", color=COLORS["marker"], ms=8, label="selected model",
                                    zorder=CURVE_ZORDER)
    (lecture,) = overtraining_ax.plot([view.lecture_params], [view.lecture_overtraining], "*",
                                      color=COLORS["lecture"], ms=11, label="lecture: 100B, ~100x")
    overtraining_ax.grid(True, which="major", alpha=0.3)
    handles = [*(bars[phase][0] for phase in PHASES), curve, point, lecture, chinchilla]
    labels = [*(PHASE_NAMES[phase] for phase in PHASES), *(handle.get_label() for handle in handles[len(PHASES):])]
    budget_ax.figure.legend(handles, labels, loc="lower center", ncols=len(handles), fontsize=8, frameon=False,
                            handlelength=1.6, columnspacing=1.1)
    artists = ComputeBudgetArtists(bars, bar_labels, curve, point, budget_ax, overtraining_ax)
    update(artists, view)
    return artists


def update(artists: ComputeBudgetArtists, view: ComputeBudgetView) -> None:
    """Stack the bars, write their labels, move the curve and marker to ``view``; set the limits."""
    totals = view.totals / view.unit_flops
    bottoms = np.zeros_like(totals)
    for phase in PHASES:
        heights = view.flops[phase] / view.unit_flops
        for index, rect in enumerate(artists.bars[phase]):
            rect.set_y(bottoms[index])
            rect.set_height(heights[index])
        bottoms = bottoms + heights
    for index, label in enumerate(artists.bar_labels):
        share = view.flops["pretrain"][index] / view.totals[index]
        label.set_position((index, totals[index]))
        label.set_text(f"{format_tokens(view.tokens['pretrain'][index])} · {share * 100:.2g}%")
    artists.curve.set_data(view.params_grid, view.overtraining_curve)
    artists.point.set_data([view.current_params], [view.current_overtraining])
    artists.budget_ax.set_ylim(0, view.budget_top)
    artists.overtraining_ax.set_ylim(*view.overtraining_ylim)
