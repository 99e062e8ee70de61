"""Incremental explorer redraws give the same pixels as full draws, for every explorer."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

import course.widgets
from course.plots.figure import CachingCanvasAgg, decode_png, encode_png, renderer_for


def _factories():
    found = []
    for info in sorted(pkgutil.iter_modules(course.widgets.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"course.widgets.{info.name}")
        for name, obj in sorted(vars(module).items()):
            if (name.endswith("_explorer") and inspect.isfunction(obj) and obj.__module__ == module.__name__
                    and all(p.default is not inspect.Parameter.empty
                            for p in inspect.signature(obj).parameters.values())):
                found.append(pytest.param(obj, id=f"{info.name}.{name}"))
    return found


FACTORIES = _factories()


def _values(control, count: int) -> list:
    if hasattr(control, "options") or not hasattr(control, "min"):
        options = [o[1] if isinstance(o, tuple) else o for o in getattr(control, "options", ())]
        return [o for o in options if o != control.value][:count]
    raw = np.linspace(float(control.min), float(control.max), count)
    if type(control).__name__ == "FloatLogSlider":
        raw = float(control.base) ** raw
    if type(control).__name__.startswith("Int"):
        raw = np.round(raw).astype(int)
    return [v for v in raw.tolist() if v != control.value]


def _assert_same_as_full_draw(explorer, what: str) -> None:
    renderer = renderer_for(explorer.figure)
    diff = renderer.verify()
    assert len(diff) == 0, (f"{what}: {renderer.frame.kind} frame differs from a full draw in {len(diff)} "
                            f"pixels, rows {diff[:, 0].min()}-{diff[:, 0].max()}, "
                            f"columns {diff[:, 1].min()}-{diff[:, 1].max()}")


def test_segment_one_slider_events_blit_and_match_full_draws():
    """Moving the batch slider redraws only the markers, and each frame equals a full redraw."""
    from course.segments.batch_size.explorer import batch_size_explorer

    explorer = batch_size_explorer()
    renderer = renderer_for(explorer.figure)
    kinds = []
    for value in 2.0 ** np.arange(1, 14, 0.75):
        explorer.controls["batch"].value = value
        kinds.append(renderer.frame.kind)
        _assert_same_as_full_draw(explorer, f"batch={value:g}")
    assert kinds.count("blit") >= len(kinds) - 2, kinds
    assert explorer.image.value == renderer._png


@pytest.mark.parametrize("factory", FACTORIES)
def test_every_control_gives_full_draw_pixels(factory):
    """Each control of each explorer, swept and then walked at random, matches a full redraw."""
    explorer = factory()
    rng = np.random.default_rng(0)
    for name, control in explorer.controls.items():
        for value in _values(control, 3):
            control.value = value
            _assert_same_as_full_draw(explorer, f"{name}={value!r}")
    names = list(explorer.controls)
    for _ in range(8):
        name = names[rng.integers(len(names))]
        choices = _values(explorer.controls[name], 6)
        if choices:
            value = choices[rng.integers(len(choices))]
            explorer.controls[name].value = value
            _assert_same_as_full_draw(explorer, f"random walk {name}={value!r}")


@pytest.mark.parametrize("factory", FACTORIES)
def test_caching_canvas_draws_what_matplotlib_draws(factory):
    """The text-caching Agg canvas gives the same pixels as Matplotlib's own."""
    figure = factory().figure
    FigureCanvasAgg(figure)
    figure.canvas.draw()
    plain = np.asarray(figure.canvas.buffer_rgba()).copy()
    CachingCanvasAgg(figure)
    figure.canvas.draw()
    figure.canvas.draw()  # the second draw comes from the caches
    assert np.array_equal(plain, np.asarray(figure.canvas.buffer_rgba()))


def test_png_round_trip():
    rgba = np.random.default_rng(1).integers(0, 256, size=(7, 5, 4), dtype=np.uint8)
    assert np.array_equal(decode_png(encode_png(rgba)), rgba)


def test_incremental_drawing_can_be_turned_off(monkeypatch):
    from course.segments.batch_size.explorer import batch_size_explorer

    monkeypatch.setenv("COURSE_REDRAW", "full")
    explorer = batch_size_explorer()
    explorer.controls["batch"].value = 1024
    assert renderer_for(explorer.figure).frame.kind == "full"
