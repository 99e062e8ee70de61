"""Segment 2 plots: an MoE layer's all-to-all time against the expert-parallel degree."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from course.plots.figure import nice_ceiling

COLORS = {"scale_up": "#1f77b4", "scale_out": "#d62728", "total": "black", "step": "#ff7f0e",
          "boundary": "gray", "other": "#bbbbbb"}

EP_TICKS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
"""Tick positions of the expert-parallel axis [chips]."""

LIMIT_STEPS = (1.0, 3.0)
"""Top of the layer-time axis: the smallest step x 10^k above the curves, so the axis (its tick labels, the
costly part of a redraw) moves only when the curves cross a step, not on every slider event."""



@dataclass(frozen=True)
class MoeCurves:
    """What the segment 2 figure shows, for one setting of the controls.

    Attributes:
        name: the selected fabric's display name.
        ep: expert-parallel degrees of the selected fabric [chips].
        scale_up_us, scale_out_us, total_us: one layer's all-to-all time on each network and overall [µs].
        per_token_ns: the layer time per routed token [ns].
        domain_size: chips in one NVLink domain [count].
        one_domain_us, two_domains_us: layer time at EP = D and EP = 2D [µs].
        others: (name, ep, per_token_ns) of the fabrics not selected, drawn faintly.
    """

    name: str
    ep: np.ndarray
    scale_up_us: np.ndarray
    scale_out_us: np.ndarray
    total_us: np.ndarray
    per_token_ns: np.ndarray
    domain_size: int
    one_domain_us: float
    two_domains_us: float
    others: tuple = ()

    @property
    def step(self) -> float:
        """How many times longer two domains take than one [x]."""
        return self.two_domains_us / self.one_domain_us


@dataclass
class MoeArtists:
    """The artists of the segment 2 figure, kept to be updated in place."""

    scale_up_line: object
    scale_out_line: object
    total_line: object
    step_line: object
    step_text: object
    layer_boundary: object
    token_lines: list
    token_line: object
    token_boundary: object
    axes: tuple


def _ep_axis(ax: Axes) -> None:
    """Log base-2 x axis with plain tick labels and no minor ticks."""
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(EP_TICKS))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _position: f"{value:g}"))


def draw_moe_curves(layer_ax: Axes, token_ax: Axes, curves: MoeCurves, max_others: int = 8) -> MoeArtists:
    """Draw layer time (per network and overall) and time per token against EP degree; return the artists."""
    _ep_axis(layer_ax)
    layer_ax.set(xlabel="expert-parallel degree [GPUs]", ylabel="all-to-all time per layer [µs]",
                 title="One MoE layer, all tokens on a GPU")
    (scale_up_line,) = layer_ax.plot([], [], color=COLORS["scale_up"], label="NVLink share")
    (scale_out_line,) = layer_ax.plot([], [], color=COLORS["scale_out"], label="scale-out share")
    (total_line,) = layer_ax.plot([], [], color=COLORS["total"], lw=2.2, ls="--", marker=".",
                                  label="layer = max")
    (step_line,) = layer_ax.plot([], [], "o-", color=COLORS["step"], ms=7, lw=1.5, label="one → two domains")
    step_text = layer_ax.text(0, 0, "", color=COLORS["step"], fontsize=11, fontweight="bold",
                              ha="left", va="center")
    layer_boundary = layer_ax.axvline(8, color=COLORS["boundary"], ls=":", label="NVLink domain size")
    layer_ax.legend(loc="upper left", fontsize=8)
    layer_ax.grid(True, alpha=0.3)
    # the faint grid over the curves: a slider event that moves the axis then starts redrawing at the same
    # artist (the first curve) as one that does not, so the renderer keeps its background
    layer_ax.set_axisbelow(False)

    _ep_axis(token_ax)
    token_ax.set(xlabel="expert-parallel degree [GPUs]", ylabel="time per token per layer [ns]",
                 title="Per token, any batch (grey: the other chips)")
    token_lines = [token_ax.plot([], [], color=COLORS["other"], lw=1)[0] for _ in range(max_others)]
    (token_line,) = token_ax.plot([], [], color=COLORS["total"], lw=2.2, marker=".")
    token_boundary = token_ax.axvline(8, color=COLORS["boundary"], ls=":")
    token_ax.grid(True, alpha=0.3)

    artists = MoeArtists(scale_up_line, scale_out_line, total_line, step_line, step_text, layer_boundary,
                         token_lines, token_line, token_boundary, (layer_ax, token_ax))
    update_moe_curves(artists, curves)
    return artists


def _set_data(line, x, y) -> None:
    """``line.set_data`` only when the data differ (beyond rounding: per-token times computed at another
    token count agree to the last bits only)."""
    old_x, old_y = np.asarray(line.get_xdata(), dtype=float), np.asarray(line.get_ydata(), dtype=float)
    new_x, new_y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if not (old_x.shape == new_x.shape and old_y.shape == new_y.shape
            and np.allclose(old_x, new_x, rtol=1e-12, atol=0) and np.allclose(old_y, new_y, rtol=1e-12, atol=0)):
        line.set_data(x, y)


def _set_lim(setter, getter, low: float, high: float) -> None:
    if getter() != (low, high):
        setter(low, high)


def update_moe_curves(artists: MoeArtists, curves: MoeCurves) -> None:
    """Move the artists to new curves in place, touching only what differs.

    The layer-time axis tops out at a step (``nice_ceiling``) above the curves, so it moves only when they
    cross one; the per-token panel does not depend on the token count at all.
    """
    layer_ax, token_ax = artists.axes
    artists.scale_up_line.set_data(curves.ep, curves.scale_up_us)
    artists.scale_out_line.set_data(curves.ep, curves.scale_out_us)
    artists.total_line.set_data(curves.ep, curves.total_us)
    domain = curves.domain_size
    artists.step_line.set_data([domain, 2 * domain], [curves.one_domain_us, curves.two_domains_us])
    artists.step_text.set_position((2 * domain * 1.12, curves.two_domains_us))
    step_label = f"×{curves.step:.1f}"
    if artists.step_text.get_text() != step_label:
        artists.step_text.set_text(step_label)
    for boundary in (artists.layer_boundary, artists.token_boundary):
        _set_data(boundary, [domain, domain], boundary.get_ydata())

    _set_data(artists.token_line, curves.ep, curves.per_token_ns)
    for line, other in zip(artists.token_lines, curves.others):
        _, ep, per_token_ns = other
        _set_data(line, ep, per_token_ns)
        if not line.get_visible():
            line.set_visible(True)
    for line in artists.token_lines[len(curves.others):]:
        if line.get_visible():
            line.set_visible(False)

    x_max = float(max([curves.ep.max(), *(other[1].max() for other in curves.others)]))
    for ax in (layer_ax, token_ax):
        _set_lim(ax.set_xlim, ax.get_xlim, 1.0, x_max)
    top = nice_ceiling(float(np.max(curves.total_us)) * 1.12, LIMIT_STEPS)
    _set_lim(layer_ax.set_ylim, layer_ax.get_ylim, 0.0, top)
    token_top = max([float(np.max(curves.per_token_ns)), *(float(np.max(o[2])) for o in curves.others)])
    _set_lim(token_ax.set_ylim, token_ax.get_ylim, 0.0, token_top * 1.08)
