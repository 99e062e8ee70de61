"""Figures that live outside pyplot, and fast PNG rendering of them.

Explorer figures are redrawn on every slider event, so ``render_png`` draws
incrementally: it finds the artists that ``update`` actually changed and
redraws only the part of the canvas they cover (old and new position), over a
cached background, in the order a full draw would use. The result is the same
image, pixel for pixel, as a full draw (``tests/test_redraw.py`` checks every
explorer); anything the renderer cannot prove safe gets a full draw.

How a frame is drawn (``IncrementalRenderer.render``):

1. *Structure key*: figure size, and per Axes its position, scales and list of
   children. Any difference from the last frame: full draw.
2. *What changed*: artists whose ``stale`` flag ``update`` set (matplotlib
   setters set it), confirmed by comparing the artist's attributes with a
   snapshot taken after the last draw (``set_data`` with the same data is no
   change). The unit of redrawing is a direct child of an Axes ("unit"): a
   change deep inside a legend or an axis redraws that legend or axis. When an
   Axes' limits move, its units placed in data coordinates in that direction
   change too (an x-axis stays put when only the y limits move).
3. *Background*: a copy of the canvas drawn with, per Axes, every unit from the
   first changed one onwards hidden (the "cut"). Valid while nothing before the
   cut changes; recaptured (one full draw) when the first changed unit moves in
   the draw order. Cutting each Axes separately reorders drawing across Axes, so
   it is used only where their pixels do not overlap; otherwise one cut spans
   the figure.
4. *Damage*: where the changed units drew last time and will draw now, grown
   until every later unit that overlaps it is inside it. The background is
   restored there and those units are drawn again, in draw order.

Extents are measured, not estimated: ``CachingRendererAgg`` logs the pixel box
of every path, marker, image and glyph it draws, per unit. A unit that draws
beyond what was restored, over anything but background, sends the frame back to
a full draw. The same renderer caches text layouts and glyph bitmaps (text is
most of a Matplotlib redraw), again with identical pixels.

Set the environment variable ``COURSE_REDRAW=full`` to always draw in full.
"""

from __future__ import annotations

import io
import math
import os
import zlib
from dataclasses import dataclass, field

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backend_bases import FigureCanvasBase, GraphicsContextBase
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.collections import Collection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager, get_font
from matplotlib.image import AxesImage
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Annotation, Text
from matplotlib.ticker import FuncFormatter, NullLocator
from matplotlib.transforms import TransformNode

try:  # Matplotlib 3.10+: per-glyph text rendering, which the text caches need
    from matplotlib.ft2font import RenderMode
except ImportError:  # pragma: no cover - older Matplotlib draws with its own renderer, in full
    RenderMode = None

PNG_DPI = 80
"""Resolution of explorer images [dots per inch]; low enough to render in a few ms."""

PNG_COMPRESS_LEVEL = 1
"""zlib level of explorer PNGs: level 1 is ~3x faster than 6 and the files only ~5% larger."""

REDRAW_MODE_ENV = "COURSE_REDRAW"
"""Environment variable: ``full`` turns incremental redrawing off."""


def new_figure(width_in: float = 9.0, height_in: float = 3.6, ncols: int = 2) -> tuple[Figure, list]:
    """A pyplot-free figure (never auto-displayed) with ``ncols`` axes side by side."""
    figure = Figure(figsize=(width_in, height_in), dpi=PNG_DPI, layout="constrained")
    CachingCanvasAgg(figure)
    axes = figure.subplots(1, ncols)
    return figure, list(axes) if ncols > 1 else [axes]


# --------------------------------------------------------------------------------------------
# Text: the bulk of a redraw. Matplotlib lays out and rasterises every string on every draw; these
# caches keep the layouts and the glyph bitmaps, so the pixels are the same and the work is not.

_TEXT_CACHE_ENTRIES = 50_000
"""Most layouts and glyph bitmaps kept (each a few hundred bytes); the caches are emptied when full."""

_text_layouts: dict = {}
_glyph_bitmaps: dict = {}
_fonts: dict = {}
_height_metrics: dict = {}


def _caching_supported() -> bool:
    """Whether this Matplotlib draws text the way the caching renderer expects (3.10+ Agg)."""
    from matplotlib import ft2font

    return (RenderMode is not None and hasattr(RendererAgg, "_draw_text_glyphs_and_boxes")
            and hasattr(ft2font.FT2Font, "_layout")
            and hasattr(ft2font.FT2Font, "_render_glyph") and hasattr(ft2font.FT2Font, "_set_transform"))


def _font_key(prop: FontProperties) -> tuple:
    """What ``FontProperties.__hash__`` hashes: equal keys, same font and size."""
    return (tuple(prop.get_family()), prop.get_slant(), prop.get_variant(), prop.get_weight(),
            prop.get_stretch(), prop.get_size(), prop.get_file(), prop.get_math_fontfamily())


