"""Compute spent on pre-training, RL and inference, and the equal-cost optimum [FLOP, tokens].

The lecture's accounting (per active parameter N and token D):
pre-training 6ND (2 forward + 4 backward), RL (2 to 6)*N*D_RL*inefficiency,
inference 2*N*D_inf*inefficiency, where inefficiency is how much worse
decode-time MFU is than training MFU.

If more of one phase can stand in for less of another at the same model quality,
total compute is lowest roughly where the three budgets are equal. Inference
tokens are set by the deployment (serving rate x time), so that condition fixes
how many tokens pre-training should use, whatever the model size; Chinchilla's
20 tokens per parameter does not enter, hence "over-training".

Functions accept floats or numpy arrays (broadcast element-wise).

**The penalty is an inefficiency, >= 1.** ``inefficiency`` = training (or
prefill) MFU / decode MFU: how many times more chip time a decoded FLOP costs.
(Segment 4's pipeline efficiency is the opposite kind of number, <= 1.) The
lecture's formula multiplies *all* RL FLOPs by it, r N D_RL * inefficiency,
although only the rollouts are decoded: the 2 forward FLOPs per token run at
decode MFU, the (r - 2) trained-on FLOPs at training MFU. ``penalty_on``
chooses: "all" (the lecture, default, reproduces D_pre = 1.5 D_RL) or "decode"
(penalty on decoded FLOPs only, (2 * inefficiency + r - 2) N D_RL; with r = 3,
inefficiency 3: 7 N D_RL instead of 9, so D_pre = 7/6 D_RL).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course.presets import llms
from course.units import SECONDS_PER_DAY

SOURCES = {
    "lecture": "Reiner Pope's lecture on the Dwarkesh Podcast, 01:18:59 (course seed flashcards)",
    "chinchilla": "Hoffmann et al. 2022, 'Training Compute-Optimal Large Language Models' (~20 tokens/param)",
    "pope-2022": ("Pope et al. 2022, 'Efficiently Scaling Transformer Inference', PaLM 540B on 64 TPU v4 "
                  "(shared/reference/facts.md, 'Measured results')"),
}
"""Where each constant below comes from, by tag."""

FORWARD_FLOPS_PER_PARAM_TOKEN = 2.0
"""Forward pass: a multiply and an add per parameter per token [FLOP] (``lecture``)."""

BACKWARD_FLOPS_PER_PARAM_TOKEN = 4.0
"""Backward pass: gradients w.r.t. activations and weights, twice the forward [FLOP] (``lecture``)."""

TRAINING_FLOPS_PER_PARAM_TOKEN = FORWARD_FLOPS_PER_PARAM_TOKEN + BACKWARD_FLOPS_PER_PARAM_TOKEN
"""The 6 in 6ND [FLOP]."""

CHINCHILLA_TOKENS_PER_PARAM = 20.0
"""Compute-optimal pre-training tokens per parameter [tokens] (``chinchilla``)."""

LECTURE_RL_FLOPS_PER_PARAM_TOKEN = 3.0
"""The lecture's pick inside the 2-to-6 range for RL [FLOP] (``lecture``)."""

LECTURE_INEFFICIENCY = 3.0
"""The lecture's decode inefficiency factor (MFU penalty) [dimensionless] (``lecture``)."""

LECTURE_SERVING_TOKENS_PER_S = 50e6
"""The lecture's serving rate of one frontier model across all its users [tokens/s] (``lecture``)."""

LECTURE_DEPLOYMENT_DAYS = 60.0
"""The lecture's lifetime of one model version in deployment [days] (``lecture``)."""

LECTURE_ACTIVE_PARAMS = llms.LECTURE_100B.active_params
"""The lecture's ~100B active parameters [count] (``lecture``, via the presets)."""

LECTURE_ROUNDED_INFERENCE_TOKENS = 200e12
"""The lecture's rounded "~200T tokens" served (the exact product is 259.2T) [tokens] (``lecture``)."""

PALM_PREFILL_MFU_LARGE_BATCH = 0.76
"""PaLM 540B prefill of 2,048 tokens at batch 512: MFU [fraction] (``pope-2022``)."""

PALM_DECODE_MFU_LARGE_BATCH = 0.33
"""PaLM 540B decode at batch 512: MFU [fraction] (``pope-2022``)."""

