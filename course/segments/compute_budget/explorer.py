"""Segment 5 explorer: serving rate, deployment length, model size, RL factor and inefficiency."""

from __future__ import annotations

from functools import lru_cache

import ipywidgets as widgets
import numpy as np

from course.models import compute_budget as cb
from course.segments.compute_budget.plot import BudgetChart, draw_budget_chart, format_tokens, update_budget_chart
from course.plots.figure import new_figure
from course.widgets.base import Explorer

PARAMS_GRID = np.logspace(9, 12, 61)
"""Active parameters drawn on the over-training axis, 1B to 1T [count]."""

TOKENS_PER_S_LOG10_RANGE = (5, 9)
"""Serving-rate slider range, 10^5 to 10^9 tokens/s [log10 tokens/s]."""


@lru_cache(maxsize=1)
def _lecture_point() -> tuple[float, float]:
    """The lecture's model size and its rounded over-training factor [count, x]."""
    pretrain = cb.optimal_pretrain_tokens(cb.LECTURE_ROUNDED_INFERENCE_TOKENS)
    return cb.LECTURE_ACTIVE_PARAMS, float(cb.overtraining_factor(pretrain, cb.LECTURE_ACTIVE_PARAMS))


def budget_chart(*, tokens_per_s: float, days: float, active_params: float, rl_flops_per_param_token: float,
                 inefficiency: float) -> tuple[BudgetChart, cb.DeploymentBudget]:
    """Everything the segment 5 figure shows for one setting of the controls (pure).

    Two bars share the same deployment (so the same RL and inference budgets):
    one pre-trains on Chinchilla's 20 tokens per parameter, the other on the
    equal-cost optimum's D_pre.
    """
    optimum = cb.equal_cost_budget(tokens_per_s, days, active_params, rl_flops_per_param_token, inefficiency)
    chinchilla_flops = cb.pretraining_flops(active_params, optimum.chinchilla_tokens)
    sweep = cb.equal_cost_budget(tokens_per_s, days, PARAMS_GRID, rl_flops_per_param_token, inefficiency)
    lecture_params, lecture_overtraining = _lecture_point()
    curve_limits = _overtraining_ylim(float(days), float(rl_flops_per_param_token), float(inefficiency),
                                      lecture_overtraining)
    chart = BudgetChart(
        flops={
            "pretrain": np.array([chinchilla_flops, optimum.pretrain_flops], dtype=float),
            "rl": np.array([optimum.rl_flops] * 2, dtype=float),
            "inference": np.array([optimum.inference_flops] * 2, dtype=float),
        },
        tokens={
            "pretrain": np.array([optimum.chinchilla_tokens, optimum.pretrain_tokens], dtype=float),
            "rl": np.array([optimum.rl_tokens] * 2, dtype=float),
            "inference": np.array([optimum.inference_tokens] * 2, dtype=float),
        },
        params_grid=PARAMS_GRID,
        overtraining_curve=np.asarray(sweep.overtraining_factor, dtype=float),
        current_params=float(active_params),
        current_overtraining=float(optimum.overtraining_factor),
        lecture_params=lecture_params,
        lecture_overtraining=lecture_overtraining,
        overtraining_ylim=curve_limits,
    )
    return chart, optimum


@lru_cache(maxsize=256)
def _overtraining_ylim(days: float, rl_flops_per_param_token: float, inefficiency: float,
                       lecture_overtraining: float) -> tuple[float, float]:
    """Over-training axis limits that hold the curve at every serving rate on the slider [x].

    The curve rises with the serving rate, so its extremes are at the slider's ends; with 1x and the
    lecture's point, a factor 3 of margin either side (as a fit to one curve had).
    """
    low, high = (cb.equal_cost_budget(10.0 ** exponent, days, PARAMS_GRID, rl_flops_per_param_token,
                                      inefficiency).overtraining_factor for exponent in TOKENS_PER_S_LOG10_RANGE)
    values = np.concatenate([np.ravel(low), np.ravel(high), [1.0, lecture_overtraining]])
    return float(values.min() / 3), float(values.max() * 3)


def budget_readout(optimum: cb.DeploymentBudget, tokens_per_s: float, days: float) -> str:
    """One paragraph of HTML with the numbers behind the figure."""
    return (
        f"Serving {format_tokens(tokens_per_s)} tokens/s for {days:g} days: "
        f"<b>D_inf = {format_tokens(optimum.inference_tokens)}</b> tokens. "
        f"Equal-cost plan: pre-train on <b>{format_tokens(optimum.pretrain_tokens)}</b> tokens and run RL on "
        f"{format_tokens(optimum.rl_tokens)}; each phase {optimum.pretrain_flops:.3g} FLOP, "
        f"{optimum.total_flops:.3g} in all. Chinchilla would use {format_tokens(optimum.chinchilla_tokens)} "
        f"tokens for {format_tokens(optimum.active_params)} active parameters: "
        f"<b>over-trained {_times(optimum.overtraining_factor)}</b>."
    )


def compute_budget_explorer(tokens_per_s: float = cb.LECTURE_SERVING_TOKENS_PER_S,
                            days: float = cb.LECTURE_DEPLOYMENT_DAYS,
                            active_params: float = cb.LECTURE_ACTIVE_PARAMS,
                            rl_flops_per_param_token: float = cb.LECTURE_RL_FLOPS_PER_PARAM_TOKEN,
                            inefficiency: float = cb.LECTURE_INEFFICIENCY) -> Explorer:
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
                                            description="decode inefficiency", style=wide),
    }
    figure, (budget_ax, overtraining_ax) = new_figure(width_in=10.0, height_in=4.0)
    state = {}

    def update(values: dict) -> str:
        chart, optimum = budget_chart(**values)
        if "artists" not in state:
            state["artists"] = draw_budget_chart(budget_ax, overtraining_ax, chart)
        else:
            update_budget_chart(state["artists"], chart)
        return budget_readout(optimum, values["tokens_per_s"], values["days"])

    return Explorer(controls, figure, update, title="Pre-training, RL and inference compute explorer")


def _times(factor: float) -> str:
    """A multiplier with one decimal below 1,000 and none above, e.g. '129.6x', '100,800x'."""
    return f"{factor:,.1f}x" if factor < 1000 else f"{factor:,.0f}x"
