"""Kernel-side cost of one control event, per explorer and control: blitting explorer against rebuilding.

Run: ``python benchmarks/redraw.py`` (``--help`` for options). For every registered segment's explorer
(``course.widgets.explorer.registered_explorers``) and every control, it moves the control through N
values (a slider across its range on its step grid, like a drag; a dropdown through its options in turn)
and times, side by side for each value:

* ``explorer``: setting the control's value on a live explorer, i.e. the observer call: view + update +
  blit (or full draw when the layout changed) + PNG at zlib level 1 + setting the Image and readout widgets;
* ``naive``: rebuilding on every change, as ``ipywidgets.interact`` over a plotting function does: a new
  figure, the same ``draw`` at the same values, a full draw and matplotlib's ``print_png``, and the widgets.

Events are interleaved (explorer, then naive, for each value) so machine load hits both alike. It also
times the first paint (building an explorer: figure, first full draw, PNG). It prints medians, ratios and
the goals (main control < 8 ms, every control < 20 ms, naive / explorer >= 10x), and writes
``test-artifacts/benchmarks/redraw.json``. A script, not a test: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ipywidgets as widgets  # noqa: E402
import numpy as np  # noqa: E402

from course.widgets.explorer import Explorer, registered_explorers  # noqa: E402

ARTIFACT = ROOT / "test-artifacts" / "benchmarks" / "redraw.json"
MAIN_GOAL_MS = 8.0
CONTROL_GOAL_MS = 20.0
RATIO_GOAL = 10.0


def sweep_values(control, count: int) -> list:
    """``count`` values for a control: a slider from one end to the other on its step grid, or options in turn."""
    if hasattr(control, "options"):
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        start = options.index(control.value)
        return [options[(start + 1 + k) % len(options)] for k in range(count)]
    kind = type(control).__name__
    low, high = float(control.min), float(control.max)
    raw = np.linspace(low, high, count)
    step = float(control.step)
    raw = low + np.round((raw - low) / step) * step
    if kind == "FloatLogSlider":
        raw = float(control.base) ** raw
    if kind.startswith("Int"):
        raw = np.round(raw).astype(int)
    values = []
    for value in raw.tolist():
        if not values or value != values[-1]:
            values.append(value)
    if values and values[0] == control.value:
        values = values[1:] + values[:1]
    return values


def naive_event(explorer: Explorer, image: widgets.Image, readout: widgets.HTML) -> float:
    """Seconds to rebuild the explorer's figure at its current values and show it, as interact would."""
    start = time.perf_counter()
    scene = explorer.scene
    view = scene.view(explorer.values)
    figure, axes = scene.layout.new()
    scene.draw(axes, view)
    buffer = io.BytesIO()
    figure.canvas.print_png(buffer)
    image.value = buffer.getvalue()
    readout.value = scene.readout(view)
    return time.perf_counter() - start


def first_paint_ms(factory, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        explorer = factory()
        times.append((time.perf_counter() - start) * 1e3)
        explorer.close()
    return statistics.median(times)


def bench_control(label: str, factory, name: str, count: int) -> dict:
    explorer = factory()
    control = explorer.controls[name]
    image, readout = widgets.Image(format="png"), widgets.HTML()
    fast, naive = [], []
    frames = {"full": 0, "labels": 0, "blit": 0}
    for value in sweep_values(control, count):
        start = time.perf_counter()
        control.value = value
        fast.append((time.perf_counter() - start) * 1e3)
        frames[explorer.last_frame] += 1
        naive.append(naive_event(explorer, image, readout) * 1e3)
    explorer.close()
    result = {"explorer": label, "control": name, "main": name == explorer.main, "events": len(fast),
              "explorer_ms": statistics.median(fast), "naive_ms": statistics.median(naive), "frames": frames}
    result["ratio"] = result["naive_ms"] / result["explorer_ms"]
    return result


def goal_notes(row: dict) -> list[str]:
    limit = MAIN_GOAL_MS if row["main"] else CONTROL_GOAL_MS
    notes = []
    if row["explorer_ms"] >= limit:
        notes.append(f"over {limit:g} ms")
    if row["ratio"] < RATIO_GOAL:
        notes.append(f"under {RATIO_GOAL:g}x")
    return notes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--events", type=int, default=24, help="events per control (default 24)")
    parser.add_argument("--paints", type=int, default=3, help="first paints timed per explorer (default 3)")
    parser.add_argument("--only", help="run only explorers whose segment name contains this")
    parser.add_argument("--json", type=Path, default=ARTIFACT, help=f"where to write results ({ARTIFACT})")
    args = parser.parse_args(argv)

    found = [(label, factory) for label, factory in registered_explorers() if not args.only or args.only in label]
    rows, paints = [], []
    for label, factory in found:
        paints.append({"explorer": label, "first_paint_ms": first_paint_ms(factory, args.paints)})
        explorer = factory()
        names = list(explorer.controls)
        explorer.close()
        for name in names:
            rows.append(bench_control(label, factory, name, args.events))

    print(f"{'explorer':16s} {'control':26s} {'explorer ms':>11s} {'naive ms':>9s} {'naive/explorer':>14s}"
          f"  frames (full/labels/blit)  goals")
    for row in rows:
        frames = "/".join(str(row["frames"][k]) for k in ("full", "labels", "blit"))
        name = row["control"] + (" (main)" if row["main"] else "")
        notes = goal_notes(row)
        print(f"{row['explorer']:16s} {name:26s} {row['explorer_ms']:11.1f} {row['naive_ms']:9.1f}"
              f" {row['ratio']:13.1f}x  {frames:26s} {'MISSED: ' + ', '.join(notes) if notes else 'met'}")
    print()
    for paint in paints:
        print(f"first paint {paint['explorer']:16s} {paint['first_paint_ms']:7.1f} ms")
    missed = [row for row in rows if goal_notes(row)]
    main_rows = [row for row in rows if row["main"]]
    print(f"\ngoals: main control < {MAIN_GOAL_MS:g} ms: {sum(r['explorer_ms'] < MAIN_GOAL_MS for r in main_rows)}"
          f"/{len(main_rows)}; every control < {CONTROL_GOAL_MS:g} ms: "
          f"{sum(r['explorer_ms'] < (MAIN_GOAL_MS if r['main'] else CONTROL_GOAL_MS) for r in rows)}/{len(rows)}; "
          f">= {RATIO_GOAL:g}x naive: {sum(r['ratio'] >= RATIO_GOAL for r in rows)}/{len(rows)}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"medians over {args.events} events per control; load average {load:.1f} on {os.cpu_count()} CPUs")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"load_average": load, "cpus": os.cpu_count(), "events": args.events,
                                     "goals": {"main_ms": MAIN_GOAL_MS, "control_ms": CONTROL_GOAL_MS,
                                               "ratio": RATIO_GOAL},
                                     "results": rows, "first_paint": paints,
                                     "missed": [f"{r['explorer']}.{r['control']}" for r in missed]}, indent=2))
    print(f"written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
