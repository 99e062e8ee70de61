"""Small drawing helpers every segment's plot uses, on matplotlib's public API only.

- ``FigureLayout``: an explorer figure's size and fixed margins. No layout engine runs, so every
  full draw of the same view places the axes alike and costs no layout solve.
- ``plain_log_axes``, ``nice_ceiling``, ``log_limits``: axes whose limits move in steps, so that
  a slider moves the curves, not the axes (an explorer redraws its background only when they move).
- ``PngEncoder`` / ``encode_png`` / ``decode_png``: the explorer image, PNG at zlib level 1; the encoder
  recompresses only the row bands that changed since its last frame.
- ``PlotArtists``: what a plot's ``draw`` returns: its artists, naming the ones that move.
"""

from __future__ import annotations

import io
import math
import zlib
from dataclasses import dataclass

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullLocator

PNG_DPI = 80
"""Resolution of explorer images [dots per inch]; low enough to draw in a few ms."""

PNG_COMPRESS_LEVEL = 1
"""zlib level of explorer PNGs: level 1 is ~3x faster than 6 and the files only ~5% larger."""

CURVE_ZORDER = 3
"""Moving curves and markers draw above the spines (zorder 2.5), as a blitted frame draws them."""


@dataclass(frozen=True)
class FigureLayout:
    """Size and fixed margins of a figure of ``ncols`` axes side by side.

    Attributes:
        width_in, height_in: figure size [inches].
        left_in, right_in, bottom_in, top_in: margins around the axes grid [inches].
        gap_in: horizontal gap between neighbouring axes [inches].
        ncols: axes side by side [count].
        width_ratios: relative axes widths, or None for equal widths.
    """

    width_in: float = 9.0
    height_in: float = 3.6
    left_in: float = 0.75
    right_in: float = 0.15
    bottom_in: float = 0.55
    top_in: float = 0.35
    gap_in: float = 0.85
    ncols: int = 2
    width_ratios: tuple[float, ...] | None = None

    def new(self) -> tuple[Figure, list[Axes]]:
        """A pyplot-free figure (never auto-displayed) on a plain Agg canvas, and its axes."""
        figure = Figure(figsize=(self.width_in, self.height_in), dpi=PNG_DPI)
        FigureCanvasAgg(figure)
        inner_width = self.width_in - self.left_in - self.right_in
        mean_axes_width = (inner_width - self.gap_in * (self.ncols - 1)) / self.ncols
        if mean_axes_width <= 0 or self.height_in <= self.bottom_in + self.top_in:
            raise ValueError(f"margins {self} leave no room for the axes")
        figure.subplots_adjust(left=self.left_in / self.width_in, right=1 - self.right_in / self.width_in,
                               bottom=self.bottom_in / self.height_in, top=1 - self.top_in / self.height_in,
                               wspace=self.gap_in / mean_axes_width)
        axes = figure.subplots(1, self.ncols, squeeze=False,
                               width_ratios=list(self.width_ratios) if self.width_ratios else None)
        return figure, list(axes[0])


class PlotArtists:
    """Base of a plot's artists: names which artists move on a slider event.

    ``moving()`` are redrawn on every event over a saved background; ``labels()`` (optional) are
    redrawn only when the view's ``label_key`` changes (titles, tick-like labels). Everything else
    is the background, redrawn only when the view's ``layout_key`` changes.
    """

    def moving(self) -> tuple[Artist, ...]:
        """Artists redrawn on every event."""
        raise NotImplementedError

    def labels(self) -> tuple[Artist, ...]:
        """Artists redrawn when ``view.label_key`` changes; none by default."""
        return ()


