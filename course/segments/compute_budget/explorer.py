"""Segment 5 explorer: serving rate, deployment length, model size, RL factor and inefficiency."""

from __future__ import annotations

import ipywidgets as widgets

from course.models import compute_budget as cb
from course.segments.compute_budget import plot
from course.segments.compute_budget.plot import format_tokens
from course.segments.compute_budget.view import TOKENS_PER_S_LOG10_RANGE, ComputeBudgetView, view
from course.widgets.explorer import Explorer, Scene, explorer_factory


PENALTY_WORDS = {"all": "all RL FLOPs (lecture)", "decode": "decoded RL FLOPs only"}
"""The two readings of the RL decode penalty, by ``penalty_on`` value."""


def times(factor: float) -> str:
    """A multiplier with one decimal below 1,000 and none above, e.g. '129.6x', '100,800x'."""
    return f"{factor:,.1f}x" if factor < 1000 else f"{factor:,.0f}x"


def readout(view: ComputeBudgetView) -> str:
    """One paragraph of HTML with the numbers behind the figure."""
    optimum = view.optimum
    return (
        f"Serving {format_tokens(view.tokens_per_s)} tokens/s for {view.days:g} days: "
        f"<b>D_inf = {format_tokens(optimum.inference_tokens)}</b> tokens. "
        f"Equal-cost plan: pre-train on <b>{format_tokens(optimum.pretrain_tokens)}</b> tokens and run RL on "
        f"{format_tokens(optimum.rl_tokens)}; each phase {optimum.pretrain_flops:.3g} FLOP, "
        f"{optimum.total_flops:.3g} in all. Chinchilla would use {format_tokens(optimum.chinchilla_tokens)} "
        f"tokens for {format_tokens(optimum.active_params)} active parameters: "
        f"<b>over-trained {times(optimum.overtraining_factor)}</b>. "
        f"κ charged on {PENALTY_WORDS[view.penalty_on]}: D_pre = {optimum.pretrain_tokens / optimum.rl_tokens:.3g} D_RL."
    )


@explorer_factory
def compute_budget_explorer(tokens_per_s: float = cb.LECTURE_SERVING_TOKENS_PER_S,
                            days: float = cb.LECTURE_DEPLOYMENT_DAYS,
                            active_params: float = cb.LECTURE_ACTIVE_PARAMS,
                            rl_flops_per_param_token: float = cb.LECTURE_RL_FLOPS_PER_PARAM_TOKEN,
                            inefficiency: float = cb.LECTURE_INEFFICIENCY, penalty_on: str = "all") -> Explorer:
    """Sliders for the deployment and the lecture's factors, redrawing compute by phase and over-training."""
    wide = {"description_width": "initial"}
    controls = {
        "tokens_per_s": widgets.FloatLogSlider(value=tokens_per_s, base=10, min=TOKENS_PER_S_LOG10_RANGE[0],
                                               max=TOKENS_PER_S_LOG10_RANGE[1], step=0.05,
                                               description="serving rate [tokens/s]", readout_format=".3g",
                                               style=wide),
        "days": widgets.IntSlider(value=int(days), min=7, max=730, step=1, description="deployment [days]",
                                  style=wide),
        "active_params": widgets.FloatLogSlider(value=active_params, base=10, min=9, max=12, step=0.05,
                                                description="active parameters", readout_format=".3g", style=wide),
        "rl_flops_per_param_token": widgets.FloatSlider(value=rl_flops_per_param_token, min=2, max=6, step=0.5,
                                                        description="RL FLOP/param/token", style=wide),
        "inefficiency": widgets.FloatSlider(value=inefficiency, min=1, max=10, step=0.1,
                                            description="decode inefficiency κ", style=wide),
        "penalty_on": widgets.Dropdown(options=[(f"κ on {words}", key) for key, words in PENALTY_WORDS.items()],
                                       value=penalty_on, description="RL penalty", style=wide),
    }
    scene = Scene(layout=plot.LAYOUT, view=view, draw=plot.draw, update=plot.update, readout=readout)
    return Explorer(controls, scene, title="Pre-training, RL and inference compute explorer", main="tokens_per_s")


EXPLORER = compute_budget_explorer
"""This segment's explorer, as the tests, the benchmark and the grader's warm-up call it."""
