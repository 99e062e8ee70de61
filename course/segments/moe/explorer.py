"""Segment 2 explorer: expert-parallel degree against an MoE layer's all-to-all time, per chip."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from course.models import moe
from course.plots.figure import new_figure
from course.segments.moe.plot import MoeCurves, draw_moe_curves, update_moe_curves
from course.presets import llms
from course.units import BYTES_BF16
from course.widgets.base import Explorer

MAX_CHIPS = 576
"""Largest expert-parallel degree drawn: eight 72-GPU racks [chips]."""


def moe_curves(*, fabric: moe.Fabric, tokens_per_chip: float, hidden_size: int, experts_per_token: int,
               others: tuple[moe.Fabric, ...] = (), bytes_per_value: float = BYTES_BF16,
               max_chips: int = MAX_CHIPS) -> MoeCurves:
    """Everything the segment 2 figure shows, for one setting of the controls (pure).

    ``others`` are fabrics drawn faintly in the per-token panel for comparison.
    """
    shape = dict(hidden_size=hidden_size, experts_per_token=experts_per_token, bytes_per_value=bytes_per_value)
    ep = moe.ep_degrees(fabric.domain_size, max_chips)
    sweep = moe.all_to_all_time(tokens_per_chip, ep, fabric, **shape)
    domain = fabric.domain_size
    crossing = moe.all_to_all_time(tokens_per_chip, np.array([domain, 2 * domain]), fabric, **shape)
    other_lines = []
    for other in others:
        other_ep = moe.ep_degrees(other.domain_size, max_chips)
        other_time = moe.all_to_all_time(1.0, other_ep, other, **shape)
        other_lines.append((other.name, other_ep, other_time.per_token_s * 1e9))
    return MoeCurves(
        name=fabric.name,
        ep=ep,
        scale_up_us=sweep.scale_up_s * 1e6,
        scale_out_us=sweep.scale_out_s * 1e6,
        total_us=sweep.total_s * 1e6,
        per_token_ns=sweep.per_token_s * 1e9,
        domain_size=domain,
        one_domain_us=float(crossing.total_s[0]) * 1e6,
        two_domains_us=float(crossing.total_s[1]) * 1e6,
        others=tuple(other_lines),
    )


def _readout(curves: MoeCurves, fabric: moe.Fabric, tokens_per_chip: float, layers: int) -> str:
    domain = curves.domain_size
    return (
        f"{fabric.name}: NVLink domain of {domain} GPUs, NVLink {moe.scale_up_to_out_ratio(fabric):.1f}× faster "
        f"than scale-out · EP{domain}: <b>{curves.one_domain_us:,.1f} µs</b> per layer "
        f"({curves.one_domain_us / tokens_per_chip * 1e3:,.0f} ns per token) · EP{2 * domain}: "
        f"<b>{curves.two_domains_us:,.1f} µs</b> ({curves.two_domains_us / tokens_per_chip * 1e3:,.0f} ns per token)"
        f" · crossing costs <b>×{curves.step:.1f}</b> · over {layers} MoE layers (DeepSeek-V3): "
        f"{curves.one_domain_us * layers / 1e3:,.1f} ms vs {curves.two_domains_us * layers / 1e3:,.1f} ms "
        f"per decode step"
    )


def moe_explorer(llm: llms.LLM = llms.DEEPSEEK_V3) -> Explorer:
    """Chip dropdown and sliders for tokens per GPU, experts per token and hidden size, redrawing
    all-to-all time against expert-parallel degree."""
    fabrics = moe.switched_fabrics()
    layers = moe.moe_layers(llm)
    controls = {
        "fabric": widgets.Dropdown(options=[(f.name, key) for key, f in fabrics.items()], value="h100",
                                   description="chip"),
        "tokens_per_chip": widgets.FloatLogSlider(value=256, base=2, min=0, max=12, step=0.5,
                                                  description="tokens/GPU", readout_format=".0f"),
        "experts_per_token": widgets.IntSlider(value=llm.experts_per_token, min=1, max=16,
                                               description="experts/token"),
        "hidden_size": widgets.IntSlider(value=llm.hidden_size, min=1024, max=16384, step=512,
                                         description="hidden size"),
    }
    figure, (layer_ax, token_ax) = new_figure(width_in=10.0, height_in=3.8)
    state = {}

    def update(values: dict) -> str:
        fabric = fabrics[values["fabric"]]
        others = tuple(f for key, f in fabrics.items() if key != values["fabric"])
        curves = moe_curves(fabric=fabric, tokens_per_chip=values["tokens_per_chip"],
                            hidden_size=values["hidden_size"], experts_per_token=values["experts_per_token"],
                            others=others)
        if "artists" not in state:
            state["artists"] = draw_moe_curves(layer_ax, token_ax, curves)
        else:
            update_moe_curves(state["artists"], curves)
        return _readout(curves, fabric, values["tokens_per_chip"], layers)

    return Explorer(controls, figure, update, title=f"MoE all-to-all explorer ({llm.name} shape, bf16)")
