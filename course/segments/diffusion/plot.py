"""Segment 7 plot: the avalanche curve against depth, and the bit-flip heat map.

The heat map fills its axes whatever its size (16 to 256 bits a side), so changing the width moves no
axis; its title says the matrix' size.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D

from course.plots.common import CURVE_ZORDER, FigureLayout, PlotArtists
from course.segments.diffusion.view import DiffusionView

COLORS = {"cipher": "#1f77b4", "network": "#ff7f0e", "sha256": "#2ca02c", "ideal": "black", "marker": "#d62728",
          "depth": "gray"}
HEAT_COLORMAP = "viridis"

LAYOUT = FigureLayout(width_in=10.0, height_in=4.1, bottom_in=0.95, top_in=0.3, right_in=0.8, gap_in=0.9,
                      width_ratios=(1.25, 1.0))
"""Curve panel and heat map, with room below for the shared legend."""



@dataclass
class DiffusionArtists(PlotArtists):
    """The artists of the segment 7 figure, kept to be moved in place."""

    cipher_line: Line2D
    network_line: Line2D
    depth_line: Line2D
    marker: Line2D
    heat_image: AxesImage
    curve_ax: Axes
    heat_ax: Axes

    def moving(self) -> tuple[Artist, ...]:
        return (self.cipher_line, self.network_line, self.depth_line, self.marker, self.heat_image)

    def labels(self) -> tuple[Artist, ...]:
        return (self.heat_ax.title,)


def draw(axes: list[Axes], view: DiffusionView) -> DiffusionArtists:
    """Draw the avalanche curves and the heat map; return the artists."""
    curve_ax, heat_ax = axes
    curve_ax.set(xlabel="rounds (cipher) / layers (network)", ylabel="mean flip probability",
                 title="Avalanche curve", ylim=(0.0, 0.6),
                 xlim=(float(view.depths.min()) - 0.5, float(view.depths.max()) + 0.5))
    curve_ax.set_axisbelow(True)
    curve_ax.grid(True, alpha=0.3)
    band = curve_ax.axhspan(view.ideal - view.tolerance, view.ideal + view.tolerance, color="0.85",
                            label=f"1/2 ± {view.tolerance:g} (full diffusion)")
    curve_ax.axhline(view.ideal, color=COLORS["ideal"], lw=0.8)
    sha256_line = curve_ax.axhline(view.sha256_ratio, color=COLORS["sha256"], ls="--", lw=1.2,
                                   label="SHA-256 (measured)")
    line = dict(zorder=CURVE_ZORDER)
    (cipher_line,) = curve_ax.plot([], [], "-o", ms=3, color=COLORS["cipher"], label="toy ARX cipher", **line)
    (network_line,) = curve_ax.plot([], [], "-s", ms=3, color=COLORS["network"], label="random tanh network",
                                    **line)
    depth_line = curve_ax.axvline(0.0, color=COLORS["depth"], ls=":", **line)
    (marker,) = curve_ax.plot([], [], "o", ms=9, mfc="none", mew=2, color=COLORS["marker"], label="heat map shows",
                              **line)

    heat_image = heat_ax.imshow(view.heat, vmin=0.0, vmax=1.0, cmap=HEAT_COLORMAP, interpolation="nearest",
                                aspect="auto", extent=(0.0, 1.0, 1.0, 0.0), zorder=CURVE_ZORDER)
    heat_ax.set(xlabel="output bit →", ylabel="flipped input bit ↓", xlim=(0.0, 1.0), ylim=(1.0, 0.0),
                xticks=[], yticks=[])
    heat_ax.title.set_fontsize(10)
    heat_ax.figure.colorbar(heat_image, ax=heat_ax, label="P(output bit flips)", fraction=0.08, pad=0.03)
    handles = [cipher_line, network_line, sha256_line, band, marker]
    curve_ax.figure.legend(handles=handles, loc="lower center", ncols=len(handles), fontsize=8, frameon=False,
                           handlelength=1.8, columnspacing=1.2)
    artists = DiffusionArtists(cipher_line, network_line, depth_line, marker, heat_image, curve_ax, heat_ax)
    update(artists, view)
    return artists


def update(artists: DiffusionArtists, view: DiffusionView) -> None:
    """Move the curves, the depth marker and the heat map to ``view``."""
    artists.cipher_line.set_data(view.depths, view.cipher_mean)
    artists.network_line.set_data(view.depths, view.network_mean)
    artists.depth_line.set_xdata([view.depth] * 2)
    artists.marker.set_data([view.depth], [view.current_mean])
    artists.heat_image.set_data(view.heat)
    artists.heat_ax.set_title(view.heat_title, fontsize=10)
