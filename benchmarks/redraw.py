"""Kernel-side cost of one slider event, per explorer: the explorers' incremental redraw against rebuilding.

Run: ``python benchmarks/redraw.py`` (``--help`` for options). For every explorer factory in
``course.widgets.*`` (a module-level function named ``*_explorer`` callable without arguments) it sweeps
the main slider (the first numeric slider in ``controls``, or ``--control``) through N values and times,
for each value, side by side:

* ``explorer``: setting the slider's value on a live explorer, i.e. the observer call: ``update`` +
  incremental PNG render + setting the Image and readout widgets (what a learner's slider move costs);
* ``in-place``: the same explorer code with incremental drawing off and Matplotlib's own canvas and
  PNG writer (the pre-optimisation path: artists moved in place, full draw + ``print_png``);
* ``naive``: rebuilding on every change, as ``ipywidgets.interact`` over a plotting function does: a new
  explorer (its figure, axes and artists via the same plot functions) at the new values, drawn in full
  (constrained layout included) and encoded by ``print_png``.

Events are interleaved (explorer, in-place, naive for each value) so machine load hits all three alike.
It prints one line per explorer (median ms and naive/explorer ratio) and writes the numbers to
``test-artifacts/benchmarks/redraw.json``. A script, not a test: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import io
import json
import os
import pkgutil
import statistics
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

import course.widgets  # noqa: E402
from course.plots.figure import renderer_for  # noqa: E402
from course.widgets.base import Explorer  # noqa: E402

ARTIFACT = ROOT / "test-artifacts" / "benchmarks" / "redraw.json"


def discover() -> tuple[list[tuple[str, callable]], list[str]]:
    """All explorer factories in ``course.widgets.*``, and a line for every module or function skipped."""
    found, notes = [], []
    for info in sorted(pkgutil.iter_modules(course.widgets.__path__), key=lambda i: i.name):
        name = f"course.widgets.{info.name}"
        if info.name == "base":
            continue
        try:
            module = importlib.import_module(name)
        except Exception as error:  # noqa: BLE001 - report and go on with the others
            notes.append(f"{name}: import failed: {type(error).__name__}: {error}")
            continue
        factories = [(attr, obj) for attr, obj in vars(module).items()
                     if attr.endswith("_explorer") and inspect.isfunction(obj) and obj.__module__ == name]
        if not factories:
            notes.append(f"{name}: no *_explorer function")
        for attr, factory in sorted(factories):
            required = [p for p in inspect.signature(factory).parameters.values()
                        if p.default is inspect.Parameter.empty
                        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
            if required:
                notes.append(f"{name}.{attr}: skipped, needs arguments {[p.name for p in required]}")
            else:
                found.append((f"{info.name}.{attr}", factory))
    return found, notes


def is_slider(control) -> bool:
    return all(hasattr(control, a) for a in ("min", "max", "value")) and not hasattr(control, "options")


def main_slider(explorer: Explorer, requested: str | None) -> str | None:
    if requested:
        return requested if requested in explorer.controls else None
    return next((name for name, c in explorer.controls.items() if is_slider(c)), None)


def sweep_values(control, count: int) -> list:
    """``count`` values across the slider's range on its step grid, none equal to the current value."""
    kind = type(control).__name__
    low, high = float(control.min), float(control.max)
    raw = np.linspace(low, high, count + 1)
    step = getattr(control, "step", None)
    if step:
        raw = low + np.round((raw - low) / float(step)) * float(step)
    if kind == "FloatLogSlider":
        raw = float(control.base) ** raw
    if kind in ("IntSlider", "IntLogSlider"):
        raw = np.round(raw).astype(int)
    values, seen = [], set()
    for value in raw.tolist():
        if value not in seen and value != control.value:
            seen.add(value)
            values.append(value)
    return values[:count]


class Frozen:
    """Context: constructing an Explorer draws nothing (``refresh`` is a no-op while inside)."""

    def __enter__(self):
        self._refresh = Explorer.refresh
        Explorer.refresh = lambda self: None
        return self

    def __exit__(self, *exc):
        Explorer.refresh = self._refresh


def full_png(figure) -> bytes:
    """Matplotlib's own path: full draw with a plain Agg canvas, ``print_png``."""
    if type(figure.canvas) is not FigureCanvasAgg:
        FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.canvas.print_png(buffer)
    return buffer.getvalue()


