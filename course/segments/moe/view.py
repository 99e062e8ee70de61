"""Segment 2 view: an MoE layer's all-to-all time against the expert-parallel degree, for one setting."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from course.models import moe
from course.plots.common import log_limits
from course.presets import llms
from course.units import BYTES_BF16, BYTES_FP8

MAX_CHIPS = 576
"""Largest expert-parallel degree drawn: eight 72-GPU racks [chips]."""

WIRE_FORMATS = {"fp8-bf16": (BYTES_FP8, BYTES_BF16), "bf16": (BYTES_BF16, BYTES_BF16)}
"""Bytes per value of the dispatch and of the combine [bytes]: DeepSeek-V3's (DeepEP) and all-bf16."""


def fabrics() -> dict[str, moe.Fabric]:
    """Fabrics the explorer offers, by key: the NVLink presets, DeepSeek's H800 and the 800 Gb/s GB300 NVL72."""
    return {**moe.switched_fabrics(), "gb300": moe.GB300_NVL72}



@dataclass(frozen=True)
class MoeView:
    """What the segment 2 figure and readout show.

    Attributes:
        name: the selected fabric's display name; domain_size: chips in one NVLink domain [count].
        scale_up_to_out: NVLink bandwidth / scale-out bandwidth [x].
        ep: expert-parallel degrees of the selected fabric [chips].
        scale_up_us, scale_out_us, total_us: one layer's all-to-all time on each network and overall [µs].
        per_token_ns: the layer time per routed token [ns].
        one_domain_us, two_domains_us: layer time at EP = D and EP = 2D [µs].
        others: (name, ep [chips], per_token_ns [ns]) of the fabrics not selected, drawn faintly.
        tokens_per_chip: tokens each GPU sends per layer [tokens]; layers: MoE layers of the model [count].
        model_name: the model whose layer count the readout uses.
        x_max: right end of both x axes [chips]; layer_ylim [µs], token_ylim [ns]: y limits, whole decades
            holding every fabric's curves in every wire format (``menu_independent_limits``; log axes: they
            move only when a curve crosses a decade).
    """

    name: str
    domain_size: int
    scale_up_to_out: float
    ep: np.ndarray
    scale_up_us: np.ndarray
    scale_out_us: np.ndarray
    total_us: np.ndarray
    per_token_ns: np.ndarray
    one_domain_us: float
    two_domains_us: float
    others: tuple
    tokens_per_chip: float
    layers: int
    model_name: str
    x_max: float
    layer_ylim: tuple[float, float]
    token_ylim: tuple[float, float]

    @property
    def step(self) -> float:
        """How many times longer two domains take than one [x]."""
        return self.two_domains_us / self.one_domain_us

    @property
    def layout_key(self) -> tuple:
        return self.x_max, self.layer_ylim, self.token_ylim

    @property
    def label_key(self) -> tuple:
        return ()


def menu_independent_limits(tokens_per_chip: float, hidden_size: int, experts_per_token: int,
                            drawn: tuple[moe.Fabric, ...], max_chips: int = MAX_CHIPS,
                            ) -> tuple[tuple[float, float], tuple[float, float]]:
    """Layer-time [µs] and per-token [ns] limits holding the curves of every fabric in ``drawn`` (overall and
    per network) in every wire format, so a menu change moves the curves, not the axes (whole decades).

    Args:
        tokens_per_chip: tokens each GPU sends per layer [tokens].
        hidden_size: model width [values]; experts_per_token: routed experts per token [count].
        drawn: the fabrics the figure draws (selected and others); max_chips: largest EP degree [chips].
    """
    layer, token = [], []
    for dispatch, combine in WIRE_FORMATS.values():
        bytes_per_token = moe.dispatch_combine_bytes_per_token(hidden_size, experts_per_token,
                                                               dispatch_bytes_per_value=dispatch,
                                                               combine_bytes_per_value=combine)
        for fabric in drawn:
            time = moe.all_to_all_time(tokens_per_chip, moe.ep_degrees(fabric.domain_size, max_chips), fabric,
                                       hidden_size=hidden_size, experts_per_token=experts_per_token,
                                       bytes_per_token=bytes_per_token)
            layer += [time.total_s * 1e6, time.scale_up_s * 1e6, time.scale_out_s * 1e6]
            token.append(time.per_token_s * 1e9)
    return log_limits(*layer, pad=1.2), log_limits(*token, pad=1.2)


