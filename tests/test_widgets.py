"""The segment 1 explorer redraws in place and stays consistent with the model."""

from __future__ import annotations

import numpy as np
import pytest

from course.models import roofline
from course.presets import chips
from course.segments.batch_size.explorer import batch_curves, batch_size_explorer


def test_slider_move_updates_artists_in_place():
    """Moving a slider keeps the same figure and lines, moves the marker, and re-renders the image."""
    explorer = batch_size_explorer()
    figure, lines = explorer.figure, list(explorer.figure.axes[0].lines)
    image_before, readout_before = explorer.image.value, explorer.readout.value
    explorer.controls["batch"].value = 4096
    assert explorer.figure is figure and list(figure.axes[0].lines) == lines
    assert explorer.image.value != image_before and explorer.readout.value != readout_before
    marker_x = figure.axes[0].lines[3].get_xdata()
    assert marker_x[0] == pytest.approx(4096)


def test_chip_change_moves_curves_and_critical_line():
    """Switching chip changes the curves and the critical-batch marker."""
    explorer = batch_size_explorer()
    critical_before = explorer.figure.axes[0].lines[4].get_xdata()[0]
    explorer.controls["chip"].value = "b200"
    assert explorer.figure.axes[0].lines[4].get_xdata()[0] != critical_before
    assert "B200" in explorer.readout.value


def test_curves_agree_with_the_model():
    """The plotted step time at the selected batch is the model's."""
    curves, step = batch_curves(batch=512, active_fraction=37 / 671, context_tokens=1024, chip=chips.H100_SXM,
                                price_usd_per_chip_hour=2.0)
    assert curves.current_step_ms == pytest.approx(float(step.step_s) * 1e3)
    assert np.all(np.diff(curves.cost_usd_per_mtok) <= 1e-12)
    assert curves.drain_ms == pytest.approx(roofline.drain_time_s(chips.H100_SXM) * 1e3)


def test_static_fallback_is_a_png():
    """Displayed without a kernel the explorer shows a PNG of its figure."""
    bundle = batch_size_explorer()._repr_mimebundle_()
    assert "image/png" in bundle and "application/vnd.jupyter.widget-view+json" in bundle