def naive_event(factory, control_name: str, values: dict) -> float:
    """Seconds to rebuild the explorer at ``values`` and render it in full, as interact would."""
    start = time.perf_counter()
    with Frozen():
        explorer = factory()
        for name, value in values.items():
            explorer.controls[name].value = value
    explorer.readout.value = explorer._update(explorer.values)
    explorer.image.value = full_png(explorer.figure)
    elapsed = time.perf_counter() - start
    explorer.close()
    return elapsed


def in_place_explorer(factory):
    """The explorer with the pre-optimisation renderer: full draws, plain canvas, print_png."""
    with Frozen():
        explorer = factory()
    FigureCanvasAgg(explorer.figure)
    renderer = renderer_for(explorer.figure)
    renderer.enabled = False
    explorer.refresh = lambda: (setattr(explorer.readout, "value", explorer._update(explorer.values)),
                                setattr(explorer.image, "value", full_png(explorer.figure)))
    explorer._on_change = lambda change: explorer.refresh()
    for control in explorer.controls.values():
        control.unobserve_all("value")
        control.observe(explorer._on_change, names="value")
    explorer.refresh()
    explorer.figure.set_layout_engine("none")  # as the old render_png did after the first draw
    return explorer


def bench(label: str, factory, count: int, control_name: str | None) -> dict:
    explorer = factory()
    name = main_slider(explorer, control_name)
    if name is None:
        return {"explorer": label, "error": f"no slider named {control_name!r}" if control_name
                else "no numeric slider in controls"}
    slow = in_place_explorer(factory)
    control, slow_control = explorer.controls[name], slow.controls[name]
    fast_ms, in_place_ms, naive_ms = [], [], []
    kinds: dict[str, int] = {}
    renderer = renderer_for(explorer.figure)
    for value in sweep_values(control, count):
        start = time.perf_counter()
        control.value = value
        fast_ms.append((time.perf_counter() - start) * 1e3)
        kinds[renderer.frame.kind] = kinds.get(renderer.frame.kind, 0) + 1
        start = time.perf_counter()
        slow_control.value = value
        in_place_ms.append((time.perf_counter() - start) * 1e3)
        naive_ms.append(naive_event(factory, name, explorer.values) * 1e3)
    result = {
        "explorer": label, "control": name, "events": len(fast_ms),
        "explorer_ms": statistics.median(fast_ms), "in_place_ms": statistics.median(in_place_ms),
        "naive_ms": statistics.median(naive_ms), "frames": kinds,
    }
    result["ratio"] = result["naive_ms"] / result["explorer_ms"]
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--events", type=int, default=30, help="slider values per explorer (default 30)")
    parser.add_argument("--only", help="run only explorers whose name contains this")
    parser.add_argument("--control", help="slider to sweep instead of each explorer's first slider")
    parser.add_argument("--json", type=Path, default=ARTIFACT, help=f"where to write results ({ARTIFACT})")
    args = parser.parse_args(argv)

    found, notes = discover()
    print(f"explorers found ({len(found)}): {', '.join(label for label, _ in found) or 'none'}")
    for note in notes:
        print(f"  note: {note}")
    if args.only:
        found = [(label, f) for label, f in found if args.only in label]
    rows = []
    for label, factory in found:
        try:
            rows.append(bench(label, factory, args.events, args.control))
        except Exception as error:  # noqa: BLE001 - report and go on with the others
            traceback.print_exc()
            rows.append({"explorer": label, "error": f"{type(error).__name__}: {error}"})
    print()
    print(f"{'explorer':38s} {'slider':24s} {'explorer ms':>11s} {'in-place ms':>11s} {'naive ms':>9s}"
          f" {'naive/explorer':>14s}  frames")
    for row in rows:
        if "error" in row:
            print(f"{row['explorer']:38s} ERROR: {row['error']}")
            continue
        frames = ", ".join(f"{k} {v}" for k, v in sorted(row["frames"].items()))
        print(f"{row['explorer']:38s} {row['control']:24s} {row['explorer_ms']:11.1f} {row['in_place_ms']:11.1f}"
              f" {row['naive_ms']:9.1f} {row['ratio']:13.1f}x  {frames}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nmedians over {args.events} events each; load average {load:.1f} on {os.cpu_count()} CPUs")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"load_average": load, "cpus": os.cpu_count(), "events": args.events,
                                     "results": rows, "notes": notes}, indent=2))
    print(f"written to {args.json}")
    return 1 if any("error" in row for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
