"""Segment 7 plots: the avalanche curve against depth, and the bit-flip heat map."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes

COLORS = {"cipher": "#1f77b4", "network": "#ff7f0e", "sha256": "#2ca02c", "ideal": "black", "marker": "#d62728"}
HEAT_COLORMAP = "viridis"


@dataclass(frozen=True)
class DiffusionView:
    """What the segment 7 figure shows for one setting of the controls.

    Attributes:
        depths: rounds (cipher) or layers (network) of the curves, 0 to the deepest [rounds or layers].
        cipher_mean, network_mean: mean flip probability at each depth [probability].
        sha256_ratio: SHA-256's measured mean flip probability [probability].
        ideal: the Strict Avalanche Criterion's 1/2 [probability]; tolerance: the band around it that counts as
            full diffusion [probability].
        system: label of the system in the heat map; depth: the selected depth; current_mean: the selected
            system's mean flip probability there [probability].
        heat: its avalanche matrix, shape (input bits, output bits) [probability].
    """

    depths: np.ndarray
    cipher_mean: np.ndarray
    network_mean: np.ndarray
    sha256_ratio: float
    ideal: float
    tolerance: float
    system: str
    depth: int
    current_mean: float
    heat: np.ndarray


@dataclass
class DiffusionArtists:
    """The artists of the segment 7 figure, kept to be updated in place."""

    cipher_line: object
    network_line: object
    sha256_line: object
    depth_line: object
    marker: object
    heat_image: object
    curve_ax: Axes
    heat_ax: Axes


def draw_diffusion(curve_ax: Axes, heat_ax: Axes, view: DiffusionView) -> DiffusionArtists:
    """Draw the avalanche curves and the heat map; return the artists."""
    curve_ax.set(xlabel="rounds (cipher) / layers (network)", ylabel="mean flip probability",
                 title="Avalanche curve", ylim=(0.0, 0.6))
    curve_ax.axhspan(view.ideal - view.tolerance, view.ideal + view.tolerance, color="0.85",
                     label=f"1/2 ± {view.tolerance:g} (full diffusion band)")
    curve_ax.axhline(view.ideal, color=COLORS["ideal"], lw=0.8)
    (cipher_line,) = curve_ax.plot([], [], "-o", ms=3, color=COLORS["cipher"], label="toy ARX cipher")
    (network_line,) = curve_ax.plot([], [], "-s", ms=3, color=COLORS["network"], label="random tanh network")
    sha256_line = curve_ax.axhline(view.sha256_ratio, color=COLORS["sha256"], ls="--", lw=1.2,
                                   label="SHA-256 (measured)")
    depth_line = curve_ax.axvline(0.0, color="gray", ls=":")
    (marker,) = curve_ax.plot([], [], "o", ms=9, mfc="none", mew=2, color=COLORS["marker"], label="heat map shows")
    curve_ax.legend(loc="lower right", fontsize=7)
    curve_ax.grid(True, alpha=0.3)

    heat_image = heat_ax.imshow(view.heat, vmin=0.0, vmax=1.0, cmap=HEAT_COLORMAP, interpolation="nearest",
                                aspect="auto")
    heat_ax.set(xlabel="output bit", ylabel="flipped input bit")
    heat_ax.figure.colorbar(heat_image, ax=heat_ax, label="P(output bit flips)")
    artists = DiffusionArtists(cipher_line, network_line, sha256_line, depth_line, marker, heat_image,
                               curve_ax, heat_ax)
    update_diffusion(artists, view)
    return artists


def update_diffusion(artists: DiffusionArtists, view: DiffusionView) -> None:
    """Move the artists to a new view in place (one AxesImage, new data via set_data)."""
    artists.cipher_line.set_data(view.depths, view.cipher_mean)
    artists.network_line.set_data(view.depths, view.network_mean)
    artists.sha256_line.set_ydata([view.sha256_ratio] * 2)
    artists.depth_line.set_xdata([view.depth] * 2)
    artists.marker.set_data([view.depth], [view.current_mean])
    artists.curve_ax.set_xlim(view.depths.min() - 0.5, view.depths.max() + 0.5)

    n_in, n_out = view.heat.shape
    artists.heat_image.set_data(view.heat)
    artists.heat_image.set_extent((-0.5, n_out - 0.5, n_in - 0.5, -0.5))
    artists.heat_ax.set_xlim(-0.5, n_out - 0.5)
    artists.heat_ax.set_ylim(n_in - 0.5, -0.5)
    artists.heat_ax.set_title(f"{view.system}: mean {view.current_mean:.3f}", fontsize=10)
