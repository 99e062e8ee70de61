"""Figures that live outside pyplot, and fast PNG rendering of them."""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullLocator

PNG_DPI = 80
"""Resolution of explorer images [dots per inch]; low enough to render in a few ms."""


def new_figure(width_in: float = 9.0, height_in: float = 3.6, ncols: int = 2) -> tuple[Figure, list]:
    """A pyplot-free figure (never auto-displayed) with ``ncols`` axes side by side."""
    figure = Figure(figsize=(width_in, height_in), dpi=PNG_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, ncols)
    return figure, list(axes) if ncols > 1 else [axes]


def render_png(figure: Figure) -> bytes:
    """Draw ``figure`` with Agg and return PNG bytes.

    The first call lays the figure out (constrained layout) and then freezes
    that layout, so later redraws skip the layout solver.
    """
    if not getattr(figure, "_course_layout_frozen", False):
        figure.canvas.draw()
        figure.set_layout_engine("none")
        figure._course_layout_frozen = True
    buffer = io.BytesIO()
    figure.canvas.print_png(buffer)
    return buffer.getvalue()


def plain_log_axes(ax) -> None:
    """Log-log axes with plain-number tick labels and no minor ticks (mathtext labels are slow to draw)."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_minor_locator(NullLocator())
        axis.set_major_formatter(FuncFormatter(_plain_number))


def _plain_number(value: float, _position) -> str:
    return f"{value:g}"
