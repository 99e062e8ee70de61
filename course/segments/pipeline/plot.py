"""Segment 3 plots: a pipeline schedule (stages x time) and memory per stage against context length.

The schedule is one RGBA image of a fixed maximum size; a redraw only rewrites
its pixels, so no artist is added per slider event. Its axes can show a fixed
frame of stages x slots larger than the schedule (``view``), so that the axis
limits and tick labels, the costly part of a redraw, stay put while the sliders
move within that frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.patches import Patch

from course.models.pipeline import BACKWARD, FORWARD, Schedule
from course.plots.figure import plain_log_axes

MICROBATCH_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
"""Colours of successive micro-batches (cycled) [matplotlib colours]."""

IDLE_COLOR = "#f2f2f2"
"""Colour of an idle (bubble) cell."""

FORWARD_LIGHTEN = 0.45
"""Forward cells are the micro-batch colour mixed with this share of white; backward cells are full colour."""

COLORS = {"weights": "#1f77b4", "kv": "#d62728", "total": "black", "capacity": "gray", "crossover": "#ff7f0e",
          "published": "#2ca02c"}


@dataclass(frozen=True)
class MemoryCurves:
    """What the memory panel shows, over one grid of context lengths.

    Attributes:
        context_tokens: context lengths [tokens].
        weights_gb: weights per stage [GB] (one number).
        kv_gb: KV cache per stage at each context [GB].
        capacity_gb: HBM of one stage [GB], or None not to draw it.
        crossover_tokens: context where KV per stage equals weights per stage [tokens].
        marker_tokens: a context to mark (e.g. a published average) [tokens], or None.
        marker_label: legend text of that mark.
    """

    context_tokens: np.ndarray
    weights_gb: float
    kv_gb: np.ndarray
    capacity_gb: float | None
    crossover_tokens: float
    marker_tokens: float | None = None
    marker_label: str = ""
    weights_range_gb: tuple[float, float] | None = None
    """Smallest and largest weights per stage over the stage-count slider [GB], or None: included in the
    y limits so that they do not move with the stage count."""


@dataclass
class PipelineArtists:
    """The artists of the segment 3 figure, kept to be updated in place."""

    image: object
    separators: object
    flush_line: object
    schedule_ax: Axes
    weights_line: object
    kv_line: object
    total_line: object
    capacity_line: object
    crossover_line: object
    marker_line: object
    memory_ax: Axes
    max_stages: int
    max_slots: int


def schedule_rgba(schedule: Schedule, max_stages: int, max_slots: int) -> np.ndarray:
    """RGBA pixels (max_stages, max_slots, 4) of a schedule; cells outside it are transparent."""
    if schedule.stages > max_stages or schedule.slots > max_slots:
        raise ValueError(f"schedule {schedule.stages}x{schedule.slots} exceeds the image {max_stages}x{max_slots}")
    palette = np.array([to_rgba(c) for c in MICROBATCH_COLORS])
    white = np.ones(4)
    pixels = np.zeros((max_stages, max_slots, 4))
    region = pixels[:schedule.stages, :schedule.slots]
    region[:] = to_rgba(IDLE_COLOR)
    colour = palette[np.maximum(schedule.microbatch, 0) % len(palette)]
    forward = schedule.phase == FORWARD
    backward = schedule.phase == BACKWARD
    region[forward] = (1 - FORWARD_LIGHTEN) * colour[forward] + FORWARD_LIGHTEN * white
    region[backward] = colour[backward]
    return pixels


def draw_schedule(ax: Axes, schedule: Schedule, max_stages: int, max_slots: int):
    """Draw an empty schedule image, stage separators and a flush line; return them (then update)."""
    image = ax.imshow(np.zeros((max_stages, max_slots, 4)), extent=(0, max_slots, max_stages, 0),
                      interpolation="nearest", aspect="auto")
    separators = LineCollection([], colors="white", linewidths=1.5)
    ax.add_collection(separators)
    flush_line = ax.axvline(0, color="black", lw=2, ls="--")
    ax.set(xlabel="time [slots: one stage's forward pass of one micro-batch]", ylabel="pipeline stage")
    palette = MICROBATCH_COLORS
    handles = [Patch(facecolor=(1 - FORWARD_LIGHTEN) * np.array(to_rgba(palette[0]))
                     + FORWARD_LIGHTEN * np.ones(4), label="forward"),
               Patch(facecolor=palette[0], label="backward"),
               Patch(facecolor=IDLE_COLOR, edgecolor="gray", label="idle (bubble)"),
               flush_line]
    flush_line.set_label("gradient sync + weight update")
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=4, fontsize=7,
              frameon=False)
    return image, separators, flush_line


def _schedule_ticks(stages: int) -> tuple[np.ndarray, list[str]]:
    """Row-centre tick positions and stage labels (1-based), at most about 8 of them."""
    step = max(1, int(np.ceil(stages / 8)))
    return (np.arange(stages) + 0.5)[::step], [str(s + 1) for s in range(stages)][::step]


def update_schedule(artists: PipelineArtists, schedule: Schedule, title: str,
                    view: tuple[int, int] | None = None) -> None:
    """Repaint the schedule image in place and frame it.

    ``view`` is (stages, slots) the axes show, at least the schedule's own size; None fits the axes to the
    schedule. Limits, ticks, separators and the title are set only when they change.
    """
    # 8-bit RGBA: Matplotlib resamples it about twice as fast as floats
    pixels = np.round(schedule_rgba(schedule, artists.max_stages, artists.max_slots) * 255).astype(np.uint8)
    artists.image.set_data(pixels)
    ax = artists.schedule_ax
    rows, slots = view if view is not None else (schedule.stages, schedule.slots)
    rows, slots = max(rows, schedule.stages), max(slots, schedule.slots)
    if ax.get_xlim() != (0, slots):
        ax.set_xlim(0, slots)
    if ax.get_ylim() != (rows, 0):
        ax.set_ylim(rows, 0)
    separators = (schedule.stages, schedule.slots)
    if getattr(artists.separators, "_course_shape", None) != separators:
        artists.separators.set_segments([[(0, s), (schedule.slots, s)] for s in range(1, schedule.stages)])
        artists.separators._course_shape = separators
    if getattr(ax, "_course_tick_rows", None) != rows:
        ax.set_yticks(*_schedule_ticks(rows))
        ax._course_tick_rows = rows
    if schedule.flush_slot is None:
        if artists.flush_line.get_visible():
            artists.flush_line.set_visible(False)
    else:
        artists.flush_line.set_xdata([schedule.flush_slot - 0.05] * 2)
        if not artists.flush_line.get_visible():
            artists.flush_line.set_visible(True)
    if ax.get_title() != title:
        ax.set_title(title, fontsize=10)


def draw_memory(ax: Axes):
    """Empty memory-per-stage lines on log axes; return them (then update)."""
    plain_log_axes(ax)
    ax.set(xlabel="context length [tokens]", ylabel="memory per stage [GB]")
    (weights_line,) = ax.plot([], [], color=COLORS["weights"], lw=2, label="weights / stage")
    (kv_line,) = ax.plot([], [], color=COLORS["kv"], lw=2, label="KV cache / stage")
    (total_line,) = ax.plot([], [], color=COLORS["total"], ls="--", lw=1.2, label="total")
    (capacity_line,) = ax.plot([], [], color=COLORS["capacity"], ls="-.", lw=1.2, label="stage HBM")
    crossover_line = ax.axvline(1.0, color=COLORS["crossover"], ls=":", lw=1.5, label="KV = weights")
    marker_line = ax.axvline(1.0, color=COLORS["published"], ls="-", lw=1, alpha=0.7, label="marker")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper left", fontsize=7)
    return weights_line, kv_line, total_line, capacity_line, crossover_line, marker_line


def update_memory(artists: PipelineArtists, curves: MemoryCurves) -> None:
    """Move the memory lines to new curves in place."""
    x = curves.context_tokens
    weights = np.full_like(x, curves.weights_gb, dtype=float)
    artists.weights_line.set_data(x, weights)
    artists.kv_line.set_data(x, curves.kv_gb)
    artists.total_line.set_data(x, weights + curves.kv_gb)
    values = [weights, curves.kv_gb]
    if curves.weights_range_gb is not None:
        values.append(np.array(curves.weights_range_gb, dtype=float))
    if curves.capacity_gb is None:
        artists.capacity_line.set_visible(False)
    else:
        artists.capacity_line.set_data(x, np.full_like(x, curves.capacity_gb, dtype=float))
        artists.capacity_line.set_visible(True)
        values.append(np.array([curves.capacity_gb]))
    inside = bool(x.min() <= curves.crossover_tokens <= x.max())
    artists.crossover_line.set_xdata([curves.crossover_tokens if inside else x.min()] * 2)
    artists.crossover_line.set_visible(inside)
    if curves.marker_tokens is None:
        artists.marker_line.set_visible(False)
    else:
        artists.marker_line.set_xdata([curves.marker_tokens] * 2)
        artists.marker_line.set_visible(True)
        label = artists.memory_ax.get_legend().get_texts()[-1]
        if label.get_text() != curves.marker_label:
            label.set_text(curves.marker_label)
    ax = artists.memory_ax
    xlim = (float(x.min()), float(x.max()))
    if ax.get_xlim() != xlim:
        ax.set_xlim(*xlim)
    stacked = np.concatenate([np.ravel(v) for v in values])
    stacked = stacked[np.isfinite(stacked) & (stacked > 0)]
    ylim = (float(stacked.min() / 2), float(stacked.max() * 4))
    if ax.get_ylim() != ylim:
        ax.set_ylim(*ylim)


def draw_pipeline(schedule_ax: Axes, memory_ax: Axes, schedule: Schedule, schedule_title: str,
                  curves: MemoryCurves, max_stages: int, max_slots: int,
                  view: tuple[int, int] | None = None) -> PipelineArtists:
    """Draw the schedule and the memory panel; return their artists for in-place updates.

    ``view``: (stages, slots) the schedule axes show (see ``update_schedule``)."""
    image, separators, flush_line = draw_schedule(schedule_ax, schedule, max_stages, max_slots)
    memory = draw_memory(memory_ax)
    artists = PipelineArtists(image, separators, flush_line, schedule_ax, *memory, memory_ax,
                              max_stages=max_stages, max_slots=max_slots)
    update_pipeline(artists, schedule, schedule_title, curves, view)
    return artists


def update_pipeline(artists: PipelineArtists, schedule: Schedule, schedule_title: str,
                    curves: MemoryCurves, view: tuple[int, int] | None = None) -> None:
    """Update both panels in place (``view``: see ``update_schedule``)."""
    update_schedule(artists, schedule, schedule_title, view)
    update_memory(artists, curves)
