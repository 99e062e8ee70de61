"""Segment 1 plot: step latency and cost per million tokens against batch size.

The step time is a wide grey band under the compute and memory lines, so the memory line stays
visible where the step follows it; the legend sits below both panels, clear of the curves. A dotted
line marks the critical batch and a dash-dot line the largest batch whose KV caches fit in HBM.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from course.plots.common import CURVE_ZORDER, FigureLayout, PlotArtists, plain_log_axes
from course.segments.batch_size.view import BatchSizeView

COLORS = {"compute": "#1f77b4", "memory": "#d62728", "step": "#9e9e9e", "cost": "#2ca02c", "marker": "#ff7f0e",
          "critical": "#555555",
          "fits": "#8c564b"}

LAYOUT = FigureLayout(width_in=9.0, height_in=4.2, left_in=0.85, bottom_in=1.25, top_in=0.3, gap_in=0.95)
"""Two panels, with room below for the shared legend."""



@dataclass
class BatchSizeArtists(PlotArtists):
    """The artists of the segment 1 figure, kept to be moved in place."""

    compute_line: Line2D
    memory_line: Line2D
    step_line: Line2D
    latency_point: Line2D
    latency_critical: Line2D
    cost_line: Line2D
    cost_point: Line2D
    cost_critical: Line2D
    latency_fits: Line2D
    cost_fits: Line2D
    latency_ax: Axes
    cost_ax: Axes

    def moving(self) -> tuple[Artist, ...]:
        return (self.step_line, self.compute_line, self.memory_line, self.latency_critical, self.latency_fits,
                self.latency_point, self.cost_line, self.cost_critical, self.cost_fits, self.cost_point)


def draw(axes: list[Axes], view: BatchSizeView) -> BatchSizeArtists:
    """Draw latency (compute, memory, step) and cost against batch on two axes; return the artists."""
    latency_ax, cost_ax = axes
    for ax in axes:
        plain_log_axes(ax)
        ax.set_axisbelow(True)
        ax.grid(True, which="major", alpha=0.3)
        ax.set_xlim(float(view.batch.min()), float(view.batch.max()))
        ax.set_xlabel("batch size [sequences]")
    latency_ax.set(ylabel="decode step time [ms]", title="Step latency")
    cost_ax.set(ylabel="cost [USD per million tokens]", title="Cost per million output tokens")
    line = dict(zorder=CURVE_ZORDER)
    (step_line,) = latency_ax.plot([], [], color=COLORS["step"], lw=7, alpha=0.45, solid_capstyle="butt",
                                   label="step time (model in the readout)", **line)
    (compute_line,) = latency_ax.plot([], [], color=COLORS["compute"], lw=1.6, label="compute", **line)
    (memory_line,) = latency_ax.plot([], [], color=COLORS["memory"], lw=1.6, label="memory (weights + KV)", **line)
    latency_critical = latency_ax.axvline(1.0, color=COLORS["critical"], ls=":", lw=1.3, label="critical batch",
                                          **line)
    latency_fits = latency_ax.axvline(1.0, color=COLORS["fits"], ls="-.", lw=1.3,
                                      label="largest batch that fits in HBM", **line)
    (latency_point,) = latency_ax.plot([], [], "o", color=COLORS["marker"], ms=8, label="selected batch", **line)
    (cost_line,) = cost_ax.plot([], [], color=COLORS["cost"], lw=1.8, label="cost per token", **line)
    cost_critical = cost_ax.axvline(1.0, color=COLORS["critical"], ls=":", lw=1.3, **line)
    cost_fits = cost_ax.axvline(1.0, color=COLORS["fits"], ls="-.", lw=1.3, **line)
    (cost_point,) = cost_ax.plot([], [], "o", color=COLORS["marker"], ms=8, **line)
    handles = [compute_line, memory_line, step_line, latency_point, latency_critical, latency_fits, cost_line]
    latency_ax.figure.legend(handles=handles, loc="lower center", ncols=4, fontsize=8, frameon=False,
                             handlelength=1.6, columnspacing=1.2)
    artists = BatchSizeArtists(compute_line, memory_line, step_line, latency_point, latency_critical, cost_line,
                               cost_point, cost_critical, latency_fits, cost_fits, latency_ax, cost_ax)
    update(artists, view)
    return artists


def update(artists: BatchSizeArtists, view: BatchSizeView) -> None:
    """Move the curves, markers, critical-batch and fits lines to ``view``; set the (stepped) y limits."""
    artists.compute_line.set_data(view.batch, view.compute_ms)
    artists.memory_line.set_data(view.batch, view.memory_ms)
    artists.step_line.set_data(view.batch, view.step_ms)
    artists.latency_point.set_data([view.current_batch], [view.current_step_ms])
    artists.cost_line.set_data(view.batch, view.cost_usd_per_mtok)
    artists.cost_point.set_data([view.current_batch], [view.current_cost])
    reachable = view.critical_batch < float(view.batch.max())
    for line in (artists.latency_critical, artists.cost_critical):
        line.set_xdata([view.critical_batch if reachable else 1.0] * 2)
        line.set_visible(reachable)
    low, high = float(view.batch.min()), float(view.batch.max())
    fits_shown = low <= view.max_batch <= high
    for line in (artists.latency_fits, artists.cost_fits):
        line.set_xdata([view.max_batch if fits_shown else 1.0] * 2)
        line.set_visible(fits_shown)
    artists.latency_ax.set_ylim(*view.latency_ylim)
    artists.cost_ax.set_ylim(*view.cost_ylim)
