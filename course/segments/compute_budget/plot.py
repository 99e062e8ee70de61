"""Segment 5 plots: lifetime compute stacked by phase, and over-training against model size."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes

from course.plots.figure import nice_ceiling, plain_log_axes

COLORS = {"pretrain": "#1f77b4", "rl": "#ff7f0e", "inference": "#2ca02c", "marker": "#d62728",
          "chinchilla": "gray", "lecture": "black"}
PHASES = ("pretrain", "rl", "inference")
PHASE_NAMES = {"pretrain": "pre-training", "rl": "RL", "inference": "inference"}
TOKEN_SYMBOLS = {"pretrain": "D_pre", "rl": "D_RL", "inference": "D_inf"}
BAR_NAMES = ("pre-training at\nChinchilla (20/param)", "equal-cost\noptimum")
LABEL_MIN_SHARE = 0.08
"""Segments below this share of their bar's height get no label inside them [fraction]."""
BAR_HEADROOM = 1.25
"""The compute axis reaches at least this many times the taller bar (room for the labels above the bars)."""
LIMIT_STEPS = (1.0, 3.0)
"""Top of the compute axis: the smallest step x 10^k above the bars, so it moves only when a step is crossed."""



def format_tokens(tokens: float) -> str:
    """A token count with a T/B/M suffix, e.g. 2.59e14 -> '259T'."""
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(tokens) >= scale:
            value = tokens / scale
            return f"{value:,.0f}{suffix}" if value >= 100 else f"{value:.3g}{suffix}"
    return f"{tokens:.3g}"


@dataclass(frozen=True)
class BudgetChart:
    """What the segment 5 figure shows.

    Attributes:
        flops: phase -> compute of each bar (Chinchilla-sized pre-training, equal-cost optimum) [FLOP].
        tokens: phase -> tokens of each bar [tokens].
        params_grid: active parameters drawn on the right [count].
        overtraining_curve: equal-cost D_pre / Chinchilla tokens over ``params_grid`` [x].
        current_params, current_overtraining: the selected model [count, x].
        lecture_params, lecture_overtraining: the lecture's point (100B, ~100x) [count, x].
        overtraining_ylim: limits of the over-training axis [x], or None to fit this curve. The explorer
            passes limits that hold the curve over the serving-rate slider's whole range, so moving that
            slider moves the curve, not the axis.
    """

    flops: dict[str, np.ndarray]
    tokens: dict[str, np.ndarray]
    params_grid: np.ndarray
    overtraining_curve: np.ndarray
    current_params: float
    current_overtraining: float
    lecture_params: float
    lecture_overtraining: float
    overtraining_ylim: tuple[float, float] | None = None

    @property
    def totals(self) -> np.ndarray:
        """Total compute of each bar [FLOP]."""
        return sum(self.flops[phase] for phase in PHASES)


@dataclass
class BudgetArtists:
    """The artists of the segment 5 figure, kept to be updated in place."""

    bars: dict[str, object]
    bar_labels: dict[str, list]
    share_labels: list
    curve: object
    point: object
    axes: tuple


def draw_budget_chart(budget_ax: Axes, overtraining_ax: Axes, chart: BudgetChart) -> BudgetArtists:
    """Draw the stacked compute bars and the over-training curve; return the artists."""
    positions = np.arange(len(BAR_NAMES))
    bars, bar_labels = {}, {}
    for phase in PHASES:
        bars[phase] = budget_ax.bar(positions, np.ones(len(positions)), width=0.6, color=COLORS[phase],
                                    label=PHASE_NAMES[phase])
        bar_labels[phase] = [budget_ax.text(x, 0.5, "", ha="center", va="center", fontsize=8, color="white")
                             for x in positions]
    share_labels = [budget_ax.text(x, 1.0, "", ha="center", va="bottom", fontsize=8) for x in positions]
    budget_ax.set_xticks(positions, BAR_NAMES, fontsize=8)
    budget_ax.set_xlim(-0.6, len(positions) - 0.4)
    budget_ax.set(ylabel="lifetime compute [FLOP]", title="Compute by phase, same deployment")
    budget_ax.legend(loc="upper left", fontsize=8)
    budget_ax.grid(True, axis="y", alpha=0.3)


    plain_log_axes(overtraining_ax)
    overtraining_ax.set(xlabel="active parameters", ylabel="D_pre / Chinchilla tokens [x]",
                        title="Over-training at the equal-cost optimum")
    (curve,) = overtraining_ax.plot([], [], color=COLORS["pretrain"], label="this deployment")
    (point,) = overtraining_ax.plot([], [], "o", color=COLORS["marker"], ms=8, label="selected model")
    overtraining_ax.plot([chart.lecture_params], [chart.lecture_overtraining], "*", color=COLORS["lecture"],
                         ms=11, label="lecture: 100B, ~100x")
    overtraining_ax.axhline(1.0, color=COLORS["chinchilla"], ls=":", label="Chinchilla-optimal (1x)")
    overtraining_ax.legend(loc="upper right", fontsize=8)
    overtraining_ax.grid(True, which="major", alpha=0.3)

    artists = BudgetArtists(bars, bar_labels, share_labels, curve, point, (budget_ax, overtraining_ax))
    update_budget_chart(artists, chart)
    return artists