class CachingRendererAgg(RendererAgg):
    """``RendererAgg`` that reuses text layouts and glyph bitmaps between draws.

    A glyph's bitmap depends on its font, size, rotation and the sub-pixel part
    of its position only; whole-pixel offsets just move it. Drawing from the
    cache gives the same pixels as ``RendererAgg`` (``tests/test_redraw.py``).
    """

    # -- measuring and recording: while ``extent_log`` is a list, every drawing call appends
    # ``(rect, replay)``: the pixel rectangle it may touch (display coordinates, origin bottom left; the
    # clip box or the canvas when unsure, None when nothing) and what repeats it exactly, as
    # ``(function, args)``, or None where it cannot be repeated (then its unit is redrawn whole).

    extent_log: list | None = None

    def _update_methods(self):
        super()._update_methods()
        for name in ("draw_gouraud_triangles", "draw_path_collection", "draw_quad_mesh"):
            setattr(self, name, self._logging_clip_box(getattr(self._renderer, name)))
        self.draw_markers = self._draw_markers_logged
        self.draw_image = self._draw_image_logged

    def _logging_clip_box(self, method):
        def logged(gc, *args, **kwargs):
            if self.extent_log is not None:
                self.extent_log.append((self._clip_or_canvas(gc), None))
            return method(gc, *args, **kwargs)
        return logged

    @staticmethod
    def _frozen_gc(gc):
        copy = GraphicsContextBase()
        copy.copy_properties(gc)
        return copy

    def _canvas_rect(self) -> Rect:
        return (0, 0, int(self.width), int(self.height))

    def _clip(self, gc, rect: Rect | None) -> Rect | None:
        clip = gc.get_clip_rectangle()
        if clip is not None and rect is not None:
            rect = _intersect(rect, _rect_from_bbox(clip, 1, self._canvas_rect()))
        return rect

    def _clip_or_canvas(self, gc) -> Rect | None:
        return self._clip(gc, self._canvas_rect())

    def _stroke_pad(self, gc) -> float:
        # miter joins reach up to 2 line widths (Agg's miter limit 4 x half width); 2 px for antialiasing
        # and pixel snapping
        return 2.0 * gc.get_linewidth() * self.dpi / 72.0 + 2.0

    def _points_rect(self, gc, xy: np.ndarray, pad: float, grow=(0.0, 0.0, 0.0, 0.0)) -> Rect | None:
        if len(xy) == 0:
            return None
        finite = np.isfinite(xy).all(axis=1)
        if not finite.all() and not np.isnan(xy[~finite]).any(axis=1).all():
            return self._clip_or_canvas(gc)  # a point at infinity: drawn up to the clip box
        xy = xy[finite]
        if len(xy) == 0:
            return None
        (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
        rect = (math.floor(x0 + grow[0] - pad), math.floor(y0 + grow[1] - pad),
                math.ceil(x1 + grow[2] + pad) + 1, math.ceil(y1 + grow[3] + pad) + 1)
        return self._clip(gc, _intersect(rect, self._canvas_rect()))

    def draw_path(self, gc, path, transform, rgbFace=None):
        if self.extent_log is not None:
            if gc.get_sketch_params() is not None:
                self.extent_log.append((self._clip_or_canvas(gc), None))
            else:  # control points bound Bezier curves, so their box bounds the path
                rect = self._points_rect(gc, transform.transform(path.vertices), self._stroke_pad(gc))
                replay = (RendererAgg.draw_path, (self, self._frozen_gc(gc), path.deepcopy(), transform.frozen(),
                                                  rgbFace))
                self.extent_log.append((rect, replay))
        super().draw_path(gc, path, transform, rgbFace)

    def _draw_markers_logged(self, gc, marker_path, marker_trans, path, trans, rgbFace=None):
        if self.extent_log is not None:
            marker = marker_path.get_extents(marker_trans)
            rect = self._points_rect(gc, trans.transform(path.vertices), self._stroke_pad(gc) + 1.0,
                                     (marker.x0, marker.y0, marker.x1, marker.y1))
            replay = (self._renderer.draw_markers, (self._frozen_gc(gc), marker_path.deepcopy(),
                                                    marker_trans.frozen(), path.deepcopy(), trans.frozen(), rgbFace))
            self.extent_log.append((rect, replay))
        return self._renderer.draw_markers(gc, marker_path, marker_trans, path, trans, rgbFace)

    def _draw_image_logged(self, gc, x, y, im, *args, **kwargs):
        if self.extent_log is not None:
            if args or kwargs:
                self.extent_log.append((self._clip_or_canvas(gc), None))
            else:
                height, width = im.shape[:2]
                rect = (math.floor(x) - 1, math.floor(y) - 1, math.ceil(x) + width + 2, math.ceil(y) + height + 2)
                replay = (self._renderer.draw_image, (self._frozen_gc(gc), x, y, np.array(im, copy=True)))
                self.extent_log.append((self._clip(gc, _intersect(rect, self._canvas_rect())), replay))
        return self._renderer.draw_image(gc, x, y, im, *args, **kwargs)

    def draw_tex(self, gc, *args, **kwargs):
        if self.extent_log is not None:
            self.extent_log.append((self._clip_or_canvas(gc), None))
        return super().draw_tex(gc, *args, **kwargs)

    def start_filter(self):
        if self.extent_log is not None:  # filters write their result straight to the buffer
            self.extent_log.append((self._canvas_rect(), None))
        return super().start_filter()

    def replay(self, entries) -> None:
        """Repeat recorded drawing calls (``extent_log`` entries; each must be repeatable)."""
        for _rect, (function, args) in entries:
            function(*args)

    def _prepare_font(self, font_prop):
        key = _font_key(font_prop)
        font = _fonts.get(key)
        if font is None:
            font = _fonts[key] = get_font(fontManager._find_fonts_by_props(font_prop))
        font.clear()
        font.set_size(font_prop.get_size_in_points(), self.dpi)
        return font

    def _get_font_height_metrics(self, prop):
        """Ascent, descent and line gap of ``prop``'s font [px], as ``Text._get_layout`` computes them."""
        key = (_font_key(prop), self.dpi)
        metrics = _height_metrics.get(key)
        if metrics is None:
            metrics = (None, None, None)
            font = get_font(fontManager._find_fonts_by_props(prop))
            for table_name, linegap_key, ascent_key, descent_key in (
                    ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
                    ("hhea", "lineGap", "ascent", "descent")):
                table = font.get_sfnt_table(table_name)
                if table is None:
                    continue
                fontsize = prop.get_size_in_points()
                units_per_em = font.get_sfnt_table("head")["unitsPerEm"]
                scale = 1 / units_per_em * fontsize * self.dpi / 72
                metrics = (table[ascent_key] * scale, -table[descent_key] * scale, table[linegap_key] * scale)
                break
            _height_metrics[key] = metrics
        return metrics

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if ismath:
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        font = self._prepare_font(prop)
        features = mtext.get_fontfeatures() if mtext is not None and hasattr(mtext, "get_fontfeatures") else None
        language = mtext.get_language() if mtext is not None and hasattr(mtext, "get_language") else None
        flags = get_hinting_flag()
        size = prop.get_size_in_points()
        key = (font.fname, size, self.dpi, s, flags,
               tuple(features) if features is not None else None, language)
        items = _text_layouts.get(key)
        if items is None:
            items = tuple((item.ft_object, size, item.glyph_index, 0, 1, item.x, item.y)
                          for item in font._layout(s, flags=flags, features=features, language=language))
            if len(_text_layouts) >= _TEXT_CACHE_ENTRIES:
                _text_layouts.clear()
            _text_layouts[key] = items
        self._draw_text_glyphs_and_boxes(gc, x, y, angle, items, [])

    def _draw_text_glyphs_and_boxes(self, gc, x, y, angle, glyphs, boxes):
        self._draw_glyphs(gc, x, y, angle, glyphs)
        if boxes:  # mathtext rules, drawn straight to the buffer: not measured exactly
            if self.extent_log is not None:
                self.extent_log.append((self._clip_or_canvas(gc), None))
            super()._draw_text_glyphs_and_boxes(gc, x, y, angle, (), boxes)

    def _draw_glyphs(self, gc, x, y, angle, glyphs):
        cos = math.cos(math.radians(angle))
        sin = math.sin(math.radians(angle))
        load_flags = get_hinting_flag()
        antialiased = gc.get_antialiased()
        mode = RenderMode.NORMAL if antialiased else RenderMode.MONO
        matrices = {}
        frozen = None  # one copy of gc for all recorded glyphs
        for font, size, glyph_index, slant, extend, dx, dy in glyphs:  # dy is upwards
            matrix = matrices.get((slant, extend))
            if matrix is None:
                matrix = matrices[slant, extend] = (0x10000 * np.array([[cos, -sin], [sin, cos]])
                                                    @ [[extend, extend * slant], [0, 1]]).round().astype(int)
            delta_x = round(0x40 * (x + dx * cos - dy * sin))
            delta_y = round(0x40 * (self.height - y + dx * sin + dy * cos))  # FreeType's y is upwards
            key = (font.fname, size, self.dpi, glyph_index, matrix.tobytes(), delta_x & 63, delta_y & 63,
                   load_flags, antialiased)
            cached = _glyph_bitmaps.get(key)
            if cached is None:
                font.set_size(size, self.dpi)
                font._set_transform(matrix, [delta_x, delta_y])
                bitmap = font._render_glyph(glyph_index, load_flags, mode)
                buffer = np.array(bitmap.buffer, copy=True)
                if not antialiased:
                    buffer *= 0xff
                cached = (buffer, bitmap.left - (delta_x >> 6), bitmap.top - (delta_y >> 6))
                if len(_glyph_bitmaps) >= _TEXT_CACHE_ENTRIES:
                    _glyph_bitmaps.clear()
                _glyph_bitmaps[key] = cached
            buffer, left, top = cached
            left += delta_x >> 6
            top += delta_y >> 6
            # draw_text_image's y is downwards & the bitmap bottom side
            bottom = int(self.height) - top + buffer.shape[0]
            self._renderer.draw_text_image(buffer, left, bottom, 0, gc)
            rows, columns = buffer.shape[:2]
            if self.extent_log is not None and rows and columns:
                if frozen is None:
                    frozen = self._frozen_gc(gc)
                self.extent_log.append((
                    self._clip(gc, _intersect((left - 1, top - rows - 1, left + columns + 1, top + 1),
                                              self._canvas_rect())),
                    (self._renderer.draw_text_image, (buffer, left, bottom, 0, frozen))))


class CachingCanvasAgg(FigureCanvasAgg):
    """Agg canvas drawing with ``CachingRendererAgg`` where this Matplotlib supports it."""

    def get_renderer(self):
        if not _CACHING_TEXT:
            return super().get_renderer()
        width, height = self.get_width_height(physical=True)
        key = width, height, self.figure.dpi
        if self._lastKey != key or not isinstance(getattr(self, "renderer", None), CachingRendererAgg):
            self.renderer = CachingRendererAgg(width, height, self.figure.dpi)
            self._lastKey = key
        return self.renderer


_CACHING_TEXT = _caching_supported()


def render_png(figure: Figure, *, full: bool = False) -> bytes:
    """Draw ``figure`` with Agg and return PNG bytes.

    The first call lays the figure out (constrained layout) and then freezes
    that layout, so later redraws skip the layout solver. Later calls redraw
    only what changed since the previous call (see the module docstring);
    ``full=True`` forces a full draw.
    """
    renderer = renderer_for(figure)
    try:
        return renderer.render(full=full)
    except Exception:  # noqa: BLE001 - a drawing shortcut must never break an explorer
        if not renderer.enabled:
            raise
        renderer.enabled = False  # fall back to plain full draws for this figure from now on
        return renderer.render(full=True)


def use_caching_canvas(figure: Figure) -> Figure:
    """Give ``figure`` a ``CachingCanvasAgg`` unless it already has an Agg canvas of its own kind."""
    if type(figure.canvas) in (FigureCanvasAgg, FigureCanvasBase):
        CachingCanvasAgg(figure)
    return figure


def renderer_for(figure: Figure) -> IncrementalRenderer:
    """The incremental renderer attached to ``figure`` (created on first use)."""
    renderer = figure.__dict__.get("_course_renderer")
    if renderer is None:
        renderer = IncrementalRenderer(figure)
        figure._course_renderer = renderer
    return renderer


def encode_png(rgba: np.ndarray, compress_level: int = PNG_COMPRESS_LEVEL) -> bytes:
    """PNG bytes of an (height, width, 4) uint8 RGBA array, no row filter, zlib ``compress_level``.

    Written out by hand because Pillow's encoder at the same level takes about
    as long plus its copy; either is lossless.
    """
    height, width, _ = rgba.shape
    rows = np.empty((height, 1 + width * 4), dtype=np.uint8)
    rows[:, 0] = 0  # filter type "None" on every row
    rows[:, 1:] = rgba.reshape(height, width * 4)
    compressor = zlib.compressobj(compress_level)
    data = compressor.compress(rows.data) + compressor.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (len(payload).to_bytes(4, "big") + kind + payload
                + zlib.crc32(kind + payload).to_bytes(4, "big"))

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 6, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def plain_log_axes(ax) -> None:
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


def _plain_number(value: float, _position) -> str:
    return f"{value:g}"


# --------------------------------------------------------------------------------------------
# Attribute snapshots: did an artist really change?
#
# A snapshot maps each attribute of an artist to an "entry": immutable values as they are, arrays
# copied, containers entry by entry, small matplotlib helper objects (markers, tickers, norms)
# attribute by attribute to a limited depth, and anything else by identity. Comparing an artist
# with its snapshot stops at the first difference.

# Derived caches that drawing rewrites; the attributes they are computed from are compared instead.
_CACHE_ATTRIBUTES = frozenset({"_stale", "stale_callback", "_remove_method", "_callbacks", "callbacks",
                               "_renderer", "_mouseover"})
_CACHE_ATTRIBUTES_BY_TYPE = (
    (Line2D, frozenset({"_x", "_y", "_xy", "_path", "_transformed_path", "_subslice", "_x_filled",
                        "_invalidx", "_invalidy"})),
    (AxesImage, frozenset({"_imcache", "_rgbacache", "_oldxslice", "_oldyslice"})),
)
_OWNED_ARTISTS = frozenset({"_bbox_patch", "arrow_patch"})
"""Attributes holding artists that their owner draws but does not list among its children."""
_IMMUTABLE = (str, bytes, bool, int, float, complex, type(None))
_MAX_DEPTH = 2
_ARRAY, _MASKED, _SEQUENCE, _MAPPING, _FONT, _OBJECT, _IDENTITY, _OPAQUE = range(8)


def _entry(value, depth: int = 0):
    """What is kept of ``value`` to tell later whether it changed (see above)."""
    if isinstance(value, _IMMUTABLE):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return (_OPAQUE,)
        if isinstance(value, np.ma.MaskedArray):
            return (_MASKED, value.data.copy(), np.ma.getmaskarray(value).copy())
        return (_ARRAY, value.copy())
    if isinstance(value, np.generic):
        return value.item() if value.dtype != object else (_OPAQUE,)
    if isinstance(value, (Artist, Figure, TransformNode)) or depth >= _MAX_DEPTH:
        return (_IDENTITY, value)
    if isinstance(value, (list, tuple)):
        return (_SEQUENCE, type(value), [_entry(item, depth + 1) for item in value])
    if isinstance(value, dict):
        try:
            return (_MAPPING, {key: _entry(item, depth + 1) for key, item in value.items()})
        except RuntimeError:  # changed size while copying
            return (_OPAQUE,)
    if isinstance(value, FontProperties):
        return (_FONT, hash(value))
    if _is_value_object(value):
        return (_OBJECT, value, _entries(value.__dict__, depth + 1))
    return (_IDENTITY, value)


def _is_value_object(value) -> bool:
    """Small matplotlib helper objects (markers, paths, tickers, scales, norms) compared by attributes."""
    module = type(value).__module__ or ""
    return module.startswith("matplotlib.") and hasattr(value, "__dict__") and not callable(value)


def _entries(attributes: dict, depth: int = 0, skip: frozenset = _CACHE_ATTRIBUTES) -> dict:
    entries = {}
    for key, value in list(attributes.items()):
        if key in skip:
            continue
        if key in _OWNED_ARTISTS and isinstance(value, Artist) and depth < _MAX_DEPTH:
            entries[key] = (_OBJECT, value, _entries(value.__dict__, depth + 1))
        else:
            entries[key] = _entry(value, depth)
    return entries


def _matches(entry, value) -> bool:
    """Whether ``value`` is what ``entry`` recorded."""
    if type(entry) is not tuple:  # an immutable value
        if value is entry:
            return True
        if type(value) is not type(entry):
            return False
        return value == entry or (isinstance(value, float) and math.isnan(value) and math.isnan(entry))
    kind = entry[0]
    if kind == _IDENTITY:
        return value is entry[1]
    if kind == _ARRAY:
        old = entry[1]
        return (type(value) is type(old) and value.shape == old.shape and value.dtype == old.dtype
                and value.tobytes() == old.tobytes())
    if kind == _SEQUENCE:
        return (type(value) is entry[1] and len(value) == len(entry[2])
                and all(_matches(e, v) for e, v in zip(entry[2], value)))
    if kind == _MAPPING:
        return (isinstance(value, dict) and value.keys() == entry[1].keys()
                and all(_matches(e, value[k]) for k, e in entry[1].items()))
    if kind == _FONT:
        return isinstance(value, FontProperties) and hash(value) == entry[1]
    if kind == _OBJECT:
        return ((value is entry[1] or type(value) is type(entry[1]))
                and _entries_match(entry[2], value.__dict__))
    if kind == _MASKED:
        return (isinstance(value, np.ma.MaskedArray) and value.shape == entry[1].shape
                and value.data.tobytes() == entry[1].tobytes()
                and np.ma.getmaskarray(value).tobytes() == entry[2].tobytes())
    return False  # _OPAQUE


def _entries_match(entries: dict, attributes: dict, skip: frozenset = _CACHE_ATTRIBUTES) -> bool:
    seen = 0
    for key, value in attributes.items():
        if key in skip:
            continue
        entry = entries.get(key, _entries_match)  # a sentinel no value matches
        if entry is _entries_match or not _matches(entry, value):
            return False
        seen += 1
    return seen == len(entries)


def _skipped(artist: Artist) -> frozenset:
    skip = _CACHE_ATTRIBUTES
    for kind, extra in _CACHE_ATTRIBUTES_BY_TYPE:
        if isinstance(artist, kind):
            skip = skip | extra
    return skip


def _artist_snapshot(artist: Artist) -> dict:
    return _entries(artist.__dict__, skip=_skipped(artist))


def _artist_changed(artist: Artist, snapshot: dict | None) -> bool:
    if snapshot is None:
        return True
    try:
        return not _entries_match(snapshot, artist.__dict__, _skipped(artist))
    except Exception:  # noqa: BLE001 - a value that cannot be compared counts as changed
        return True


def _children(artist: Artist) -> list:
    if isinstance(artist, Axis):  # Axis.get_children() runs the tick locator and may add ticks
        ticks = artist.__dict__
        return [artist.label, artist.offsetText, *ticks.get("majorTicks", ()), *ticks.get("minorTicks", ())]
    return artist.get_children()


def _walk(artist: Artist):
    """``artist`` and all its descendants."""
    stack = [artist]
    while stack:
        item = stack.pop()
        yield item
        stack.extend(_children(item))


# --------------------------------------------------------------------------------------------
# Extents: where on the canvas a unit can put pixels.

Rect = tuple[int, int, int, int]
"""Integer pixel rectangle (x0, y0, x1, y1) in display coordinates (origin bottom left), x1/y1 exclusive."""

_PAD_PX = 3
"""Extra margin around every extent [px]: antialiasing, joins, rounding."""


def _rect_from_bbox(bbox, pad: float, canvas: Rect) -> Rect | None:
    x0, y0, x1, y1 = bbox.extents
    if not all(map(math.isfinite, (x0, y0, x1, y1))):
        return canvas
    x0, x1 = sorted((x0, x1))
    y0, y1 = sorted((y0, y1))
    rect = (math.floor(x0 - pad), math.floor(y0 - pad), math.ceil(x1 + pad) + 1, math.ceil(y1 + pad) + 1)
    return _intersect(rect, canvas)


def _intersect(a: Rect | None, b: Rect | None) -> Rect | None:
    if a is None or b is None:
        return None
    rect = (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    return rect if rect[0] < rect[2] and rect[1] < rect[3] else None


def _overlaps(a: Rect | None, rects) -> bool:
    return a is not None and any(_intersect(a, r) is not None for r in rects)


def _union(a: Rect | None, b: Rect | None) -> Rect | None:
    if a is None:
        return b
    if b is None:
        return a
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _points_px(points: float, dpi: float) -> float:
    return points * dpi / 72.0


def _unit_extent(unit: Artist, renderer, canvas: Rect) -> Rect | None:
    """A rectangle holding every pixel ``unit`` draws, or None if it draws none; ``canvas`` when unsure."""
    if not unit.get_visible():
        return None
    if unit.get_path_effects() or unit.get_agg_filter() is not None or unit.get_sketch_params() is not None:
        return canvas
    dpi = unit.get_figure(root=True).dpi
    try:
        clip = unit.get_clip_box() if unit.get_clip_on() else None
        if isinstance(unit, Axis):
            # grid lines inside the Axes, tick marks beside it, labels where get_tightbbox says
            ticks = [t for t in (*unit.__dict__.get("majorTicks", ()), *unit.__dict__.get("minorTicks", ()))]
            reach = _PAD_PX + _points_px(max([t._size + t._width for t in ticks] + [0.0]), dpi)
            low = reach if any(t.tick1line.get_visible() for t in ticks) else _PAD_PX
            high = reach if any(t.tick2line.get_visible() for t in ticks) else _PAD_PX
            x0, y0, x1, y1 = unit.axes.bbox.extents
            if unit.axis_name == "x":
                rect = (math.floor(x0 - _PAD_PX), math.floor(y0 - low), math.ceil(x1 + _PAD_PX) + 1,
                        math.ceil(y1 + high) + 1)
            else:
                rect = (math.floor(x0 - low), math.floor(y0 - _PAD_PX), math.ceil(x1 + high) + 1,
                        math.ceil(y1 + _PAD_PX) + 1)
            tight = unit.get_tightbbox(renderer)
            if tight is not None:
                rect = _union(rect, _rect_from_bbox(tight, _PAD_PX, canvas))
            return _intersect(rect, canvas)
        if isinstance(unit, Legend):
            if unit.shadow:
                return canvas
            rect = _union(_rect_from_bbox(unit.get_window_extent(renderer), _PAD_PX, canvas),
                          _rect_from_bbox(unit.legendPatch.get_window_extent(renderer), _PAD_PX, canvas))
            return _rect_from_bbox_rect(rect, _points_px(unit.legendPatch.get_linewidth(), dpi) + _PAD_PX, canvas)
        if isinstance(unit, Text):
            if not unit.get_text() and not isinstance(unit, Annotation):
                return None
            pad = _PAD_PX
            if unit.get_bbox_patch() is not None:
                pad += _points_px(2.0 * unit.get_fontsize(), dpi)
            bbox = unit.get_window_extent(renderer)
            rect = _rect_from_bbox(bbox, pad, canvas)
        elif isinstance(unit, Line2D):
            xy = unit.get_transform().transform(unit.get_xydata())
            data_nan = np.isnan(np.asarray(unit.get_xydata(), dtype=float)).any(axis=1)
            finite = np.isfinite(xy).all(axis=1)
            if np.any(~finite & ~data_nan):
                rect = canvas  # a point at infinity draws a segment to the edge
            elif not finite.any():
                return None
            else:
                xy = xy[finite]
                # as CachingRendererAgg measures strokes (2 line widths + 2 px), plus the marker edge
                pad = _PAD_PX + _points_px(2.0 * unit.get_linewidth() + unit.get_markeredgewidth(), dpi)
                if unit.get_marker() not in (None, "None", "none", " ", ""):
                    pad += _points_px(unit.get_markersize(), dpi) / 2
                rect = _rect_from_xy(xy, pad, canvas)
        elif isinstance(unit, Patch):
            bbox = unit.get_window_extent(renderer)
            rect = _rect_from_bbox(bbox, _PAD_PX + _points_px(2.0 * unit.get_linewidth(), dpi), canvas)
        elif isinstance(unit, (Collection, AxesImage)):
            rect = canvas  # extents of collections and images are not reliable: bounded by the clip box
        else:
            return canvas
    except Exception:  # noqa: BLE001 - any failure to measure means "anywhere"
        return canvas
    if clip is not None and rect is not None:
        rect = _intersect(rect, _rect_from_bbox(clip, _PAD_PX, canvas))
    return rect


def _rect_from_bbox_rect(rect: Rect | None, pad: float, canvas: Rect) -> Rect | None:
    if rect is None:
        return None
    pad = math.ceil(pad)
    return _intersect((rect[0] - pad, rect[1] - pad, rect[2] + pad, rect[3] + pad), canvas)


def _rect_from_xy(xy: np.ndarray, pad: float, canvas: Rect) -> Rect | None:
    x0, y0 = xy.min(axis=0)
    x1, y1 = xy.max(axis=0)
    return _intersect((math.floor(x0 - pad), math.floor(y0 - pad), math.ceil(x1 + pad) + 1,
                       math.ceil(y1 + pad) + 1), canvas)


# --------------------------------------------------------------------------------------------
# The renderer.


@dataclass
class _Group:
    """Units drawn in one stretch of the draw order: one Axes, or (global mode) the whole figure."""

    units: list
    cut: int = 0
    """Units from this position on are drawn over the background, the ones before are in it."""


@dataclass
class FrameInfo:
    """How the last frame was drawn (for tests and the benchmark)."""

    kind: str = "none"
    """'full' (plain full draw), 'capture' (full draw that saved a background), 'blit' (partial redraw),
    or 'same' (nothing changed, the previous PNG is returned)."""
    reason: str = ""
    changed: list = field(default_factory=list)
    drawn: int = 0
    damaged_px: int = 0


class IncrementalRenderer:
    """Renders one figure to PNG, redrawing only what changed since the last call."""

    def __init__(self, figure: Figure):
        self.figure = figure
        self.enabled = (os.environ.get(REDRAW_MODE_ENV, "").lower() != "full"
                        and isinstance(figure.canvas, CachingCanvasAgg) and _CACHING_TEXT)
        self.frame = FrameInfo()
        self.counts: dict[str, int] = {}
        self._png: bytes | None = None
        self._key = None
        self._axes: list[Axes] = []
        self._axes_units: list[list] = []
        self._figure_units: list = []
        self._limits: dict = {}
        self._snapshots: dict[int, dict] = {}
        self._extents: dict[int, Rect | None] = {}
        self._display: dict[int, list] = {}
        self._background: np.ndarray | None = None
        self._groups: list[_Group] = []
        self._global = False
        self._force_global = False
        self._unit_group: dict[int, int] = {}
        self._unit_pos: dict[int, int] = {}

    # -- public

    def render(self, *, full: bool = False) -> bytes:
        """PNG of the figure as it is now."""
        figure = self.figure
        if self._png is None:
            self._full_draw()
            figure.set_layout_engine("none")
            figure._course_layout_frozen = True
            return self._after_full_draw("full", "first draw")
        if full or not self.enabled:
            self._full_draw()
            return self._after_full_draw("full", "requested" if full else "incremental drawing is off")
        if self._structure_key() != self._key:
            self._full_draw()
            return self._after_full_draw("full", "layout, scales or list of artists changed")
        changed, stale = self._changed_units()
        limits = self._read_limits()
        moved = {}  # Axes -> (x limits moved, y limits moved)
        for ax in self._axes:
            old = self._limits.get(id(ax))
            if limits[id(ax)] != old:
                new = limits[id(ax)]
                moved[ax] = (old is None or new[0] != old[0], old is None or new[1] != old[1])
        self._limits = limits
        if moved:
            if self._figure_units or any(not _plain_limits(ax) for ax in moved):
                self._full_draw()
                return self._after_full_draw("full", "limits changed")
            changed = self._add_units_on_moved_axes(changed, moved)
        if not changed:
            _clear_stale(stale)
            self._set_frame("same", "nothing changed", [], 0, 0)
            return self._png
        if any(unit in self._figure_units for unit in changed):
            self._full_draw()
            return self._after_full_draw("full", "a figure-level artist changed")
        if self._background is not None:
            by_group = self._by_group(changed)
            first = {index: min(self._unit_pos[id(u)] for u in units) for index, units in by_group.items()}
            if all(self._groups[index].cut == pos for index, pos in first.items()):
                png = self._blit(by_group, stale)
                if png is not None:
                    return png
        return self._capture(changed)

    def verify(self) -> np.ndarray:
        """Pixels (row, column) where the last PNG differs from a full draw of the figure now; empty if none.

        For tests: the full draw leaves the canvas and the renderer's state as they were.
        """
        frame = decode_png(self._png)
        buffer = self._buffer()
        kept = buffer.copy()
        extents, display = dict(self._extents), dict(self._display)
        self._full_draw()
        full = buffer.copy()
        buffer[:] = kept
        self._extents, self._display = extents, display
        self._remember_all()  # a full draw rewrites ticks and stale flags; take them as the new baseline
        if frame.shape != full.shape:
            return np.argwhere(np.ones(full.shape[:2], dtype=bool))
        return np.argwhere((frame != full).any(axis=2))

    # -- structure

    def _read_limits(self) -> dict:
        return {id(ax): (tuple(ax.viewLim.intervalx), tuple(ax.viewLim.intervaly)) for ax in self._axes}

    def _add_units_on_moved_axes(self, changed: list, moved: dict) -> list:
        """Units drawn in data coordinates of an Axes whose limits moved, in the direction that moved
        (an x-axis and vertical lines stay put when only the y limits move)."""
        ids = {id(u) for u in changed}
        for units in self._axes_units:
            for unit in units:
                if id(unit) in ids:
                    continue
                for ax, (x_moved, y_moved) in moved.items():
                    uses_x, uses_y = _data_dependence(unit, ax)
                    if (uses_x and x_moved) or (uses_y and y_moved):
                        changed.append(unit)
                        ids.add(id(unit))
                        break
        return changed

    def _structure_key(self):
        figure = self.figure
        parts = [tuple(figure.bbox.bounds), figure.dpi, figure.patch.get_visible()]
        for artist in self._figure_draw_order():
            parts.append((id(artist), artist.get_zorder(), artist.get_visible()))
            if isinstance(artist, Axes):
                parts.append((
                    tuple(artist.bbox.bounds), artist.get_aspect(), artist.axison, artist._frameon,
                    artist.get_xscale(), artist.get_yscale(), id(artist.xaxis._scale), id(artist.yaxis._scale),
                    artist._rasterization_zorder,
                    tuple((id(c), c.get_zorder(), c.get_animated()) for c in artist.get_children()),
                ))
        return tuple(parts)

    def _figure_draw_order(self) -> list:
        """What ``Figure.draw`` draws after its patch, in its order."""
        children = self.figure.get_children()
        children.remove(self.figure.patch)
        return sorted((a for a in children if not a.get_animated()), key=lambda a: a.get_zorder())

    @staticmethod
    def _units_of(ax: Axes) -> list:
        """What ``Axes.draw`` draws, in its order."""
        if not ax.get_visible():
            return []
        artists = ax.get_children()
        artists.remove(ax.patch)
        if not (ax.axison and ax._frameon):
            for spine in ax.spines.values():
                artists.remove(spine)
        if not ax.axison:
            for axis in ax._axis_map.values():
                artists.remove(axis)
        artists = sorted((a for a in artists if not a.get_animated()), key=lambda a: a.zorder)
        if ax.axison and ax._frameon:
            artists = [ax.patch] + artists
        return artists

    def _read_structure(self) -> None:
        self._axes, self._axes_units, self._figure_units = [], [], []
        for artist in self._figure_draw_order():
            if isinstance(artist, Axes) and artist._rasterization_zorder is None:
                self._axes.append(artist)
                self._axes_units.append(self._units_of(artist))
            else:  # drawn as one piece: any change in it means a full draw
                self._figure_units.append(artist)

    def _all_units(self) -> list:
        return [u for units in self._axes_units for u in units] + self._figure_units

    def _plan_groups(self, changed: list, predicted: dict) -> None:
        """Cut each Axes' units before its first changed one (one group per Axes), or, where that
        could change the order in which overlapping pixels are drawn, cut the whole figure's units."""
        changed_ids = {id(u) for u in changed}

        def cut_of(units: list) -> int:
            return next((pos for pos, u in enumerate(units) if id(u) in changed_ids), len(units))

        groups = [_Group(list(units)) for units in self._axes_units]
        for group in groups:
            group.cut = cut_of(group.units)
        extents = dict(self._extents)
        for key, rect in predicted.items():
            extents[key] = _union(extents.get(key), rect)
        self._global = self._force_global or not _cuts_keep_order(groups, self._figure_units, extents)
        if self._global:
            units, by_axes = [], iter(self._axes_units)
            for artist in self._figure_draw_order():
                if isinstance(artist, Axes) and artist._rasterization_zorder is None:
                    units.extend(next(by_axes))
                else:
                    units.append(artist)
            groups = [_Group(units)]
            groups[0].cut = cut_of(units)
        self._groups = groups
        self._unit_group = {id(u): i for i, g in enumerate(groups) for u in g.units}
        self._unit_pos = {id(u): pos for g in groups for pos, u in enumerate(g.units)}

    def _by_group(self, changed: list) -> dict[int, list]:
        """Changed units per group, plus units that follow them implicitly (legends placed 'best', ...)."""
        by_group: dict[int, list] = {}
        for unit in changed:
            by_group.setdefault(self._unit_group[id(unit)], []).append(unit)
        for index, units in by_group.items():
            ids = {id(u) for u in units}
            for unit in self._groups[index].units:
                if id(unit) not in ids and _depends_on_neighbours(unit):
                    units.append(unit)
                    ids.add(id(unit))
        return by_group

    def _forbidden(self, index: int) -> list:
        """Where group ``index`` may not restore the background: other groups' units drawn after it in a
        full draw, earlier groups' units missing from the background, and figure-level artists."""
        if self._global:
            return []
        canvas = self._canvas_rect()
        rects = []
        for other_index, other in enumerate(self._groups):
            if other_index != index:
                units = other.units if other_index > index else other.units[other.cut:]
                rects.extend(self._extents.get(id(u), canvas) for u in units)
        rects.extend(self._extents.get(id(u), canvas) for u in self._figure_units)
        return [r for r in rects if r is not None]

    # -- change detection

    def _changed_units(self) -> tuple[list, list]:
        """Units (direct children of an Axes, or figure-level artists) that changed; every stale artist."""
        changed, stale = [], []
        snapshots = self._snapshots
        for unit in self._all_units() + [self.figure.patch]:
            unit_changed = False
            for artist in _walk(unit):
                if artist._stale:
                    stale.append(artist)
                    if not unit_changed and _artist_changed(artist, snapshots.get(id(artist))):
                        unit_changed = True
            if unit_changed:
                changed.append(unit)
        return changed, stale

    def _remember_all(self) -> None:
        """Clear every stale flag and snapshot every unit."""
        _clear_stale(_walk(self.figure))
        self._snapshots = {}
        for units in self._axes_units:
            self._remember(units)

    def _remember(self, units) -> None:
        for unit in units:
            # An Axis is remembered without its ticks (dozens of artists, rewritten by every draw):
            # a stale tick means a changed Axis.
            artists = (unit, unit.label, unit.offsetText) if isinstance(unit, Axis) else _walk(unit)
            for artist in artists:
                artist._stale = False
                self._snapshots[id(artist)] = _artist_snapshot(artist)

    # -- drawing

    def _canvas_rect(self) -> Rect:
        width, height = self.figure.canvas.get_width_height(physical=True)
        return (0, 0, width, height)

    def _buffer(self) -> np.ndarray:
        return np.asarray(self.figure.canvas.buffer_rgba())

    def _full_draw(self) -> None:
        """``canvas.draw()``, measuring where each unit draws."""
        self._read_structure()
        self._extents, self._display = {}, {}
        self._measured_canvas_draw(self._all_units())

    def _measured_canvas_draw(self, units: list) -> None:
        renderer = self.figure.canvas.get_renderer()
        if not isinstance(renderer, CachingRendererAgg):
            self.figure.canvas.draw()
            return
        extents, display = self._extents, self._display

        def measuring(unit, draw):
            def measured_draw(renderer, *args, **kwargs):
                log, renderer.extent_log = renderer.extent_log, []
                try:
                    return draw(renderer, *args, **kwargs)
                finally:
                    entries, renderer.extent_log = renderer.extent_log, log
                    extents[id(unit)] = _union_all(entries)
                    display[id(unit)] = entries
            return measured_draw

        patched = []
        for unit in units:
            if "draw" not in unit.__dict__:
                unit.draw = measuring(unit, unit.draw)
                patched.append(unit)
        try:
            self.figure.canvas.draw()
        finally:
            for unit in patched:
                del unit.draw

    def _draw_unit(self, unit, renderer) -> Rect | None:
        """Draw one unit by itself, recording how; where it drew."""
        log, renderer.extent_log = renderer.extent_log, []
        try:
            unit.draw(renderer)
        finally:
            entries, renderer.extent_log = renderer.extent_log, log
        self._display[id(unit)] = entries
        return _union_all(entries)

    def _after_full_draw(self, kind: str, reason: str) -> bytes:
        """After a full draw: forget the background, re-read the structure, snapshot, encode."""
        self._background = None
        self._force_global = False
        self._key = self._structure_key()
        self._limits = self._read_limits()
        self._remember_all()
        self._png = encode_png(self._buffer())
        self._set_frame(kind, reason, [], 0, 0)
        return self._png

    def _predict(self, units: list) -> dict:
        """Where changed units will draw, where that is cheap to know; the others keep their last extent
        (checked after drawing)."""
        renderer = self.figure.canvas.get_renderer()
        canvas = self._canvas_rect()
        return {id(u): _unit_extent(u, renderer, canvas) for u in units if isinstance(u, _PREDICTABLE)}

    def _capture(self, changed: list) -> bytes:
        """Full draw that saves a background cut just before the changed units of each group."""
        canvas = self.figure.canvas
        self._plan_groups(changed, self._predict(changed))
        by_group = self._by_group(changed)
        for index, group in enumerate(self._groups):  # units that follow changed ones move the cut too
            group.cut = min([group.cut] + [self._unit_pos[id(u)] for u in by_group.get(index, ())])
        hidden_patches, animated = [], []
        for group in self._groups:
            for unit in group.units[group.cut:]:
                # animated artists are left out of a draw without side effects; an Axes patch always draws
                if isinstance(unit, Patch) and isinstance(unit.axes, Axes) and unit is unit.axes.patch:
                    if unit._visible:
                        unit._visible = False
                        hidden_patches.append(unit)
                elif not unit._animated:
                    unit._animated = True
                    animated.append(unit)
        try:
            self._measured_canvas_draw([u for g in self._groups for u in g.units[:g.cut]]
                                       + ([] if self._global else self._figure_units))
        finally:
            for unit in hidden_patches:
                unit._visible = True
            for unit in animated:
                unit._animated = False
        self._background = self._buffer().copy()
        renderer = canvas.get_renderer()
        drawn = 0
        for group in self._groups:
            for unit in group.units[group.cut:]:
                self._extents[id(unit)] = self._draw_unit(unit, renderer)
                drawn += 1
        if self._structure_key() != self._key or (
                not self._global and not _cuts_keep_order(self._groups, self._figure_units, self._extents)):
            self._full_draw()  # drawing moved something, or overlaps appeared: start over cleanly
            png = self._after_full_draw("full", "capture could not keep the draw order")
            self._force_global = True
            return png
        self._remember_all()
        self._png = encode_png(self._buffer())
        self._set_frame("capture", "changed artists moved in the draw order", _flatten(by_group), drawn, 0)
        return self._png

    def _blit(self, by_group: dict[int, list], stale: list) -> bytes | None:
        """Restore the background under the damage and redraw there; None if unsafe.

        Changed units are drawn again. A unchanged unit that overlaps the damage repeats only its
        recorded drawing calls that overlap it (a legend's entries near a moved line, not the legend),
        or is drawn whole where its calls were not recorded.
        """
        canvas_rect = self._canvas_rect()
        predicted = self._predict(_flatten(by_group))
        plans = []
        for index, changed in by_group.items():
            group = self._groups[index]
            changed_ids = {id(u) for u in changed}
            allowed = {}  # changed unit -> where it may draw (restored before it draws)
            for unit in changed:
                old = self._extents.get(id(unit), canvas_rect)
                allowed[id(unit)] = _union(old, predicted.get(id(unit), old))
            damage = _rect_array(allowed.values())
            later = group.units[group.cut:]
            parts = []  # per later unit: None (changed), or (whole unit?, rects, drawn-nothing mask)
            for unit in later:
                entries = self._display.get(id(unit))
                if id(unit) in changed_ids:
                    parts.append(None)
                elif entries is not None and all(replay is not None for _rect, replay in entries):
                    rects = [rect if rect is not None else (0, 0, 0, 0) for rect, _replay in entries]
                    parts.append((False, np.array(rects, dtype=float).reshape(-1, 4),
                                  np.array([rect is not None for rect, _replay in entries], dtype=bool)))
                else:
                    extent = self._extents.get(id(unit), canvas_rect)
                    parts.append((True, np.array([extent or (0, 0, 0, 0)], dtype=float),
                                  np.array([extent is not None])))
            marks = [None if part is None else np.zeros(len(part[1]), dtype=bool) for part in parts]
            grown = True
            while grown:  # whatever touches the damage is drawn again, so it joins the damage
                grown = False
                for part, mark in zip(parts, marks):
                    if part is None:
                        continue
                    whole, rects, draws = part
                    hit = draws & ~mark & _hits(rects, damage)
                    if hit.any():
                        if whole:
                            mark[:] = True
                        else:
                            mark |= hit
                        damage = np.vstack([damage, rects[hit]])
                        grown = True
            forbidden = _rect_array(self._forbidden(index))
            if _hits(forbidden, damage).any():
                self._force_global = True  # the damage reaches another Axes: cut across Axes from now on
                return None
            # Where a changed unit may draw beyond what was restored: anywhere the last frame shows only
            # the background, i.e. away from other groups and from what is not drawn again.
            obstacles = [forbidden] + [part[1][part[2] & ~mark] for part, mark in zip(parts, marks)
                                       if part is not None]
            plans.append((later, parts, marks, damage.astype(int), allowed, np.vstack(obstacles)))
        buffer = self._buffer()
        kept = buffer.copy()
        height, width = buffer.shape[:2]
        renderer = self.figure.canvas.get_renderer()
        damaged = drawn = 0
        measured = {}
        for later, parts, marks, damage, allowed, obstacles in plans:
            for x0, y0, x1, y1 in np.unique(damage, axis=0).tolist():
                x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
                if x0 < x1 and y0 < y1:
                    buffer[height - y1:height - y0, x0:x1] = self._background[height - y1:height - y0, x0:x1]
                    damaged += (x1 - x0) * (y1 - y0)
            for unit, part, mark in zip(later, parts, marks):
                if part is None:  # changed: draw it, check it kept to restored pixels or background
                    measured[id(unit)] = extent = self._draw_unit(unit, renderer)
                    drawn += 1
                    if (extent is not None and _intersect(extent, allowed[id(unit)]) != extent
                            and _hits(np.array([extent], dtype=float), obstacles).any()):
                        buffer[:] = kept  # it drew beyond the restored area over other pixels: draw in full
                        return None
                elif mark.any():
                    drawn += 1
                    if part[0]:
                        self._draw_unit(unit, renderer)
                    else:
                        entries = self._display[id(unit)]
                        renderer.replay([entries[i] for i in np.flatnonzero(mark)])
        _clear_stale(stale)
        for later, parts, marks, *_ in plans:  # drawing may set flags (e.g. on tick labels)
            for unit, part, mark in zip(later, parts, marks):
                if part is None or (part[0] and mark.any()):
                    _clear_stale(_walk(unit))
        changed = _flatten(by_group)
        self._remember(changed)
        self._extents.update(measured)
        self._png = encode_png(buffer)
        self._set_frame("blit", "", changed, drawn, damaged)
        return self._png

    def _set_frame(self, kind: str, reason: str, changed: list, drawn: int, damaged: int) -> None:
        self.frame = FrameInfo(kind, reason, [type(u).__name__ for u in changed], drawn, damaged)
        self.counts[kind] = self.counts.get(kind, 0) + 1


_PREDICTABLE = (Line2D, Text, Patch)
"""Units whose extent is cheap to compute before drawing them."""


def _union_all(entries: list) -> Rect | None:
    """Union of the rectangles of ``extent_log`` entries."""
    result = None
    for rect, _replay in entries:
        result = _union(result, rect)
    return result


def _hits(rects: np.ndarray, damage: np.ndarray) -> np.ndarray:
    """For each rectangle (n, 4), whether it overlaps any damage rectangle (m, 4); half-open boxes."""
    if not len(rects) or not len(damage):
        return np.zeros(len(rects), dtype=bool)
    r, d = rects[:, None, :], damage[None, :, :]
    return ((r[..., 0] < d[..., 2]) & (d[..., 0] < r[..., 2]) & (r[..., 1] < d[..., 3])
            & (d[..., 1] < r[..., 3])).any(axis=1)


def _rect_array(rects) -> np.ndarray:
    return np.array([r for r in rects if r is not None], dtype=float).reshape(-1, 4)


def _cuts_keep_order(groups: list, figure_units: list, extents: dict) -> bool:
    """Whether drawing each group's later units after a background holding every group's earlier units
    (and the figure-level artists) puts overlapping pixels down in full-draw order."""
    figure_rects = [extents.get(id(u)) for u in figure_units]
    for i, group in enumerate(groups):
        later = [r for r in (extents.get(id(u)) for u in group.units[group.cut:]) if r is not None]
        if not later:
            continue
        if any(_overlaps(r, later) for r in figure_rects):
            return False
        for other in groups[i + 1:]:
            if any(_overlaps(extents.get(id(u)), later) for u in other.units[:other.cut]):
                return False
    return True


def _flatten(by_group: dict[int, list]) -> list:
    return [unit for units in by_group.values() for unit in units]


def _clear_stale(artists) -> None:
    for artist in artists:
        artist._stale = False


def _plain_limits(ax: Axes) -> bool:
    """Whether new limits leave the Axes' position and title where they are (no aspect, no locator,
    no ticks on top that would push the title)."""
    return (ax.get_aspect() == "auto" and ax.get_box_aspect() is None and ax.get_axes_locator() is None
            and ax.xaxis.get_ticks_position() not in ("top", "unknown")
            and ax.xaxis.get_label_position() != "top")


def _data_dependence(unit: Artist, ax: Axes) -> tuple[bool, bool]:
    """Whether ``unit`` is placed by ``ax``'s x and y data coordinates (so moves when its limits do)."""
    if isinstance(unit, Axis):
        if unit.axes is not ax:
            return (False, False) if not _shares(unit.axes, ax) else (True, True)
        return (unit.axis_name == "x", unit.axis_name == "y")
    if isinstance(unit, Legend):
        return (False, False)  # placed in Axes coordinates; one placed 'best' follows its neighbours anyway
    if isinstance(unit, Annotation) or not isinstance(unit, (Line2D, Text, Patch, Collection, AxesImage)):
        return (True, True)  # annotations place themselves by their own coordinates; others: unknown
    try:
        transforms = [unit.get_transform()]
        if isinstance(unit, Collection):
            transforms.append(unit.get_offset_transform())
        uses_x = uses_y = False
        for transform in transforms:
            if transform is None:
                continue
            x, y = transform.contains_branch_seperately(ax.transData)
            uses_x, uses_y = uses_x or x, uses_y or y
        return uses_x, uses_y
    except Exception:  # noqa: BLE001 - when unsure, it does
        return True, True


def _shares(a: Axes, b: Axes) -> bool:
    return a._shared_axes["x"].joined(a, b) or a._shared_axes["y"].joined(a, b)


def _depends_on_neighbours(unit: Artist) -> bool:
    """Whether ``unit`` can look different when other artists change (a legend placed 'best', ...)."""
    if isinstance(unit, Legend):
        return unit._loc in (0, "best")
    if isinstance(unit, Annotation):
        return not all(isinstance(c, str) for c in (unit.xycoords, unit.anncoords))
    return False


def decode_png(data: bytes) -> np.ndarray:
    """RGBA array of PNG bytes (Pillow)."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))
