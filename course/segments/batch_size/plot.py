"""Segment 1 plots: step latency and cost per million tokens against batch size."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes

from course.plots.figure import plain_log_axes

COLORS = {"compute": "#1f77b4", "memory": "#d62728", "step": "black", "cost": "#2ca02c", "marker": "#ff7f0e"}


@dataclass(frozen=True)
class BatchCurves:
    """What the segment 1 figure shows, all over one batch grid.

    Attributes:
        batch: batch sizes [sequences].
        compute_ms, memory_ms, step_ms: decode-step times [ms].
        cost_usd_per_mtok: serving cost [USD per million output tokens].
        current_batch: the selected batch [sequences]; critical_batch: where compute meets memory
            [sequences], inf if never; drain_ms: HBM capacity / bandwidth [ms].
        current_step_ms, current_cost: values at the selected batch [ms, USD per million tokens].
    """

    batch: np.ndarray
    compute_ms: np.ndarray
    memory_ms: np.ndarray
    step_ms: np.ndarray
    cost_usd_per_mtok: np.ndarray
    current_batch: float
    critical_batch: float
    drain_ms: float
    current_step_ms: float
    current_cost: float


@dataclass
class BatchArtists:
    """The artists of the segment 1 figure, kept to be updated in place."""

    compute_line: object
    memory_line: object
    step_line: object
    latency_point: object
    latency_critical: object
    cost_line: object
    cost_point: object
    cost_critical: object
    axes: tuple


def draw_batch_curves(latency_ax: Axes, cost_ax: Axes, curves: BatchCurves) -> BatchArtists:
    """Draw latency (compute, memory, step) and cost against batch; return the artists."""
    plain_log_axes(latency_ax)
    latency_ax.set(xlabel="batch size [sequences]", ylabel="decode step time [ms]",
                   title="Step latency")
    (compute_line,) = latency_ax.plot([], [], color=COLORS["compute"], label="compute")
    (memory_line,) = latency_ax.plot([], [], color=COLORS["memory"], label="memory (weights + KV)")
    (step_line,) = latency_ax.plot([], [], color=COLORS["step"], lw=2.2, ls="--", label="step = max")
    (latency_point,) = latency_ax.plot([], [], "o", color=COLORS["marker"], ms=8, label="selected batch")
    latency_critical = latency_ax.axvline(1.0, color="gray", ls=":", label="critical batch")
    latency_ax.legend(loc="upper left", fontsize=8)
    latency_ax.grid(True, which="major", alpha=0.3)

    plain_log_axes(cost_ax)
    cost_ax.set(xlabel="batch size [sequences]",
                ylabel="cost [USD per million tokens]", title="Cost per million output tokens")
    (cost_line,) = cost_ax.plot([], [], color=COLORS["cost"])
    (cost_point,) = cost_ax.plot([], [], "o", color=COLORS["marker"], ms=8)
    cost_critical = cost_ax.axvline(1.0, color="gray", ls=":")
    cost_ax.grid(True, which="major", alpha=0.3)

    artists = BatchArtists(compute_line, memory_line, step_line, latency_point, latency_critical,
                           cost_line, cost_point, cost_critical, (latency_ax, cost_ax))
    update_batch_curves(artists, curves)
    return artists


def _set_limits(ax: Axes, x: np.ndarray, *ys: np.ndarray) -> None:
    values = np.concatenate([np.ravel(y) for y in ys])
    values = values[np.isfinite(values) & (values > 0)]
    ax.set_xlim(x.min(), x.max())
    ax.set_ylim(values.min() / 1.5, values.max() * 1.5)


def update_batch_curves(artists: BatchArtists, curves: BatchCurves) -> None:
    """Move the artists to new curves in place."""
    artists.compute_line.set_data(curves.batch, curves.compute_ms)
    artists.memory_line.set_data(curves.batch, curves.memory_ms)
    artists.step_line.set_data(curves.batch, curves.step_ms)
    artists.latency_point.set_data([curves.current_batch], [curves.current_step_ms])
    artists.cost_line.set_data(curves.batch, curves.cost_usd_per_mtok)
    artists.cost_point.set_data([curves.current_batch], [curves.current_cost])
    critical_visible = bool(np.isfinite(curves.critical_batch))
    for line in (artists.latency_critical, artists.cost_critical):
        line.set_xdata([curves.critical_batch if critical_visible else 1.0] * 2)
        line.set_visible(critical_visible)
    latency_ax, cost_ax = artists.axes
    _set_limits(latency_ax, curves.batch, curves.compute_ms, curves.memory_ms)
    _set_limits(cost_ax, curves.batch, curves.cost_usd_per_mtok)
