"""Segment 3 plot: a pipeline schedule (stages x time) and memory per stage against context length.

The schedule is one RGBA image of a fixed maximum size; a redraw only rewrites its pixels. Its axes show
a frame of stages x slots (``view.frame``, powers of two) at least as large as the schedule, so that the
axis limits and tick labels stay put while the sliders move within that frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from course.models.pipeline import BACKWARD, FORWARD, Schedule
from course.plots.common import CURVE_ZORDER, FigureLayout, PlotArtists, plain_log_axes
from course.segments.pipeline.view import MAX_SLOTS, MAX_STAGES, PipelineView

MICROBATCH_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
"""Colours of successive micro-batches (cycled) [matplotlib colours]."""

IDLE_COLOR = "#f2f2f2"
"""Colour of an idle (bubble) cell."""

FORWARD_LIGHTEN = 0.45
"""Forward cells are the micro-batch colour mixed with this share of white; backward cells are full colour."""

COLORS = {"weights": "#1f77b4", "kv": "#d62728", "total": "black", "capacity": "gray", "crossover": "#ff7f0e",
          "published": "#2ca02c"}

LAYOUT = FigureLayout(width_in=10.0, height_in=4.4, bottom_in=1.25, top_in=0.35, left_in=0.7, right_in=0.35,
                      gap_in=0.9)
"""Two panels, with room below each for its legend."""



@dataclass
class PipelineArtists(PlotArtists):
    """The artists of the segment 3 figure, kept to be moved in place."""

    image: AxesImage
    separators: LineCollection
    flush_line: Line2D
    schedule_ax: Axes
    weights_line: Line2D
    kv_line: Line2D
    total_line: Line2D
    capacity_line: Line2D
    crossover_line: Line2D
    marker_line: Line2D
    memory_ax: Axes

    def moving(self) -> tuple[Artist, ...]:
        return (self.image, self.separators, self.flush_line, self.weights_line, self.kv_line, self.total_line,
                self.capacity_line, self.crossover_line, self.marker_line)

    def labels(self) -> tuple[Artist, ...]:
        return (self.schedule_ax.title,)


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


def _schedule_ticks(stages: int) -> tuple[np.ndarray, list[str]]:
    """Row-centre tick positions and stage labels (1-based), at most about 8 of them."""
    step = max(1, int(np.ceil(stages / 8)))
    return (np.arange(stages) + 0.5)[::step], [str(s + 1) for s in range(stages)][::step]


def draw(axes: list[Axes], view: PipelineView) -> PipelineArtists:
    """Draw the schedule (an image over a fixed frame) and the memory panel; return the artists."""
    schedule_ax, memory_ax = axes
    image = schedule_ax.imshow(np.zeros((MAX_STAGES, MAX_SLOTS, 4), dtype=np.uint8),
                               extent=(0, MAX_SLOTS, MAX_STAGES, 0), interpolation="nearest", aspect="auto",
                               zorder=CURVE_ZORDER - 0.4)
    separators = LineCollection([], colors="white", linewidths=1.5, zorder=CURVE_ZORDER)
    schedule_ax.add_collection(separators)
    flush_line = schedule_ax.axvline(0, color="black", lw=2, ls="--", zorder=CURVE_ZORDER,
                                     label="gradient sync + weight update")
    schedule_ax.set(xlabel="time [slots: one stage's forward pass of one micro-batch]", ylabel="pipeline stage")
    schedule_ax.title.set_fontsize(10)
    forward = (1 - FORWARD_LIGHTEN) * np.array(to_rgba(MICROBATCH_COLORS[0])) + FORWARD_LIGHTEN * np.ones(4)
    handles = [Patch(facecolor=forward, label="forward"), Patch(facecolor=MICROBATCH_COLORS[0], label="backward"),
               Patch(facecolor=IDLE_COLOR, edgecolor="gray", label="idle (bubble)"), flush_line]
    schedule_ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2, fontsize=8,
                       frameon=False)

    plain_log_axes(memory_ax)
    memory_ax.set_axisbelow(True)
    memory_ax.grid(True, which="major", alpha=0.3)
    memory_ax.set(xlabel="context length [tokens]", ylabel="memory per stage [GB]")
    memory_ax.set_title("Decode memory per stage (p micro-batches in flight)", fontsize=10)
    line = dict(zorder=CURVE_ZORDER)
    (weights_line,) = memory_ax.plot([], [], color=COLORS["weights"], lw=2, label="weights / stage", **line)
    (kv_line,) = memory_ax.plot([], [], color=COLORS["kv"], lw=2, label="KV cache / stage", **line)
    (total_line,) = memory_ax.plot([], [], color=COLORS["total"], ls="--", lw=1.2, label="total", **line)
    (capacity_line,) = memory_ax.plot([], [], color=COLORS["capacity"], ls="-.", lw=1.2, label="stage HBM", **line)
    crossover_line = memory_ax.axvline(1.0, color=COLORS["crossover"], ls=":", lw=1.5, label="KV = weights", **line)
    marker_line = memory_ax.axvline(1.0, color=COLORS["published"], ls="-", lw=1, alpha=0.7,
                                    label=view.memory.marker_label, **line)
    memory_ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=3, fontsize=7, frameon=False,
                     columnspacing=1.0)
    artists = PipelineArtists(image, separators, flush_line, schedule_ax, weights_line, kv_line, total_line,
                              capacity_line, crossover_line, marker_line, memory_ax)
    update(artists, view)
    return artists


def update(artists: PipelineArtists, view: PipelineView) -> None:
    """Repaint the schedule image, separators, flush line and title; move the memory lines; set the frame."""
    schedule = view.schedule
    # 8-bit RGBA: matplotlib resamples it about twice as fast as floats
    artists.image.set_data(np.round(schedule_rgba(schedule, MAX_STAGES, MAX_SLOTS) * 255).astype(np.uint8))
    artists.separators.set_segments([[(0, s), (schedule.slots, s)] for s in range(1, schedule.stages)])
    artists.flush_line.set_visible(schedule.flush_slot is not None)
    artists.flush_line.set_xdata([(schedule.flush_slot or 0) - 0.05] * 2)
    ax = artists.schedule_ax
    rows, slots = view.frame
    ax.set_xlim(0, slots)
    ax.set_ylim(rows, 0)
    ax.set_yticks(*_schedule_ticks(rows))
    ax.set_title(view.title, fontsize=10)

    memory = view.memory
    x = memory.context_tokens
    weights = np.full_like(x, memory.weights_gb, dtype=float)
    artists.weights_line.set_data(x, weights)
    artists.kv_line.set_data(x, memory.kv_gb)
    artists.total_line.set_data(x, weights + memory.kv_gb)
    artists.capacity_line.set_data(x, np.full_like(x, memory.capacity_gb, dtype=float))
    inside = bool(x.min() <= memory.crossover_tokens <= x.max())
    artists.crossover_line.set_xdata([memory.crossover_tokens if inside else x.min()] * 2)
    artists.crossover_line.set_visible(inside)
    artists.marker_line.set_xdata([memory.marker_tokens] * 2)
    artists.memory_ax.set_xlim(float(x.min()), float(x.max()))
    artists.memory_ax.set_ylim(*memory.ylim)
