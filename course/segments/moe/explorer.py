"""Segment 2 explorer: expert-parallel degree against an MoE layer's all-to-all time, per chip."""

from __future__ import annotations

import functools

import ipywidgets as widgets

from course.models import moe
from course.presets import llms
from course.segments.moe import plot
from course.segments.moe.view import MoeView, fabrics, view
from course.widgets.explorer import Explorer, Scene, explorer_factory


def readout(view: MoeView) -> str:
    """HTML under the figure: layer time at one and two NVLink domains, and over all MoE layers."""
    domain, tokens = view.domain_size, view.tokens_per_chip
    return (
        f"{view.name}: NVLink domain of {domain} GPUs, NVLink {view.scale_up_to_out:.1f}× faster "
        f"than scale-out · EP{domain}: <b>{view.one_domain_us:,.1f} µs</b> per layer "
        f"({view.one_domain_us / tokens * 1e3:,.0f} ns per token) · EP{2 * domain}: "
        f"<b>{view.two_domains_us:,.1f} µs</b> ({view.two_domains_us / tokens * 1e3:,.0f} ns per token)"
        f" · crossing costs <b>×{view.step:.1f}</b> · over {view.layers} MoE layers ({view.model_name}): "
        f"{view.one_domain_us * view.layers / 1e3:,.1f} ms vs {view.two_domains_us * view.layers / 1e3:,.1f} ms "
        f"per decode step"
    )


@explorer_factory
def moe_explorer(llm: llms.LLM = llms.DEEPSEEK_V3) -> Explorer:
    """Chip dropdown and sliders for tokens per GPU, experts per token and hidden size, redrawing
    all-to-all time against expert-parallel degree."""
    controls = {
        "fabric": widgets.Dropdown(options=[(f.name, key) for key, f in fabrics().items()],
                                   value="h100", description="chip"),
        "wire_format": widgets.Dropdown(options=[("fp8 out, bf16 back (V3)", "fp8-bf16"), ("bf16 both ways", "bf16")],
                                        value="fp8-bf16", description="activations"),
        "tokens_per_chip": widgets.FloatLogSlider(value=256, base=2, min=0, max=12, step=0.5,
                                                  description="tokens/GPU", readout_format=".0f"),
        "experts_per_token": widgets.IntSlider(value=llm.experts_per_token, min=1, max=16,
                                               description="experts/token"),
        "hidden_size": widgets.IntSlider(value=llm.hidden_size, min=1024, max=16384, step=512,
                                         description="hidden size"),
    }
    scene = Scene(layout=plot.LAYOUT, view=functools.partial(view, llm=llm), draw=plot.draw, update=plot.update,
                  readout=readout)
    return Explorer(controls, scene, title=f"MoE all-to-all explorer ({llm.name} shape)",
                    main="tokens_per_chip")


EXPLORER = moe_explorer
"""This segment's explorer, as the tests, the benchmark and the grader's warm-up call it."""