PALM_PREFILL_MFU_LOW_LATENCY = 0.43
"""PaLM 540B prefill in the low-latency setting: MFU [fraction] (``pope-2022``)."""

PALM_DECODE_MFU_LOW_LATENCY = 0.14
"""PaLM 540B decode in the low-latency setting: MFU [fraction] (``pope-2022``)."""

LECTURE_DECODE_MFU_VS_PREFILL = 1 / 5
"""The lecture's later estimate (01:33:02) of decode MFU as a share of prefill MFU [fraction] (``lecture``)."""


def pretraining_flops(active_params, tokens):
    """6*N*D [FLOP]."""
    return TRAINING_FLOPS_PER_PARAM_TOKEN * active_params * tokens


def _check_rl_factor(flops_per_param_token: float) -> None:
    if not FORWARD_FLOPS_PER_PARAM_TOKEN <= flops_per_param_token <= TRAINING_FLOPS_PER_PARAM_TOKEN:
        raise ValueError("RL FLOPs per parameter per token must lie between 2 (forward only) and 6 (trained on)")


def _check_inefficiency(inefficiency: float) -> None:
    if not inefficiency > 0:
        raise ValueError("the inefficiency factor must be positive (1 = decode as efficient as training)")


PENALTY_TARGETS = ("all", "decode")
"""Which RL FLOPs the decode inefficiency multiplies: all of them (lecture) or the decoded ones only."""


def rl_charged_flops_per_param_token(flops_per_param_token: float = LECTURE_RL_FLOPS_PER_PARAM_TOKEN,
                             inefficiency: float = LECTURE_INEFFICIENCY, penalty_on: str = "all") -> float:
    """Training-MFU-equivalent RL FLOPs per parameter per rollout token [FLOP].

    "all": r * inefficiency (lecture). "decode": 2 * inefficiency + (r - 2),
    the 2 forward FLOPs decoded at low MFU, the rest trained at full MFU.
    """
    _check_rl_factor(flops_per_param_token)
    _check_inefficiency(inefficiency)
    if penalty_on == "all":
        return flops_per_param_token * inefficiency
    if penalty_on == "decode":
        return FORWARD_FLOPS_PER_PARAM_TOKEN * inefficiency + (flops_per_param_token - FORWARD_FLOPS_PER_PARAM_TOKEN)
    raise ValueError(f"penalty_on must be one of {', '.join(PENALTY_TARGETS)}, not {penalty_on!r}")


def rl_flops(active_params, tokens, flops_per_param_token: float = LECTURE_RL_FLOPS_PER_PARAM_TOKEN,
             inefficiency: float = LECTURE_INEFFICIENCY, penalty_on: str = "all"):
    """(2 to 6)*N*D_RL*inefficiency [FLOP]; 2 = rollouts only, 6 = rollouts trained on.

    ``penalty_on="decode"`` charges the inefficiency on the 2 decoded FLOPs only.
    """
    return rl_charged_flops_per_param_token(flops_per_param_token, inefficiency, penalty_on) * active_params * tokens


def inference_flops(active_params, tokens, inefficiency: float = LECTURE_INEFFICIENCY):
    """2*N*D_inf*inefficiency [FLOP]."""
    _check_inefficiency(inefficiency)
    return FORWARD_FLOPS_PER_PARAM_TOKEN * active_params * tokens * inefficiency


@dataclass(frozen=True)
class EqualCostTokens:
    """Token counts at which the three budgets cost the same, relative to D_pre = 1."""

    pretrain: float
    rl: float
    inference: float


def equal_cost_tokens(rl_flops_per_param_token: float = LECTURE_RL_FLOPS_PER_PARAM_TOKEN,
                      inefficiency: float = LECTURE_INEFFICIENCY, penalty_on: str = "all") -> EqualCostTokens:
    """Solve 6*D_pre = rl*ineff*D_RL = 2*ineff*D_inf with D_pre = 1 [relative tokens].

    ``penalty_on="decode"`` uses (2*ineff + rl - 2) for the RL term.
    """
    per_token = rl_charged_flops_per_param_token(rl_flops_per_param_token, inefficiency, penalty_on)
    return EqualCostTokens(
        pretrain=1.0,
        rl=TRAINING_FLOPS_PER_PARAM_TOKEN / per_token,
        inference=TRAINING_FLOPS_PER_PARAM_TOKEN / (FORWARD_FLOPS_PER_PARAM_TOKEN * inefficiency),
    )