def _set_text(text, value: str) -> None:
    """``text.set_text`` only when the string differs (an unchanged label is not redrawn)."""
    if text.get_text() != value:
        text.set_text(value)


def _set_visible(artist, visible: bool) -> None:
    if artist.get_visible() != visible:
        artist.set_visible(visible)


def _on_pixel(ax, x: float, y: float) -> tuple[float, float]:
    """``(x, y)`` moved vertically by under half a pixel onto a whole device pixel, once the figure's layout
    is frozen (after its first render): labels moving with the bars then reuse cached glyph bitmaps."""
    if not getattr(ax.figure, "_course_layout_frozen", False):
        return x, y
    transform = ax.transData
    px, py = transform.transform((x, y))
    return x, float(transform.inverted().transform((px, round(py)))[1])


def overtraining_limits(chart: BudgetChart) -> tuple[float, float]:
    """Limits of the over-training axis: ``chart.overtraining_ylim``, or a fit to this curve, 1x and the lecture."""
    if chart.overtraining_ylim is not None:
        return chart.overtraining_ylim
    values = np.concatenate([chart.overtraining_curve, [1.0, chart.lecture_overtraining]])
    return float(values.min() / 3), float(values.max() * 3)


def update_budget_chart(artists: BudgetArtists, chart: BudgetChart) -> None:
    """Move the bars, labels, curve and marker to ``chart`` in place.

    Only what differs is set: the compute axis' top moves in steps (``nice_ceiling``), labels are rewritten
    only when their text changes, and the over-training axis keeps ``chart.overtraining_ylim``.
    """
    budget_ax, overtraining_ax = artists.axes
    totals = chart.totals
    top = nice_ceiling(float(totals.max()) * BAR_HEADROOM, LIMIT_STEPS)
    if budget_ax.get_ylim() != (0, top):
        budget_ax.set_ylim(0, top)
    bottoms = np.zeros_like(totals)
    for phase in PHASES:
        heights = chart.flops[phase]
        for index, (rect, label) in enumerate(zip(artists.bars[phase], artists.bar_labels[phase])):
            rect.set_y(bottoms[index])
            rect.set_height(heights[index])
            label.set_position(_on_pixel(budget_ax, rect.get_x() + rect.get_width() / 2,
                                         bottoms[index] + heights[index] / 2))
            _set_text(label, f"{PHASE_NAMES[phase]}\n{TOKEN_SYMBOLS[phase]} = {format_tokens(chart.tokens[phase][index])}")
            _set_visible(label, bool(heights[index] >= LABEL_MIN_SHARE * totals[index]))
        bottoms = bottoms + heights
    for index, label in enumerate(artists.share_labels):
        share = chart.flops["pretrain"][index] / totals[index]
        label.set_position(_on_pixel(budget_ax, index, totals[index]))
        _set_text(label, f"pre-training: {share * 100:.2g}% of total")

    if not (np.array_equal(artists.curve.get_xdata(), chart.params_grid)
            and np.array_equal(artists.curve.get_ydata(), chart.overtraining_curve)):
        artists.curve.set_data(chart.params_grid, chart.overtraining_curve)
    artists.point.set_data([chart.current_params], [chart.current_overtraining])
    xlim = (float(chart.params_grid.min()), float(chart.params_grid.max()))
    if overtraining_ax.get_xlim() != xlim:
        overtraining_ax.set_xlim(*xlim)
    ylim = overtraining_limits(chart)
    if overtraining_ax.get_ylim() != ylim:
        overtraining_ax.set_ylim(*ylim)
