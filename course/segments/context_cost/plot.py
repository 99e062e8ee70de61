"""Segment 6 plots: decode cost per token against context length, and published price steps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FixedLocator, FuncFormatter

from course.plots.figure import plain_log_axes

COLORS = {"compute": "#1f77b4", "kv": "#d62728", "total": "black", "marker": "#ff7f0e", "crossover": "gray"}
TIER_COLORS = ("#2ca02c", "#9467bd", "#8c564b")
"""One colour per published price tier, in the order the tiers are given."""


@dataclass(frozen=True)
class PriceStep:
    """A published price tier drawn as ratios to its short-context price.

    Attributes:
        label: product name.
        threshold_tokens: where the long-context price starts [tokens].
        input_ratio, output_ratio: price relative to the short price over the context grid [x].
    """

    label: str
    threshold_tokens: float
    input_ratio: np.ndarray
    output_ratio: np.ndarray


@dataclass(frozen=True)
class ContextCurves:
    """What the segment 6 figure shows, over one context grid.

    Attributes:
        context: context lengths [tokens].
        compute_cost, kv_cost, total_cost: decode cost per million output tokens from compute alone,
            from KV fetches alone, and from their max [USD / 1e6 tokens].
        relative_cost: total cost over the compute-bound floor [x].
        crossover_tokens: where KV fetch time equals compute time [tokens].
        current_context: the selected context [tokens]; current_cost [USD / 1e6 tokens] and
            current_relative [x] are the values there.
        price_steps: published tiers as relative price steps (do not depend on the sliders).
    """

    context: np.ndarray
    compute_cost: np.ndarray
    kv_cost: np.ndarray
    total_cost: np.ndarray
    relative_cost: np.ndarray
    crossover_tokens: float
    current_context: float
    current_cost: float
    current_relative: float
    price_steps: tuple[PriceStep, ...]


@dataclass
class ContextArtists:
    """The artists of the segment 6 figure, kept to be updated in place."""

    compute_line: object
    kv_line: object
    total_line: object
    cost_point: object
    cost_crossover: object
    relative_line: object
    relative_point: object
    relative_crossover: object
    axes: tuple


def _thousands(value: float, _position) -> str:
    if value >= 1e6:
        return f"{value / 1e6:g}M"
    if value >= 1e3:
        return f"{value / 1e3:g}K"
    return f"{value:g}"


RELATIVE_TICKS = (1, 1.5, 2, 3, 5, 10, 20)
"""Tick marks of the relative-cost axis [x]."""

RELATIVE_MAX = 20.0
"""Top of the relative-cost axis at most [x]; steeper curves leave the frame."""


def _relative_axes(ax: Axes) -> None:
    plain_log_axes(ax)
    ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.yaxis.set_major_locator(FixedLocator(RELATIVE_TICKS))


def draw_context_curves(cost_ax: Axes, relative_ax: Axes, curves: ContextCurves) -> ContextArtists:
    """Draw cost vs context (left) and relative cost with published price steps (right); return the artists."""
    plain_log_axes(cost_ax)
    cost_ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
    cost_ax.set(xlabel="context length [tokens]", ylabel="USD per million output tokens",
                title="Decode cost per token (ideal roofline)")
    (compute_line,) = cost_ax.plot([], [], color=COLORS["compute"], label="compute")
    (kv_line,) = cost_ax.plot([], [], color=COLORS["kv"], label="KV fetch")
    (total_line,) = cost_ax.plot([], [], color=COLORS["total"], lw=2.2, ls="--", label="cost = max")
    (cost_point,) = cost_ax.plot([], [], "o", color=COLORS["marker"], ms=8, label="selected context")
    cost_crossover = cost_ax.axvline(1.0, color=COLORS["crossover"], ls=":", label="crossover")
    cost_ax.legend(loc="upper left", fontsize=8)
    cost_ax.grid(True, which="major", alpha=0.3)

    _relative_axes(relative_ax)
    relative_ax.set(xlabel="context length [tokens]", ylabel="relative to short-context cost / price",
                    title="Model cost vs published price steps")
    for index, step in enumerate(curves.price_steps):
        color = TIER_COLORS[index % len(TIER_COLORS)]
        relative_ax.step(curves.context, step.input_ratio, where="post", color=color,
                         lw=3.5 - index, alpha=0.8, label=step.label)
        relative_ax.step(curves.context, step.output_ratio, where="post", color=color, lw=3.5 - index,
                         alpha=0.8, ls="--")
    (relative_line,) = relative_ax.plot([], [], color=COLORS["total"], lw=2.2, label="model cost")
    (relative_point,) = relative_ax.plot([], [], "o", color=COLORS["marker"], ms=8)
    relative_crossover = relative_ax.axvline(1.0, color=COLORS["crossover"], ls=":")
    relative_ax.legend(loc="upper left", fontsize=7, title="prices: input solid, output dashed",
                       title_fontsize=7)
    relative_ax.grid(True, which="major", alpha=0.3)

    artists = ContextArtists(compute_line, kv_line, total_line, cost_point, cost_crossover,
                             relative_line, relative_point, relative_crossover, (cost_ax, relative_ax))
    update_context_curves(artists, curves)
    return artists


def update_context_curves(artists: ContextArtists, curves: ContextCurves) -> None:
    """Move the artists to new curves in place (price steps never move)."""
    x = curves.context
    artists.compute_line.set_data(x, curves.compute_cost)
    artists.kv_line.set_data(x, curves.kv_cost)
    artists.total_line.set_data(x, curves.total_cost)
    artists.cost_point.set_data([curves.current_context], [curves.current_cost])
    artists.relative_line.set_data(x, curves.relative_cost)
    artists.relative_point.set_data([curves.current_context], [curves.current_relative])
    inside = bool(x.min() <= curves.crossover_tokens <= x.max())
    for line in (artists.cost_crossover, artists.relative_crossover):
        line.set_xdata([curves.crossover_tokens if inside else x.min()] * 2)
        line.set_visible(inside)
    cost_ax, relative_ax = artists.axes
    cost_ax.set_xlim(x.min(), x.max())
    costs = np.concatenate([curves.compute_cost, curves.kv_cost])
    costs = costs[np.isfinite(costs) & (costs > 0)]
    cost_ax.set_ylim(max(costs.min(), curves.total_cost.min() / 1e3) / 1.5, costs.max() * 1.5)
    relative_ax.set_xlim(x.min(), x.max())
    relative_ax.set_ylim(0.8, min(max(3.0, 1.2 * float(curves.relative_cost.max())), RELATIVE_MAX))
