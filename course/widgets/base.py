"""The shared explorer shell: controls, a figure image redrawn in place, and a readout."""

from __future__ import annotations

import base64
from typing import Callable

import ipywidgets as widgets
from matplotlib.figure import Figure

from course.plots.figure import render_png, use_caching_canvas


class Explorer(widgets.VBox):
    """Controls above a PNG of a matplotlib figure and an HTML readout.

    On every control change ``update(values)`` moves the figure's artists in
    place and returns the readout HTML; the same figure is then re-rendered
    into the existing Image widget. Displayed without a kernel (GitHub, nbviewer)
    it falls back to a static PNG of its current state.

    Rendering is incremental (``course.plots.figure.render_png``): only the
    artists ``update`` changed are redrawn, over a cached background, giving the
    same pixels as a full draw. For that, ``update`` must change artists through
    their setters (``set_data``, ``set_text``, ``set_xlim``, ...) and draw the same
    picture for the same ``values`` whatever came before.

    Args:
        controls: name -> value widget; ``values`` passed to ``update`` uses these names.
        figure: a pyplot-free figure (``course.plots.figure.new_figure``).
        update: moves the artists for the given values; returns readout HTML.
        title: one line shown above the controls and as plain-text fallback.
    """

    def __init__(self, controls: dict[str, widgets.ValueWidget], figure: Figure,
                 update: Callable[[dict], str], title: str):
        self.controls = controls
        self.figure = use_caching_canvas(figure)
        self._update = update
        self.title = title
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
        """Recompute, move the artists, re-render the image and the readout."""
        self.readout.value = self._update(self.values)
        self.image.value = render_png(self.figure)

    def _on_change(self, _change) -> None:
        self.refresh()

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = f"{self.title} (run the notebook to move the sliders)"
        bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        return bundle
