"""Every explorer's blitted frames equal fresh full draws by stock matplotlib, and the fast path is taken.

The reference for a frame is a new ``Figure`` on a plain ``FigureCanvasAgg``, drawn once with the
segment's ``draw(axes, view)`` for the same control values and ``canvas.draw()``: it never sees the
explorer's saved backgrounds, animated artists or PNG encoder. Explorers come from the segment
registry, so a new segment is tested by adding its room.
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from course.plots.common import PNG_DPI, PngEncoder, decode_png, encode_png
from course.widgets.explorer import registered_explorers

EXPLORERS = [pytest.param(factory, id=name) for name, factory in registered_explorers()]

CHANNEL_TOLERANCE = 8
"""A pixel counts as different when a channel differs by more than this [levels of 255]."""

DIFFERENT_SHARE_MAX = 0.001
"""Largest share of pixels allowed to differ from the reference [fraction]."""


def stock_frame(explorer) -> np.ndarray:
    """RGBA of a fresh full draw of the explorer's current values by stock matplotlib."""
    layout = explorer.scene.layout
    figure, axes = layout.new()
    assert type(figure) is Figure and type(figure.canvas) is FigureCanvasAgg
    assert figure.dpi == PNG_DPI and figure is not explorer.figure
    explorer.scene.draw(axes, explorer.scene.view(explorer.values))
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba()).copy()


def assert_matches_stock(explorer, what: str) -> None:
    shown = decode_png(explorer.image.value).astype(int)
    reference = stock_frame(explorer).astype(int)
    assert shown.shape == reference.shape, what
    different = np.abs(shown - reference).max(axis=2) > CHANNEL_TOLERANCE
    rows, columns = np.nonzero(different)
    assert different.mean() <= DIFFERENT_SHARE_MAX, (
        f"{what}: {explorer.last_frame} frame differs from a stock full draw in {different.sum()} pixels, "
        f"rows {rows.min()}-{rows.max()}, columns {columns.min()}-{columns.max()}")


def option_values(control) -> list:
    return [option[1] if isinstance(option, tuple) else option for option in control.options]


def far_values(control) -> list:
    """Up to two values far from the current one: other options, or the slider's ends."""
    if hasattr(control, "options"):
        return [v for v in option_values(control) if v != control.value][:2]
    ends = [control.max, control.min]
    if type(control).__name__ == "FloatLogSlider":
        ends = [control.base ** end for end in ends]
    return [end for end in ends if end != control.value]


def one_step(control):
    """The neighbouring value one step up (or down at the top): a learner's smallest move."""
    if hasattr(control, "options"):
        options = option_values(control)
        index = options.index(control.value)
        return options[index + 1] if index + 1 < len(options) else options[index - 1]
    exponent = np.log(control.value) / np.log(control.base) if type(control).__name__ == "FloatLogSlider" \
        else control.value
    step = control.step if exponent + control.step <= control.max else -control.step
    value = exponent + step
    if type(control).__name__ == "FloatLogSlider":
        return float(control.base ** value)
    return type(control.value)(value)


@pytest.mark.parametrize("factory", EXPLORERS)
def test_every_control_matches_a_stock_full_draw(factory):
    """For each control, far moves and then a one-step move: each frame equals stock matplotlib's full draw.

    Each event must take the path its keys allow: a full draw only when the layout key changed.
    """
    explorer = factory()
    assert explorer.full_draws == 1 and explorer.last_frame == "full"
    assert_matches_stock(explorer, "first frame")
    for name, control in explorer.controls.items():
        for value in [*far_values(control), None]:
            value = one_step(control) if value is None else value
            layout_before, full_before, blits_before = explorer.view.layout_key, explorer.full_draws, explorer.blits
            control.value = value
            what = f"{name}={value!r}"
            if explorer.view.layout_key == layout_before:
                assert explorer.full_draws == full_before and explorer.blits == blits_before + 1, (
                    f"{what}: the layout did not change, yet the frame was drawn in full")
            else:
                assert explorer.full_draws == full_before + 1, what
            assert_matches_stock(explorer, what)


@pytest.mark.parametrize("factory", EXPLORERS)
def test_main_control_mostly_blits(factory):
    """Six one-step moves of the main control from its default: at most two redraw the background in full.

    A view whose layout key changed on every small move would pass the pixel test and never blit.
    """
    explorer = factory()
    control = explorer.controls[explorer.main]
    full_before = explorer.full_draws
    for _ in range(6):
        control.value = one_step(control)
    assert explorer.full_draws - full_before <= 2, f"{explorer.main}: {explorer.full_draws - full_before} full draws"


def test_blit_path_really_skips_the_full_draw(monkeypatch):
    """Counting ``canvas.draw`` calls: a blitted event never draws the whole figure."""
    name, factory = registered_explorers()[0]
    explorer = factory()
    calls = []
    original = explorer.figure.canvas.draw
    monkeypatch.setattr(explorer.figure.canvas, "draw", lambda: calls.append(1) or original())
    control = explorer.controls[explorer.main]
    control.value = one_step(control)
    assert explorer.last_frame in ("blit", "labels") and calls == [], name


def test_png_round_trip():
    """PNGs decode to the pixels encoded: with transparency (RGBA) and opaque (written as RGB)."""
    rgba = np.random.default_rng(1).integers(0, 256, size=(7, 5, 4), dtype=np.uint8)
    assert np.array_equal(decode_png(encode_png(rgba)), rgba)
    rgba[..., 3] = 255
    assert np.array_equal(decode_png(encode_png(rgba)), rgba)


def test_png_encoder_reusing_bands_decodes_every_frame():
    """A stream of frames where one row, no row or every row changes, the size or the alpha too: each PNG from
    the band-reusing encoder decodes (Pillow) to exactly its frame."""
    rng = np.random.default_rng(2)
    encoder = PngEncoder(band_rows=4)
    frame = rng.integers(0, 256, size=(19, 6, 4), dtype=np.uint8)
    frame[..., 3] = 255
    frames = [frame]
    for row in (0, 7, 18):
        changed = frames[-1].copy()
        changed[row, 2, :3] ^= 0xFF
        frames += [changed, changed]
    frames.append(rng.integers(0, 256, size=(19, 6, 4), dtype=np.uint8))  # with transparency
    frames.append(rng.integers(0, 256, size=(9, 5, 4), dtype=np.uint8))  # another size
    frames.append(frame)
    for index, rgba in enumerate(frames):
        assert np.array_equal(decode_png(encoder.encode(rgba)), rgba), f"frame {index}"