def tokens_served(tokens_per_s, days):
    """Tokens a deployment serves at a steady rate over some days [tokens]."""
    return tokens_per_s * days * SECONDS_PER_DAY


def chinchilla_tokens(params, tokens_per_param: float = CHINCHILLA_TOKENS_PER_PARAM):
    """Compute-optimal pre-training tokens for a model size [tokens]."""
    return tokens_per_param * params


def overtraining_factor(pretrain_tokens, params):
    """How many times more tokens than Chinchilla-optimal a model was trained on [x]."""
    return pretrain_tokens / chinchilla_tokens(params)


def decode_inefficiency(big_matmul_mfu: float, decode_mfu: float) -> float:
    """How many times more hardware time a decoded FLOP takes than a training/prefill FLOP [x].

    Training and prefill multiply large token blocks by each weight, as the
    lecture's 6ND assumes; decode does one token per sequence per step, so its
    MFU is lower. The ratio of the two MFUs is the lecture's "inefficiency".
    """
    if not (0 < decode_mfu <= 1 and 0 < big_matmul_mfu <= 1):
        raise ValueError("MFUs are fractions in (0, 1]")
    return big_matmul_mfu / decode_mfu


def optimal_pretrain_tokens(inference_tokens, inefficiency: float = LECTURE_INEFFICIENCY):
    """Pre-training tokens whose compute equals that of serving ``inference_tokens`` [tokens].

    From 6*N*D_pre = 2*N*D_inf*inefficiency: D_pre = D_inf * 2*inefficiency/6,
    independent of the model size N.
    """
    ratios = equal_cost_tokens(inefficiency=inefficiency)
    return inference_tokens * ratios.pretrain / ratios.inference


@dataclass(frozen=True)
class DeploymentBudget:
    """The equal-cost plan for one deployment; arrays broadcast over ``active_params``.

    Attributes:
        active_params: active parameters N [count].
        inference_tokens, pretrain_tokens, rl_tokens: D_inf, D_pre, D_RL [tokens].
        pretrain_flops, rl_flops, inference_flops: the three budgets, equal by construction [FLOP].
        chinchilla_tokens: 20*N [tokens].
        overtraining_factor: D_pre / (20*N) [x].
    """

    active_params: float | np.ndarray
    inference_tokens: float
    pretrain_tokens: float
    rl_tokens: float
    pretrain_flops: float | np.ndarray
    rl_flops: float | np.ndarray
    inference_flops: float | np.ndarray
    chinchilla_tokens: float | np.ndarray
    overtraining_factor: float | np.ndarray

    @property
    def total_flops(self):
        """Pre-training + RL + inference [FLOP]."""
        return self.pretrain_flops + self.rl_flops + self.inference_flops


def equal_cost_budget(tokens_per_s, days, active_params,
                      rl_flops_per_param_token: float = LECTURE_RL_FLOPS_PER_PARAM_TOKEN,
                      inefficiency: float = LECTURE_INEFFICIENCY, penalty_on: str = "all") -> DeploymentBudget:
    """Tokens and compute of each phase when all three budgets equal the inference budget [tokens, FLOP].

    Args:
        tokens_per_s: serving rate over all users [tokens/s].
        days: deployment length [days].
        active_params: active parameters N [count] (float or array).
        rl_flops_per_param_token: 2 (rollouts only) to 6 (rollouts trained on) [FLOP].
        inefficiency: training MFU / decode MFU [dimensionless].
        penalty_on: "all" RL FLOPs (lecture) or the "decode"d ones only.
    """
    ratios = equal_cost_tokens(rl_flops_per_param_token, inefficiency, penalty_on)
    d_inf = tokens_served(tokens_per_s, days)
    d_pre = d_inf * ratios.pretrain / ratios.inference
    d_rl = d_pre * ratios.rl
    return DeploymentBudget(
        active_params=active_params,
        inference_tokens=d_inf,
        pretrain_tokens=d_pre,
        rl_tokens=d_rl,
        pretrain_flops=pretraining_flops(active_params, d_pre),
        rl_flops=rl_flops(active_params, d_rl, rl_flops_per_param_token, inefficiency, penalty_on),
        inference_flops=inference_flops(active_params, d_inf, inefficiency),
        chinchilla_tokens=chinchilla_tokens(active_params),
        overtraining_factor=overtraining_factor(d_pre, active_params),
    )
