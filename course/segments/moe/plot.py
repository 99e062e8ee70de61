"""Segment 2 plot: an MoE layer's all-to-all time against the expert-parallel degree, and per token."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from course.plots.common import CURVE_ZORDER, FigureLayout, PlotArtists
from course.segments.moe.view import MoeView

COLORS = {"scale_up": "#1f77b4", "scale_out": "#d62728", "total": "black", "step": "#ff7f0e",
          "boundary": "gray", "other": "#bbbbbb"}

EP_TICKS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
"""Tick positions of the expert-parallel axis [chips]."""

MAX_OTHERS = 8
"""Faint comparison lines created in the per-token panel [count]."""

LAYOUT = FigureLayout(width_in=10.0, height_in=4.1, bottom_in=0.95, top_in=0.3, gap_in=0.9)
"""Two panels, with room below for the shared legend."""



@dataclass
class MoeArtists(PlotArtists):
    """The artists of the segment 2 figure, kept to be moved in place."""

    scale_up_line: Line2D
    scale_out_line: Line2D
    total_line: Line2D
    step_line: Line2D
    step_text: Text
    layer_boundary: Line2D
    other_lines: list[Line2D]
    token_line: Line2D
    token_boundary: Line2D
    layer_ax: Axes
    token_ax: Axes

    def moving(self) -> tuple[Artist, ...]:
        return (self.scale_up_line, self.scale_out_line, self.total_line, self.step_line, self.step_text,
                self.layer_boundary, *self.other_lines, self.token_line, self.token_boundary)


def _ep_axis(ax: Axes) -> None:
    """Log base-2 x axis, log y axis, plain tick labels, no minor ticks, grid below."""
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _position: f"{value:g}"))
    ax.xaxis.set_major_locator(FixedLocator(EP_TICKS))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _position: f"{value:g}"))
    ax.set_axisbelow(True)
    ax.grid(True, alpha=0.3)
    ax.set_xlabel("expert-parallel degree [GPUs]")


def draw(axes: list[Axes], view: MoeView) -> MoeArtists:
    """Draw layer time (per network and overall) and time per token against EP degree; return the artists."""
    layer_ax, token_ax = axes
    _ep_axis(layer_ax)
    layer_ax.set(ylabel="all-to-all time per layer [µs, log]", title="One MoE layer, all tokens on a GPU")
    line = dict(zorder=CURVE_ZORDER)
    (scale_up_line,) = layer_ax.plot([], [], color=COLORS["scale_up"], label="NVLink share", **line)
    (scale_out_line,) = layer_ax.plot([], [], color=COLORS["scale_out"], label="scale-out share", **line)
    (total_line,) = layer_ax.plot([], [], color=COLORS["total"], lw=2.2, ls="--", marker=".", label="layer = max",
                                  **line)
    (step_line,) = layer_ax.plot([], [], "o-", color=COLORS["step"], ms=7, lw=1.5, label="one → two domains",
                                 **line)
    step_text = layer_ax.text(1, 0, "", color=COLORS["step"], fontsize=11, fontweight="bold", ha="left",
                              va="center", zorder=CURVE_ZORDER)
    layer_boundary = layer_ax.axvline(8, color=COLORS["boundary"], ls=":", label="NVLink domain size", **line)

    _ep_axis(token_ax)
    token_ax.set(ylabel="time per token per layer [ns, log]", title="Per token, any batch (grey: the other chips)")
    other_lines = [token_ax.plot([], [], color=COLORS["other"], lw=1, label="other chips", **line)[0]
                   for _ in range(MAX_OTHERS)]
    (token_line,) = token_ax.plot([], [], color=COLORS["total"], lw=2.2, marker=".", **line)
    token_boundary = token_ax.axvline(8, color=COLORS["boundary"], ls=":", **line)
    handles = [scale_up_line, scale_out_line, total_line, step_line, layer_boundary, other_lines[0]]
    layer_ax.figure.legend(handles=handles, loc="lower center", ncols=len(handles), fontsize=8, frameon=False,
                           handlelength=1.8, columnspacing=1.2)
    artists = MoeArtists(scale_up_line, scale_out_line, total_line, step_line, step_text, layer_boundary,
                         other_lines, token_line, token_boundary, layer_ax, token_ax)
    update(artists, view)
    return artists


def _positive(values) -> np.ndarray:
    """``values`` with zeros as NaN: a log axis leaves them out instead of drawing a drop to its floor."""
    values = np.asarray(values, dtype=float)
    return np.where(values > 0, values, np.nan)


def update(artists: MoeArtists, view: MoeView) -> None:
    """Move the curves, the one-to-two-domains step and the domain boundary to ``view``; set the limits.

    Both y axes are logarithmic (whole decades), so the token-count slider moves the curves, not the axes;
    zero times (no traffic on a network) are left out.
    """
    artists.scale_up_line.set_data(view.ep, _positive(view.scale_up_us))
    artists.scale_out_line.set_data(view.ep, _positive(view.scale_out_us))
    artists.total_line.set_data(view.ep, _positive(view.total_us))
    domain = view.domain_size
    artists.step_line.set_data([domain, 2 * domain], [view.one_domain_us, view.two_domains_us])
    artists.step_text.set_position((2 * domain * 1.12, view.two_domains_us))
    artists.step_text.set_text(f"×{view.step:.1f}")
    for boundary in (artists.layer_boundary, artists.token_boundary):
        boundary.set_xdata([domain, domain])
    artists.token_line.set_data(view.ep, _positive(view.per_token_ns))
    for index, line in enumerate(artists.other_lines):
        if index < len(view.others):
            _, ep, per_token_ns = view.others[index]
            line.set_data(ep, _positive(per_token_ns))
        line.set_visible(index < len(view.others))
    for ax in (artists.layer_ax, artists.token_ax):
        ax.set_xlim(1.0, view.x_max)
    artists.layer_ax.set_ylim(*view.layer_ylim)
    artists.token_ax.set_ylim(*view.token_ylim)
