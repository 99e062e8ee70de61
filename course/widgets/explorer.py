"""The one explorer mechanism: controls, a figure redrawn by matplotlib's public blitting API, a readout.

A segment's explorer (``course/segments/<name>/explorer.py``) declares its controls and a ``Scene``:

- ``view(values) -> View``: pure numbers for one setting of the controls (``view.py``). A view
  has a ``layout_key`` (everything the static background shows that depends on the controls:
  axis limits, ticks, fixed lines) and a ``label_key`` (what the ``labels()`` artists show);
- ``draw(axes, view) -> PlotArtists`` and ``update(artists, view)`` (``plot.py``); the artists
  name the ones that move;
- ``readout(view) -> str``: HTML under the figure.

``Explorer`` owns the drawing cycle, as matplotlib's "Faster rendering by using blitting" tutorial:

1. the moving and label artists are ``set_animated(True)``, so a full ``canvas.draw()`` leaves them out;
2. a full draw happens on the first frame and whenever ``view.layout_key`` changes; it saves the
   background with ``canvas.copy_from_bbox(figure.bbox)``;
3. the label artists are drawn over that background, which is saved again (when ``label_key``
   changes, only this step and the next run);
4. every event restores the saved background (``canvas.restore_region``) and draws the moving
   artists (``Figure.draw_artist``), in the order a full draw would use;
5. the canvas' ``buffer_rgba()`` goes out as a PNG at zlib level 1 into the ``Image`` widget; the encoder
   (``PngEncoder``) recompresses only the row bands that changed since the previous frame.

The public counters ``full_draws``, ``label_draws`` and ``blits`` say which path each event took.
With ``COURSE_HEADLESS=1`` (``course.headless``) a factory decorated with ``explorer_factory``
returns a one-line placeholder and builds nothing.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Protocol

import ipywidgets as widgets
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes

from course.headless import Placeholder, is_headless
from course.plots.common import FigureLayout, PlotArtists, PngEncoder


class View(Protocol):
    """What a segment's ``view`` returns: numbers only, plus the keys of its static layers."""

    @property
    def layout_key(self) -> Hashable:
        """Everything the background shows that depends on the controls (limits, ticks, fixed lines)."""

    @property
    def label_key(self) -> Hashable:
        """Everything the ``labels()`` artists show."""


@dataclass(frozen=True)
class Scene:
    """How one segment's figure is computed and drawn.

    Attributes:
        layout: figure size and margins.
        view: control values by name -> the view (pure, no matplotlib).
        draw: (axes, view) -> the plot's artists, drawn for that view.
        update: (artists, view) -> None; moves the artists to a new view.
        readout: view -> HTML shown under the figure.
    """

    layout: FigureLayout
    view: Callable[[Mapping[str, object]], View]
    draw: Callable[[list[Axes], View], PlotArtists]
    update: Callable[[PlotArtists, View], None]
    readout: Callable[[View], str]


