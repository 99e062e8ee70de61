"""Compute spent on pre-training, RL and inference, and the equal-cost optimum [FLOP, tokens].

The lecture's accounting (per active parameter N and token D):
pre-training 6ND (2 forward + 4 backward), RL (2 to 6)*N*D_RL*inefficiency,
inference 2*N*D_inf*inefficiency, where inefficiency is how much worse
decode-time MFU is than training MFU.
"""

from __future__ import annotations

from dataclasses import dataclass

from course.units import SECONDS_PER_DAY

FORWARD_FLOPS_PER_PARAM_TOKEN = 2.0
"""Forward pass: a multiply and an add per parameter per token [FLOP]."""

BACKWARD_FLOPS_PER_PARAM_TOKEN = 4.0
"""Backward pass: gradients w.r.t. activations and weights, twice the forward [FLOP]."""

TRAINING_FLOPS_PER_PARAM_TOKEN = FORWARD_FLOPS_PER_PARAM_TOKEN + BACKWARD_FLOPS_PER_PARAM_TOKEN
"""The 6 in 6ND [FLOP]."""

CHINCHILLA_TOKENS_PER_PARAM = 20.0
"""Compute-optimal pre-training tokens per parameter (Hoffmann et al. 2022) [tokens]."""

LECTURE_RL_FLOPS_PER_PARAM_TOKEN = 3.0
"""The lecture's pick inside the 2-to-6 range for RL [FLOP]."""

LECTURE_INEFFICIENCY = 3.0
"""The lecture's decode inefficiency factor (MFU penalty) [dimensionless]."""


def pretraining_flops(active_params: float, tokens: float) -> float:
    """6*N*D [FLOP]."""
    return TRAINING_FLOPS_PER_PARAM_TOKEN * active_params * tokens


def rl_flops(active_params: float, tokens: float, flops_per_param_token: float = LECTURE_RL_FLOPS_PER_PARAM_TOKEN,
             inefficiency: float = LECTURE_INEFFICIENCY) -> float:
    """(2 to 6)*N*D_RL*inefficiency [FLOP]; 2 = rollouts only, 6 = rollouts trained on."""
    if not FORWARD_FLOPS_PER_PARAM_TOKEN <= flops_per_param_token <= TRAINING_FLOPS_PER_PARAM_TOKEN:
        raise ValueError("RL FLOPs per parameter per token must lie between 2 (forward only) and 6 (trained on)")
    return flops_per_param_token * active_params * tokens * inefficiency


def inference_flops(active_params: float, tokens: float, inefficiency: float = LECTURE_INEFFICIENCY) -> float:
    """2*N*D_inf*inefficiency [FLOP]."""
    return FORWARD_FLOPS_PER_PARAM_TOKEN * active_params * tokens * inefficiency


@dataclass(frozen=True)
class EqualCostTokens:
    """Token counts at which the three budgets cost the same, relative to D_pre = 1."""

    pretrain: float
    rl: float
    inference: float


def equal_cost_tokens(rl_flops_per_param_token: float = LECTURE_RL_FLOPS_PER_PARAM_TOKEN,
                      inefficiency: float = LECTURE_INEFFICIENCY) -> EqualCostTokens:
    """Solve 6*D_pre = rl*ineff*D_RL = 2*ineff*D_inf with D_pre = 1 [relative tokens]."""
    return EqualCostTokens(
        pretrain=1.0,
        rl=TRAINING_FLOPS_PER_PARAM_TOKEN / (rl_flops_per_param_token * inefficiency),
        inference=TRAINING_FLOPS_PER_PARAM_TOKEN / (FORWARD_FLOPS_PER_PARAM_TOKEN * inefficiency),
    )


def tokens_served(tokens_per_s: float, days: float) -> float:
    """Tokens a deployment serves at a steady rate over some days [tokens]."""
    return tokens_per_s * days * SECONDS_PER_DAY


def chinchilla_tokens(params: float, tokens_per_param: float = CHINCHILLA_TOKENS_PER_PARAM) -> float:
    """Compute-optimal pre-training tokens for a model size [tokens]."""
    return tokens_per_param * params


def overtraining_factor(pretrain_tokens: float, params: float) -> float:
    """How many times more tokens than Chinchilla-optimal a model was trained on [x]."""
    return pretrain_tokens / chinchilla_tokens(params)
