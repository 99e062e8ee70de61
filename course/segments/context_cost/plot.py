"""Segment 6 plot: decode cost per token against context length, and published price steps."""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter

from course.plots.common import CURVE_ZORDER, FigureLayout, PlotArtists, plain_log_axes
from course.segments.context_cost.view import ContextCostView

COLORS = {"compute": "#1f77b4", "kv": "#d62728", "total": "black", "marker": "#ff7f0e", "crossover": "gray",
          "prefill": "#17becf"}
TIER_COLORS = ("#2ca02c", "#9467bd", "#8c564b")
"""One colour per published price tier, in the order the tiers are given."""

RELATIVE_TICKS = (1, 1.5, 2, 3, 5, 10, 20)
"""Tick marks of the relative-cost axis [x]."""

RELATIVE_BOTTOM = 0.8
"""Bottom of the relative-cost axis [x]."""

LAYOUT = FigureLayout(width_in=10.0, height_in=4.5, left_in=0.9, bottom_in=1.15, top_in=0.45, gap_in=0.95)
"""Two panels, with room below for the shared legend (two rows)."""



@dataclass
class ContextCostArtists(PlotArtists):
    """The artists of the segment 6 figure, kept to be moved in place."""

    compute_line: Line2D
    kv_line: Line2D
    total_line: Line2D
    cost_point: Line2D
    cost_crossover: Line2D
    relative_line: Line2D
    relative_point: Line2D
    relative_crossover: Line2D
    prefill_line: Line2D
    prefill_point: Line2D
    cost_ax: Axes
    relative_ax: Axes

    def moving(self) -> tuple[Artist, ...]:
        return (self.compute_line, self.kv_line, self.total_line, self.cost_crossover, self.cost_point,
                self.relative_line, self.relative_crossover, self.relative_point, self.prefill_line,
                self.prefill_point)


def _thousands(value: float, _position) -> str:
    if value >= 1e6:
        return f"{value / 1e6:g}M"
    if value >= 1e3:
        return f"{value / 1e3:g}K"
    return f"{value:g}"


def draw(axes: list[Axes], view: ContextCostView) -> ContextCostArtists:
    """Draw cost vs context (left) and relative cost with published price steps (right); return the artists."""
    cost_ax, relative_ax = axes
    xlim = (float(view.context.min()), float(view.context.max()))
    for ax in axes:
        plain_log_axes(ax)
        ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
        ax.set_axisbelow(True)
        ax.grid(True, which="major", alpha=0.3)
        ax.set(xlabel="context length [tokens]", xlim=xlim)
    cost_ax.set(ylabel="USD per million output tokens", title="Decode cost per token (ideal roofline)")
    line = dict(zorder=CURVE_ZORDER)
    (compute_line,) = cost_ax.plot([], [], color=COLORS["compute"], label="compute", **line)
    (kv_line,) = cost_ax.plot([], [], color=COLORS["kv"], label="KV fetch", **line)
    (total_line,) = cost_ax.plot([], [], color=COLORS["total"], lw=2.2, ls="--", label="cost = max", **line)
    cost_crossover = cost_ax.axvline(1.0, color=COLORS["crossover"], ls=":", label="crossover", **line)
    (cost_point,) = cost_ax.plot([], [], "o", color=COLORS["marker"], ms=8, label="selected context", **line)

    relative_ax.yaxis.set_major_locator(FixedLocator(RELATIVE_TICKS))
    relative_ax.set(ylabel="relative to short-context cost / price",
                    title="Output cost vs output price (dashed),\ninput cost vs input price (solid)")
    relative_ax.title.set_fontsize(9)
    tiers = []
    for index, step in enumerate(view.price_steps):
        color = TIER_COLORS[index % len(TIER_COLORS)]
        tiers += relative_ax.step(view.context, step.input_ratio, where="post", color=color, lw=3.5 - index,
                                  alpha=0.8, label=f"{step.label} price")
        relative_ax.step(view.context, step.output_ratio, where="post", color=color, lw=3.5 - index, alpha=0.8,
                         ls="--")
    (relative_line,) = relative_ax.plot([], [], color=COLORS["total"], lw=2.2, ls="--",
                                        label="output token: decode cost", **line)
    (prefill_line,) = relative_ax.plot([], [], color=COLORS["prefill"], lw=2.2, label="input token: prefill cost",
                                       **line)
    (prefill_point,) = relative_ax.plot([], [], "s", color=COLORS["marker"], ms=6, **line)
    relative_crossover = relative_ax.axvline(1.0, color=COLORS["crossover"], ls=":", **line)
    (relative_point,) = relative_ax.plot([], [], "o", color=COLORS["marker"], ms=8, **line)
    handles = [compute_line, kv_line, total_line, cost_point, cost_crossover, relative_line, prefill_line, *tiers]
    cost_ax.figure.legend(handles=handles, loc="lower center", ncols=5, fontsize=8, frameon=False,
                          handlelength=1.8, columnspacing=1.2)
    artists = ContextCostArtists(compute_line, kv_line, total_line, cost_point, cost_crossover, relative_line,
                                 relative_point, relative_crossover, prefill_line, prefill_point, cost_ax, relative_ax)
    update(artists, view)
    return artists


def update(artists: ContextCostArtists, view: ContextCostView) -> None:
    """Move the curves, markers and crossover lines to ``view`` (price steps never move); set the limits."""
    x = view.context
    artists.compute_line.set_data(x, view.compute_cost)
    artists.kv_line.set_data(x, view.kv_cost)
    artists.total_line.set_data(x, view.total_cost)
    artists.cost_point.set_data([view.current_context], [view.current_cost])
    artists.relative_line.set_data(x, view.relative_cost)
    artists.relative_point.set_data([view.current_context], [view.current_relative])
    artists.prefill_line.set_data(x, view.prefill_relative)
    artists.prefill_point.set_data([view.current_context], [view.current_prefill_relative])
    inside = bool(x.min() <= view.crossover_tokens <= x.max())
    for line in (artists.cost_crossover, artists.relative_crossover):
        line.set_xdata([view.crossover_tokens if inside else x.min()] * 2)
        line.set_visible(inside)
    artists.cost_ax.set_ylim(*view.cost_ylim)
    artists.relative_ax.set_ylim(RELATIVE_BOTTOM, view.relative_top)
