"""Segment 5 view: lifetime compute by phase and over-training against model size, for one setting."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from course.models import compute_budget as cb
from course.plots.common import log_limits, nice_ceiling

PARAMS_GRID = np.logspace(9, 12, 61)
"""Active parameters drawn on the over-training axis, 1B to 1T [count]."""

TOKENS_PER_S_LOG10_RANGE = (5, 9)
"""Serving-rate slider range, 10^5 to 10^9 tokens/s [log10 tokens/s]."""

PHASES = ("pretrain", "rl", "inference")
"""The three phases, bottom to top in each bar."""

BAR_HEADROOM = 1.25
"""The compute axis reaches at least this many times the taller bar (room for the labels above the bars)."""

LIMIT_STEPS = (1.0, 1.5, 2.0, 3.0, 5.0)
"""Top of the compute axis (in units of the optimum's total): the smallest step x 10^k above the bars. The
optimum's bar is 1 by construction, so the axis stays put unless the Chinchilla bar outgrows it."""


@lru_cache(maxsize=1)
def lecture_point() -> tuple[float, float]:
    """The lecture's model size and its rounded over-training factor [count, x]."""
    pretrain = cb.optimal_pretrain_tokens(cb.LECTURE_ROUNDED_INFERENCE_TOKENS)
    return cb.LECTURE_ACTIVE_PARAMS, float(cb.overtraining_factor(pretrain, cb.LECTURE_ACTIVE_PARAMS))


@lru_cache(maxsize=256)
def overtraining_ylim(days: float, rl_flops_per_param_token: float, inefficiency: float) -> tuple[float, float]:
    """Over-training axis limits holding the curve at every serving rate on the slider, 1x and the lecture's
    point: whole decades, so the serving-rate slider moves the curve, not the axis [x]."""
    low, high = (cb.equal_cost_budget(10.0 ** exponent, days, PARAMS_GRID, rl_flops_per_param_token,
                                      inefficiency).overtraining_factor for exponent in TOKENS_PER_S_LOG10_RANGE)
    return log_limits(low, high, [1.0, lecture_point()[1]], pad=1.5)


@dataclass(frozen=True)
class ComputeBudgetView:
    """What the segment 5 figure and readout show.

    Attributes:
        flops: phase -> compute of each bar (Chinchilla-sized pre-training, equal-cost optimum) [FLOP].
        tokens: phase -> tokens of each bar [tokens].
        params_grid: active parameters drawn on the right [count].
        overtraining_curve: equal-cost D_pre / Chinchilla tokens over ``params_grid`` [x].
        current_params, current_overtraining: the selected model [count, x].
        lecture_params, lecture_overtraining: the lecture's point (100B, ~100x) [count, x].
        unit_flops: the equal-cost optimum's total, the compute axis' unit [FLOP].
        budget_top: top of the compute axis [unit_flops]; overtraining_ylim: limits of the over-training axis [x].
        optimum: the equal-cost plan at the selected model (for the readout).
        tokens_per_s: serving rate [tokens/s]; days: deployment length [days].
        penalty_on: which RL FLOPs pay κ, "all" (lecture) or "decode" [choice].
    """

    flops: dict[str, np.ndarray]
    tokens: dict[str, np.ndarray]
    params_grid: np.ndarray
    overtraining_curve: np.ndarray
    current_params: float
    current_overtraining: float
    lecture_params: float
    lecture_overtraining: float
    unit_flops: float
    budget_top: float
    overtraining_ylim: tuple[float, float]
    optimum: cb.DeploymentBudget
    tokens_per_s: float
    days: float
    penalty_on: str = "all"

    @property
    def totals(self) -> np.ndarray:
        """Total compute of each bar [FLOP]."""
        return sum(self.flops[phase] for phase in PHASES)

    @property
    def layout_key(self) -> tuple:
        return self.budget_top, self.overtraining_ylim

    @property
    def label_key(self) -> tuple:
        return ()


def compute_budget_view(*, tokens_per_s: float, days: float, active_params: float, rl_flops_per_param_token: float,
                        inefficiency: float, penalty_on: str = "all") -> ComputeBudgetView:
    """The segment 5 figure's numbers (pure).

    Two bars share the same deployment (so the same RL and inference budgets): one pre-trains on Chinchilla's
    20 tokens per parameter, the other on the equal-cost optimum's D_pre.

    Args:
        tokens_per_s: serving rate [tokens/s]; days: deployment length [days].
        active_params: active parameters [count].
        rl_flops_per_param_token: RL compute per parameter per token [FLOP].
        inefficiency: decode inefficiency κ, training MFU / decode MFU [x].
        penalty_on: κ on "all" RL FLOPs (the lecture) or on the "decode"d ones only [choice].
    """
    optimum = cb.equal_cost_budget(tokens_per_s, days, active_params, rl_flops_per_param_token, inefficiency,
                                   penalty_on)
    chinchilla_flops = cb.pretraining_flops(active_params, optimum.chinchilla_tokens)
    sweep = cb.equal_cost_budget(tokens_per_s, days, PARAMS_GRID, rl_flops_per_param_token, inefficiency,
                                 penalty_on)
    lecture_params, lecture_overtraining = lecture_point()
    flops = {
        "pretrain": np.array([chinchilla_flops, optimum.pretrain_flops], dtype=float),
        "rl": np.array([optimum.rl_flops] * 2, dtype=float),
        "inference": np.array([optimum.inference_flops] * 2, dtype=float),
    }
    totals = sum(flops.values())
    return ComputeBudgetView(
        flops=flops,
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
        unit_flops=float(totals[1]),
        budget_top=nice_ceiling(float(totals.max() / totals[1]) * BAR_HEADROOM, LIMIT_STEPS),
        overtraining_ylim=overtraining_ylim(float(days), float(rl_flops_per_param_token), float(inefficiency)),
        optimum=optimum,
        tokens_per_s=float(tokens_per_s),
        days=float(days),
        penalty_on=penalty_on,
    )


def view(values: Mapping[str, object]) -> ComputeBudgetView:
    """The view for the explorer's control values (keys: the keyword arguments of ``compute_budget_view``)."""
    return compute_budget_view(**values)
