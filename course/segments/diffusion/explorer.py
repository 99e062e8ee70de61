"""Segment 7 explorer: depth, width and weight scale against the avalanche curve and heat map."""

from __future__ import annotations

import ipywidgets as widgets

from course.models import diffusion
from course.segments.diffusion import plot
from course.segments.diffusion.view import GAINS, SYSTEMS, WIDTHS, DiffusionView, view
from course.widgets.explorer import Explorer, Scene, explorer_factory


def readout(view: DiffusionView) -> str:
    """HTML under the figure: the heat map's mean flip probability, never-flipped pairs and the verdict."""
    where = "" if view.system == SYSTEMS["sha256"] else f" at depth {view.depth}"
    return (f"{view.system}{where}: mean flip probability <b>{view.current_mean:.3f}</b> "
            f"(ideal {view.ideal:g}) · (input, output) pairs that never flipped: <b>{view.never_flipped}</b> of "
            f"{view.heat.size} · full diffusion: <b>{'yes' if view.full_diffusion else 'no'}</b>")


@explorer_factory
def diffusion_explorer() -> Explorer:
    """Sliders for system, depth, width and weight scale redrawing the avalanche curve and heat map in place."""
    controls = {
        "system": widgets.Dropdown(options=[(label, key) for key, label in SYSTEMS.items()], value="cipher",
                                   description="heat map"),
        "depth": widgets.IntSlider(value=3, min=0, max=diffusion.MAX_DEPTH, step=1, description="rounds/layers"),
        "width": widgets.SelectionSlider(options=list(WIDTHS), value=diffusion.DEFAULT_BLOCK_BITS,
                                         description="bits/width"),
        "gain": widgets.SelectionSlider(options=list(GAINS), value=diffusion.DEFAULT_GAIN, description="net gain"),
    }
    scene = Scene(layout=plot.LAYOUT, view=view, draw=plot.draw, update=plot.update, readout=readout)
    return Explorer(controls, scene, title="Diffusion explorer: toy cipher, random network, SHA-256", main="depth")


EXPLORER = diffusion_explorer
"""This segment's explorer, as the tests, the benchmark and the grader's warm-up call it."""
