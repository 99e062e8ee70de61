"""Segment 7 explorer: depth, width and weight scale against the avalanche curve and heat map."""

from __future__ import annotations

from functools import lru_cache

import ipywidgets as widgets
import numpy as np

from course.models import diffusion
from course.segments.diffusion.plot import DiffusionView, draw_diffusion, update_diffusion
from course.plots.figure import new_figure
from course.widgets.base import Explorer

SYSTEMS = {"cipher": "toy ARX cipher", "network": "random tanh network", "sha256": "SHA-256"}
"""Systems the heat map can show: key -> label."""

WIDTHS = diffusion.BLOCK_BITS_OPTIONS
"""Block sizes of the cipher and widths of the network offered [bits = units]."""

GAINS = (0.5, 1.0, 2.0, 4.0, 8.0)
"""Weight scales of the network offered [dimensionless]."""

SHA256_FIGURE_MESSAGES = 64
"""Messages behind the SHA-256 heat map [messages]: more than the exercise's 16, for a smoother picture."""


@lru_cache(maxsize=None)
def cipher_sweep(block_bits: int) -> np.ndarray:
    """Avalanche matrices of the toy cipher after 0 to MAX_DEPTH rounds (cached, read-only)."""
    matrices = diffusion.cipher_avalanche_by_round(diffusion.MAX_DEPTH, block_bits)
    matrices.setflags(write=False)
    return matrices


@lru_cache(maxsize=None)
def network_sweep(width: int, gain: float) -> np.ndarray:
    """Avalanche matrices of the random network after 0 to MAX_DEPTH layers (cached, read-only)."""
    matrices = diffusion.mlp_avalanche_by_layer(diffusion.MAX_DEPTH, width, gain)
    matrices.setflags(write=False)
    return matrices


@lru_cache(maxsize=None)
def sha256_matrix() -> np.ndarray:
    """SHA-256's avalanche matrix over SHA256_FIGURE_MESSAGES seeded messages (cached, read-only)."""
    matrix = diffusion.sha256_avalanche_matrix(diffusion.sample_messages(count=SHA256_FIGURE_MESSAGES))
    matrix.setflags(write=False)
    return matrix


@lru_cache(maxsize=None)
def _mean_curve(kind: str, width: int, gain: float) -> np.ndarray:
    sweep = cipher_sweep(width) if kind == "cipher" else network_sweep(width, gain)
    curve = sweep.mean(axis=(1, 2))
    curve.setflags(write=False)
    return curve


def diffusion_view(*, system: str, depth: int, width: int, gain: float) -> DiffusionView:
    """Everything the segment 7 figure shows for one setting of the controls (pure, cached sweeps).

    The curves are the cipher (block of ``width`` bits) and the network (``width`` units, weight scale
    ``gain``); the heat map is ``system``'s avalanche matrix at ``depth`` (SHA-256 ignores depth and width).
    """
    if system == "sha256":
        heat = sha256_matrix()
    elif system == "cipher":
        heat = cipher_sweep(width)[depth]
    else:
        heat = network_sweep(width, gain)[depth]
    return DiffusionView(
        depths=np.arange(diffusion.MAX_DEPTH + 1),
        cipher_mean=_mean_curve("cipher", width, 0.0),
        network_mean=_mean_curve("network", width, gain),
        sha256_ratio=float(sha256_matrix().mean()),
        ideal=diffusion.SAC_FLIP_PROBABILITY,
        tolerance=diffusion.FULL_DIFFUSION_TOLERANCE,
        system=SYSTEMS[system],
        depth=int(depth),
        current_mean=float(heat.mean()),
        heat=heat,
    )


def _readout(view: DiffusionView) -> str:
    never = diffusion.never_flipped_pairs(view.heat)
    full = "yes" if diffusion.is_full_diffusion(view.heat) else "no"
    where = "" if view.system == SYSTEMS["sha256"] else f" at depth {view.depth}"
    return (f"{view.system}{where}: mean flip probability <b>{view.current_mean:.3f}</b> "
            f"(ideal {view.ideal:g}) · (input, output) pairs that never flipped: <b>{never}</b> of "
            f"{view.heat.size} · full diffusion: <b>{full}</b>")


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
    figure, (curve_ax, heat_ax) = new_figure(width_in=10.0, height_in=3.8)
    state = {}

    def update(values: dict) -> str:
        view = diffusion_view(**values)
        if "artists" not in state:
            state["artists"] = draw_diffusion(curve_ax, heat_ax, view)
        else:
            update_diffusion(state["artists"], view)
        return _readout(view)

    return Explorer(controls, figure, update, title="Diffusion explorer: toy cipher, random network, SHA-256")