class Explorer(widgets.VBox):
    """Controls above a PNG of a matplotlib figure and an HTML readout.

    Every control change computes the view, moves the artists and redraws the image by blitting
    (see the module docstring). Displayed without a kernel (GitHub, nbviewer) it falls back to a
    static PNG of its current state.

    Args:
        controls: name -> value widget; the view receives the values under these names.
        scene: the segment's view, plot functions and readout.
        title: one line shown above the controls and as plain-text fallback.
        main: the control a learner moves most (the benchmark's main slider); default the first.
    """

    def __init__(self, controls: dict[str, widgets.ValueWidget], scene: Scene, title: str,
                 main: str | None = None):
        self.controls = controls
        self.main = main or next(iter(controls))
        if self.main not in controls:
            raise ValueError(f"main control {self.main!r} is not one of {list(controls)}")
        self.scene = scene
        self.title = title
        self.figure, self.axes = scene.layout.new()
        self.full_draws = 0
        """Events drawn in full (first frame, or the layout key changed) [count]."""
        self.label_draws = 0
        """Events that redrew the label layer over the saved background [count]."""
        self.blits = 0
        """Events drawn by restoring a saved background (label redraws included) [count]."""
        self.last_frame = ""
        """How the latest frame was drawn: "full", "labels" or "blit"."""
        self.view = None
        """The latest view drawn."""
        self.artists: PlotArtists | None = None
        self._layout_key = self._label_key = None
        self._background = self._labelled = None
        self._moving: list[Artist] = []
        self._labels: list[Artist] = []
        self._png = PngEncoder()
        self.image = widgets.Image(format="png", layout=widgets.Layout(width="auto", max_width="100%"))
        self.readout = widgets.HTML()
        control_box = widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__([widgets.HTML(f"<b>{title}</b>"), control_box, self.image, self.readout])
        # stable hooks for styling and browser tests
        self.add_class("course-explorer")
        self.image.add_class("course-explorer-figure")
        self.readout.add_class("course-explorer-readout")
        for control in controls.values():
            control.observe(self._on_change, names="value")
        self.refresh()

    @property
    def values(self) -> dict:
        """Current control values by name."""
        return {name: control.value for name, control in self.controls.items()}

    def refresh(self) -> None:
        """Compute the view, move the artists, redraw the image (blitting when it can) and the readout."""
        view = self.scene.view(self.values)
        if self.artists is None:
            self.artists = self.scene.draw(self.axes, view)
            self._animate(self.artists)
        else:
            self.scene.update(self.artists, view)
        canvas = self.figure.canvas
        if self._background is None or view.layout_key != self._layout_key:
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.figure.bbox)
            self._moving, self._labels = self._draw_order(self._moving), self._draw_order(self._labels)
            self._draw_labels()
            self.full_draws += 1
            self.last_frame = "full"
        elif view.label_key != self._label_key:
            canvas.restore_region(self._background)
            self._draw_labels()
            self.label_draws += 1
            self.blits += 1
            self.last_frame = "labels"
        else:
            canvas.restore_region(self._labelled)
            self.blits += 1
            self.last_frame = "blit"
        self._layout_key, self._label_key = view.layout_key, view.label_key
        for artist in self._moving:
            self.figure.draw_artist(artist)
        self.view = view
        self.image.value = self._png.encode(np.asarray(canvas.buffer_rgba()))
        self.readout.value = self.scene.readout(view)

    def _draw_labels(self) -> None:
        for artist in self._labels:
            self.figure.draw_artist(artist)
        self._labelled = (self.figure.canvas.copy_from_bbox(self.figure.bbox) if self._labels
                          else self._background)

    def _animate(self, artists: PlotArtists) -> None:
        moving, labels = list(artists.moving()), list(artists.labels())
        for artist in moving + labels:
            if artist.figure is not self.figure:
                raise ValueError(f"{type(artists).__name__} names an artist of another figure: {artist!r}")
        if set(moving) & set(labels):
            raise ValueError(f"{type(artists).__name__}: an artist is both moving and a label")
        for artist in moving + labels:
            artist.set_animated(True)
        self._moving, self._labels = moving, labels

    def _draw_order(self, artists: list[Artist]) -> list[Artist]:
        """``artists`` in the order a full draw paints them: Axes by Axes, by zorder (stable), then the rest."""
        wanted = set(artists)
        ordered = [child for ax in self.figure.axes
                   for child in sorted(ax.get_children(), key=lambda a: a.get_zorder()) if child in wanted]
        placed = set(ordered)
        return ordered + [artist for artist in artists if artist not in placed]

    def _on_change(self, _change) -> None:
        self.refresh()

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = f"{self.title} (run the notebook to move the sliders)"
        bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        return bundle


def explorer_factory(factory: Callable[..., Explorer]) -> Callable[..., Explorer | Placeholder]:
    """Decorate a notebook-facing explorer factory: with ``COURSE_HEADLESS=1`` it returns a placeholder."""

    @functools.wraps(factory)
    def build(*args, **kwargs):
        if is_headless():
            return Placeholder(factory.__name__)
        return factory(*args, **kwargs)

    return build


def registered_explorers() -> list[tuple[str, Callable[[], Explorer]]]:
    """(segment package, explorer factory) of every registered segment, in course order.

    Each segment's ``explorer.py`` names its factory ``EXPLORER``; tests, the benchmark and the
    grader's warm-up iterate this list, so a new segment is covered by adding its room.
    """
    from course.segments import all_segments

    found = []
    for segment in all_segments():
        factory = getattr(segment.module("explorer"), "EXPLORER", None)
        if factory is None:
            raise AttributeError(f"course/segments/{segment.package}/explorer.py defines no EXPLORER; "
                                 f"set EXPLORER = <its explorer factory>")
        found.append((segment.package, factory))
    return found