def plain_log_axes(ax: Axes) -> None:
    """Log-log axes with plain-number tick labels and no minor ticks (mathtext labels are slow to draw)."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_minor_locator(NullLocator())
        axis.set_major_formatter(FuncFormatter(_plain_number))


def nice_ceiling(value: float, steps: tuple[float, ...]) -> float:
    """The smallest ``step x 10^k`` at or above ``value`` (steps (1, 3): 310 -> 1000); 1 for non-positive values.

    An axis topped this way moves only when the data crosses a step, not on every slider event.
    """
    if not (value > 0 and math.isfinite(value)):
        return 1.0
    exponent = math.floor(math.log10(value))
    for power in (exponent - 1, exponent, exponent + 1):
        for step in steps:
            candidate = step * 10.0 ** power
            if candidate >= value:
                return candidate
    return 10.0 ** (exponent + 1)


def log_limits(*values, pad: float = 1.5) -> tuple[float, float]:
    """Whole decades holding every finite positive value, padded by ``pad`` either side [same unit as values].

    Limits snapped to powers of ten move only when the data cross a decade.
    """
    data = np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in values])
    data = data[np.isfinite(data) & (data > 0)]
    if data.size == 0:
        return 1.0, 10.0
    low = 10.0 ** math.floor(math.log10(data.min() / pad))
    high = 10.0 ** math.ceil(math.log10(data.max() * pad))
    return float(low), float(high)


def _plain_number(value: float, _position) -> str:
    return f"{value:g}"


PNG_BAND_ROWS = 16
"""Image rows compressed together by ``PngEncoder``: a band whose pixels did not change since the last frame
reuses its compressed bytes [rows]."""


class PngEncoder:
    """PNG encoder for a stream of frames of one size that recompresses only the row bands that changed.

    Each band of ``band_rows`` rows is deflated on its own and ends on a byte boundary (a sync flush), so the
    bands' raw deflate blocks concatenate into one valid zlib stream (as pigz does). A blitted frame changes
    only the rows its moving artists cross, so most bands reuse the previous frame's bytes: about half the
    compression time of the whole image, for PNGs ~5% larger.

    Args:
        compress_level: zlib level [0-9].
        band_rows: rows per band [rows].
    """

    def __init__(self, compress_level: int = PNG_COMPRESS_LEVEL, band_rows: int = PNG_BAND_ROWS):
        if band_rows < 1:
            raise ValueError(f"band_rows must be at least 1, got {band_rows}")
        self.compress_level = compress_level
        self.band_rows = band_rows
        self._bands: dict[tuple, tuple[bytes, bytes]] = {}  # (shape, first row) -> (raw rows, deflated)

    def encode(self, rgba: np.ndarray) -> bytes:
        """PNG bytes of an (height, width, 4) uint8 RGBA array, no row filter.

        An opaque image (every alpha 255, as a figure on a white face) is written as RGB: a quarter fewer bytes
        to compress. Written out by hand because Pillow's encoder at the same level takes about as long plus its
        copy, and cannot reuse unchanged bands.
        """
        height, width, _ = rgba.shape
        opaque = bool(rgba[..., 3].min() == 255)
        channels = 3 if opaque else 4
        rows = np.empty((height, 1 + width * channels), dtype=np.uint8)
        rows[:, 0] = 0  # filter type "None" on every row
        pixels = rows[:, 1:].reshape(height, width, channels)
        for channel in range(channels):  # one plane at a time: ~5x faster than copying 3-byte pixels at once
            pixels[..., channel] = rgba[..., channel]
        shape = rows.shape
        parts = []
        bands = {}
        for first in range(0, height, self.band_rows):
            raw = rows[first:first + self.band_rows].tobytes()
            cached = self._bands.get((shape, first))
            if cached is None or cached[0] != raw:
                compressor = zlib.compressobj(self.compress_level, zlib.DEFLATED, -zlib.MAX_WBITS)
                cached = (raw, compressor.compress(raw) + compressor.flush(zlib.Z_SYNC_FLUSH))
            bands[(shape, first)] = cached
            parts.append(cached[1])
        self._bands = bands
        # zlib header (deflate, 32 KiB window), the bands, an empty final block, the Adler-32 of the raw rows
        data = b"\x78\x01" + b"".join(parts) + b"\x03\x00" + zlib.adler32(rows).to_bytes(4, "big")

        def chunk(kind: bytes, payload: bytes) -> bytes:
            return (len(payload).to_bytes(4, "big") + kind + payload
                    + zlib.crc32(kind + payload).to_bytes(4, "big"))

        colour_type = 2 if opaque else 6  # truecolour, or truecolour with alpha
        header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, colour_type, 0, 0, 0])
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def encode_png(rgba: np.ndarray, compress_level: int = PNG_COMPRESS_LEVEL) -> bytes:
    """PNG bytes of an (height, width, 4) uint8 RGBA array at zlib ``compress_level`` (one frame of ``PngEncoder``)."""
    return PngEncoder(compress_level).encode(rgba)


def decode_png(data: bytes) -> np.ndarray:
    """RGBA array of PNG bytes (Pillow)."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))