def moe_view(*, fabric: moe.Fabric, tokens_per_chip: float, hidden_size: int, experts_per_token: int,
             others: tuple[moe.Fabric, ...] = (), wire_format: str = "fp8-bf16", max_chips: int = MAX_CHIPS,
             llm: llms.LLM = llms.DEEPSEEK_V3) -> MoeView:
    """The segment 2 figure's numbers (pure).

    Args:
        fabric: the selected chip's network.
        tokens_per_chip: tokens each GPU sends per layer [tokens].
        hidden_size: model width [values]; experts_per_token: routed experts per token [count].
        others: fabrics drawn faintly in the per-token panel for comparison.
        wire_format: a key of ``WIRE_FORMATS`` (dispatch and combine formats); max_chips: largest EP degree
            drawn [chips].
        llm: the model whose MoE layer count the readout multiplies by.
    """
    dispatch, combine = WIRE_FORMATS[wire_format]
    bytes_per_token = moe.dispatch_combine_bytes_per_token(hidden_size, experts_per_token,
                                                           dispatch_bytes_per_value=dispatch,
                                                           combine_bytes_per_value=combine)
    shape = dict(hidden_size=hidden_size, experts_per_token=experts_per_token, bytes_per_token=bytes_per_token)
    ep = moe.ep_degrees(fabric.domain_size, max_chips)
    sweep = moe.all_to_all_time(tokens_per_chip, ep, fabric, **shape)
    domain = fabric.domain_size
    crossing = moe.all_to_all_time(tokens_per_chip, np.array([domain, 2 * domain]), fabric, **shape)
    other_lines = []
    for other in others:
        other_ep = moe.ep_degrees(other.domain_size, max_chips)
        other_time = moe.all_to_all_time(1.0, other_ep, other, **shape)
        other_lines.append((other.name, other_ep, other_time.per_token_s * 1e9))
    per_token_ns = sweep.per_token_s * 1e9
    total_us = sweep.total_s * 1e6
    layer_ylim, token_ylim = menu_independent_limits(tokens_per_chip, hidden_size, experts_per_token,
                                                     (fabric, *others), max_chips)
    return MoeView(
        name=fabric.name,
        domain_size=domain,
        scale_up_to_out=moe.scale_up_to_out_ratio(fabric),
        ep=ep,
        scale_up_us=sweep.scale_up_s * 1e6,
        scale_out_us=sweep.scale_out_s * 1e6,
        total_us=total_us,
        per_token_ns=per_token_ns,
        one_domain_us=float(crossing.total_s[0]) * 1e6,
        two_domains_us=float(crossing.total_s[1]) * 1e6,
        others=tuple(other_lines),
        tokens_per_chip=float(tokens_per_chip),
        layers=moe.moe_layers(llm),
        model_name=llm.name,
        x_max=float(max([ep.max(), *(line[1].max() for line in other_lines)])),
        layer_ylim=layer_ylim,
        token_ylim=token_ylim,
    )


def view(values: Mapping[str, object], llm: llms.LLM = llms.DEEPSEEK_V3) -> MoeView:
    """The view for the explorer's control values (keys: fabric, wire_format, tokens_per_chip, experts_per_token,
    hidden_size)."""
    offered = fabrics()
    return moe_view(fabric=offered[values["fabric"]], tokens_per_chip=values["tokens_per_chip"],
                    hidden_size=values["hidden_size"], experts_per_token=values["experts_per_token"],
                    others=tuple(f for key, f in offered.items() if key != values["fabric"]),
                    wire_format=values.get("wire_format", "fp8-bf16"), llm=llm)
