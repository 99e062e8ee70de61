"""The explorer shell (headless mode, static fallback) and segment 1's explorer against its model."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import pytest

from course.headless import Placeholder
from course.models import roofline
from course.plots.common import FigureLayout
from course.presets import chips
from course.segments.batch_size.explorer import batch_size_explorer
from course.segments.batch_size.view import batch_size_view
from course.widgets.explorer import registered_explorers

EXPLORERS = [pytest.param(factory, id=name) for name, factory in registered_explorers()]

MENUS_THAT_MOVE_THE_AXES = {
    ("imbalance", "local_per_global"): "the stage-time axis is stepped per pattern: an axis holding every "
                                       "pattern would squash the 7:1 bars to a seventh of it at long context",
}
"""(segment, control) of dropdowns whose options may change the axis limits, and why."""


@pytest.mark.parametrize("factory", EXPLORERS)
def test_headless_builds_nothing(factory, monkeypatch):
    """With COURSE_HEADLESS=1 an explorer call returns a placeholder and never creates a figure."""
    monkeypatch.setenv("COURSE_HEADLESS", "1")
    monkeypatch.setattr(FigureLayout, "new", lambda self: pytest.fail("a figure was built in headless mode"))
    shown = factory()
    assert isinstance(shown, Placeholder)
    assert "COURSE_HEADLESS" in shown._repr_mimebundle_()["text/plain"]


@pytest.mark.parametrize("factory", EXPLORERS)
def test_static_fallback_and_readout(factory):
    """Displayed without a kernel an explorer shows a PNG of its figure; its readout has text."""
    explorer = factory()
    bundle = explorer._repr_mimebundle_()
    assert "image/png" in bundle and "application/vnd.jupyter.widget-view+json" in bundle
    assert explorer.readout.value.strip()
    assert {"course-explorer"} <= set(explorer._dom_classes)


@pytest.mark.parametrize(("segment", "factory"), [pytest.param(*item, id=item[0]) for item in registered_explorers()])
def test_menus_move_the_curves_not_the_axes(segment, factory):
    """Every dropdown option at the default settings keeps the layout, so a menu change blits (a view's limits
    hold every option of its menus), unless ``MENUS_THAT_MOVE_THE_AXES`` says why not."""
    explorer = factory()
    for name, control in explorer.controls.items():
        if not isinstance(control, widgets.Dropdown) or (segment, name) in MENUS_THAT_MOVE_THE_AXES:
            continue
        default, layout, full_draws = control.value, explorer.view.layout_key, explorer.full_draws
        for option in [*(value for _, value in control.options), default]:
            control.value = option
            assert explorer.view.layout_key == layout, f"{name}={option!r} moved the axes"
        assert explorer.full_draws == full_draws, name


@pytest.mark.parametrize("factory", EXPLORERS)
def test_legends_stay_off_the_axes(factory):
    """No legend covers an axes' plotting area, where the curves move."""
    explorer = factory()
    figure = explorer.figure
    legends = list(figure.legends) + [ax.get_legend() for ax in figure.axes if ax.get_legend() is not None]
    renderer = figure.canvas.get_renderer()
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in figure.axes:
            assert not box.overlaps(ax.get_window_extent(renderer)), (
                f"a legend ({[t.get_text() for t in legend.get_texts()]}) covers an axes")


def test_slider_move_moves_the_marker_and_keeps_the_artists():
    """Moving the batch slider keeps the figure and its lines, moves the marker and redraws image and readout."""
    explorer = batch_size_explorer()
    figure, lines = explorer.figure, list(explorer.figure.axes[0].lines)
    image_before, readout_before = explorer.image.value, explorer.readout.value
    explorer.controls["batch"].value = 4096
    assert explorer.figure is figure and list(figure.axes[0].lines) == lines
    assert explorer.image.value != image_before and explorer.readout.value != readout_before
    assert explorer.artists.latency_point.get_xdata()[0] == pytest.approx(4096)


def test_chip_change_moves_the_critical_line():
    explorer = batch_size_explorer()
    critical_before = explorer.artists.latency_critical.get_xdata()[0]
    explorer.controls["chip"].value = "b200"
    assert explorer.artists.latency_critical.get_xdata()[0] != critical_before
    assert "B200" in explorer.readout.value


def test_memory_line_draws_above_the_step_band():
    """The step band lies under the memory and compute lines (issue 10: the memory line hid under it)."""
    artists = batch_size_explorer().artists
    order = sorted(artists.latency_ax.get_children(), key=lambda a: a.get_zorder())
    assert order.index(artists.step_line) < order.index(artists.memory_line)
    assert order.index(artists.step_line) < order.index(artists.compute_line)
    assert artists.step_line.get_alpha() < 1 and artists.memory_line.get_linestyle() == "-"


def test_view_agrees_with_the_model():
    """The plotted step time and cost at the selected batch are the roofline model's."""
    view = batch_size_view(batch=512, active_fraction=37 / 671, context_tokens=1024, chip=chips.H100_SXM,
                           price_usd_per_chip_hour=2.0)
    precision = roofline.serving_precision(chips.H100_SXM)
    step = roofline.decode_step(512, active_params=37e9, total_params=671e9, context_tokens=1024,
                                kv_bytes_per_token=70_272, chip=chips.H100_SXM, n_chips=view.n_chips,
                                precision=precision)
    assert view.current_step_ms == pytest.approx(float(step.step_s) * 1e3, rel=1e-2)
    assert np.all(np.diff(view.cost_usd_per_mtok) <= 1e-12)
    assert view.drain_ms == pytest.approx(roofline.drain_time_s(chips.H100_SXM) * 1e3)
    low, high = view.latency_ylim
    assert low <= view.compute_ms.min() and high >= view.memory_ms.max()
    assert np.log10(low) == round(np.log10(low)) and np.log10(high) == round(np.log10(high))
