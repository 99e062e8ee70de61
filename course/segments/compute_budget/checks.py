"""Exercises of segment 5, "Because of RL, models may be 100x over-trained beyond Chinchilla-optimal"."""

from __future__ import annotations

from course.exercise import HINT_UNIT_1000, ChoiceExercise, Exercise, Mistake, off_by
from course.models import compute_budget as cb
from course.units import SECONDS_PER_DAY


UNIT_1000_MISTAKES = off_by(1000.0, HINT_UNIT_1000)
"""Slips of a factor 1000 either way (thousands vs millions vs billions)."""

HINT_RATIO_FACTOR_TWO = ("You are off by exactly a factor of 2: write out 6 N D_pre = r N D_RL x inefficiency "
                         "with the lecture's r and inefficiency, and solve it for D_pre / D_RL.")
HINT_TOKENS_FACTOR_TWO = ("You are off by exactly a factor of 2: the tokens served are just rate x days x "
                          "seconds per day; the 2 FLOPs per token belong to the compute, not to the token count.")
HINT_CHINCHILLA_FACTOR_TWO = ("You are off by exactly a factor of 2: Chinchilla's rule is twenty tokens per "
                              "parameter, with no FLOP factor in it.")
HINT_OVERTRAINING_FACTOR_TWO = ("You are off by exactly a factor of 2: with an inefficiency of 3, "
                                "6 D_pre = 2 x 3 x D_inf makes D_pre equal to D_inf, and Chinchilla's count is "
                                "twenty tokens per parameter.")
HINT_INEFFICIENCY_FACTOR_TWO = ("You are off by exactly a factor of 2: the inefficiency is one MFU divided by the "
                                "other, with nothing else multiplied in.")

BACKWARD_FLOPS_REASON = ChoiceExercise(
    variable="backward_flops_reason",
    options={
        "a": "The backward pass runs the forward pass twice more, to recompute the activations it needs.",
        "b": "Every weight matrix enters two matmuls on the way back, each as large as its forward matmul: "
             "one gives the gradient with respect to the layer's input (passed on to the layer below), the "
             "other the gradient with respect to the weights themselves.",
        "c": "The optimizer (Adam) spends about 4 FLOPs per parameter per token updating its moment estimates.",
        "d": "Gradients are accumulated in fp32, which takes twice as many FLOPs as bf16 arithmetic.",
    },
    correct="b",
    hints={
        "a": "Recomputing activations (checkpointing) is an optional memory-saving trick that adds FLOPs on top; "
             "it is not part of the standard count. Think about which products the chain rule needs.",
        "c": "The optimizer touches each parameter once per update step, not once per token: spread over the "
             "millions of tokens in a batch it is negligible.",
        "d": "Precision changes how fast a FLOP runs, not how many FLOPs a matmul needs.",
    },
)
"""Why the backward pass costs 4 FLOPs per parameter per token, twice the forward."""


def _pretrain_over_rl(rl_flops_per_param_token: float = cb.LECTURE_RL_FLOPS_PER_PARAM_TOKEN,
                      inefficiency: float = cb.LECTURE_INEFFICIENCY) -> float:
    tokens = cb.equal_cost_tokens(rl_flops_per_param_token, inefficiency)
    return tokens.pretrain / tokens.rl


PRETRAIN_OVER_RL_TOKENS = Exercise(
    variable="pretrain_over_rl_tokens",
    unit="a ratio of token counts (dimensionless)",
    expected=_pretrain_over_rl,
    mistakes=(
        Mistake(lambda e: 1 / e, "You inverted the ratio. An RL token costs more compute than a pre-training "
                                 "token once the decode inefficiency is counted, so the same budget buys fewer "
                                 "RL tokens: D_pre is the larger of the two."),
        Mistake(lambda e: _pretrain_over_rl(inefficiency=1.0),
                "You left out the inefficiency: RL rollouts are decoded, at a lower MFU than training, so each "
                "RL FLOP costs several times more hardware time."),
        Mistake(lambda e: _pretrain_over_rl(rl_flops_per_param_token=cb.TRAINING_FLOPS_PER_PARAM_TOKEN),
                "That takes the top of the range (every rollout trained on, 6 FLOPs per parameter per token); "
                "use the lecture's RL factor of 3."),
        *off_by(2.0, HINT_RATIO_FACTOR_TWO),
    ),
    magnitude=(1e-3, 1e3),
)
"""D_pre / D_RL at the equal-cost optimum with the lecture's factors [dimensionless]."""


def _inference_tokens() -> float:
    return cb.tokens_served(cb.LECTURE_SERVING_TOKENS_PER_S, cb.LECTURE_DEPLOYMENT_DAYS)


INFERENCE_TOKENS = Exercise(
    variable="inference_tokens_60_days",
    unit="tokens",
    expected=_inference_tokens,
    mistakes=(
        Mistake(lambda e: cb.LECTURE_ROUNDED_INFERENCE_TOKENS,
                "That is the lecture's rounded figure; this exercise wants the exact product of rate, days "
                "and seconds per day."),
        Mistake(lambda e: e / SECONDS_PER_DAY,
                "You are missing the seconds in a day: the rate is per second, the deployment is in days."),
        Mistake(lambda e: e / 24, "You multiplied by the seconds in an hour, not in a day (24 hours of them)."),
        Mistake(lambda e: e / 1e6, "You are off by a factor of a million: 50M tokens/s is 50 x 10^6, not 50."),
        *off_by(2.0, HINT_TOKENS_FACTOR_TWO),
        *UNIT_1000_MISTAKES,
    ),
    magnitude=(1e3, 1e20),
)
"""Tokens served at 50M tokens/s for 60 days [tokens] (the lecture rounds the product down to ~200T)."""


def _chinchilla_100b() -> float:
    return cb.chinchilla_tokens(cb.LECTURE_ACTIVE_PARAMS)


CHINCHILLA_TOKENS_100B = Exercise(
    variable="chinchilla_tokens_100b",
    unit="tokens",
    expected=_chinchilla_100b,
    mistakes=(
        Mistake(lambda e: cb.LECTURE_ACTIVE_PARAMS / cb.CHINCHILLA_TOKENS_PER_PARAM,
                "You divided by 20. Chinchilla's rule is about 20 training tokens for every parameter, "
                "so the token count is larger than the parameter count."),
        Mistake(lambda e: e * 1e3, "You are off by a factor of 1000: 100B is 100 x 10^9 (a billion is 10^9)."),
        *off_by(2.0, HINT_CHINCHILLA_FACTOR_TWO),
        *UNIT_1000_MISTAKES,
    ),
    magnitude=(1e3, 1e18),
)
"""Chinchilla-optimal pre-training tokens for a 100B-parameter model [tokens]."""


def _overtraining_rounded() -> float:
    rounded_pretrain = cb.optimal_pretrain_tokens(cb.LECTURE_ROUNDED_INFERENCE_TOKENS)
    return cb.overtraining_factor(rounded_pretrain, cb.LECTURE_ACTIVE_PARAMS)


def _overtraining_exact(inefficiency: float = cb.LECTURE_INEFFICIENCY) -> float:
    pretrain = cb.optimal_pretrain_tokens(_inference_tokens(), inefficiency)
    return cb.overtraining_factor(pretrain, cb.LECTURE_ACTIVE_PARAMS)


HINT_INVERTED_OVERTRAINING = ("You divided the Chinchilla tokens by the pre-training tokens. The factor says how "
                              "many times *more* tokens the model sees than Chinchilla asks for, so it is "
                              "pre-training tokens / Chinchilla tokens.")
HINT_TOKENS_PER_PARAM = ("That is pre-training tokens per parameter. Chinchilla already allows 20 tokens per "
                         "parameter: divide by Chinchilla's token count, not by the parameter count.")
HINT_USED_RL_TOKENS = ("You used the RL tokens. At the optimum the pre-training tokens are the ones that match "
                       "the inference tokens; D_RL is smaller.")

OVERTRAINING_ROUNDED = Exercise(
    variable="overtraining_rounded",
    unit="times (dimensionless)",
    expected=_overtraining_rounded,
    mistakes=(
        Mistake(lambda e: _overtraining_exact(),
                "That uses the exact inference tokens; this exercise follows the lecture's rounded ~200T."),
        Mistake(lambda e: 1 / e, HINT_INVERTED_OVERTRAINING),
        Mistake(lambda e: e * cb.CHINCHILLA_TOKENS_PER_PARAM, HINT_TOKENS_PER_PARAM),
        Mistake(lambda e: e / _pretrain_over_rl(), HINT_USED_RL_TOKENS),
        *off_by(2.0, HINT_OVERTRAINING_FACTOR_TWO),
        *UNIT_1000_MISTAKES,
    ),
    magnitude=(1e-6, 1e8),
)
"""The lecture's over-training factor, with its rounded ~200T of pre-training tokens [x]."""

OVERTRAINING_EXACT = Exercise(
    variable="overtraining_exact",
    unit="times (dimensionless)",
    expected=_overtraining_exact,
    mistakes=(
        Mistake(lambda e: _overtraining_rounded(),
                "That is the lecture's rounded result; use your exact inference tokens from exercise 3."),
        Mistake(lambda e: 1 / e, HINT_INVERTED_OVERTRAINING),
        Mistake(lambda e: e * cb.CHINCHILLA_TOKENS_PER_PARAM, HINT_TOKENS_PER_PARAM),
        Mistake(lambda e: e / _pretrain_over_rl(), HINT_USED_RL_TOKENS),
        *off_by(2.0, HINT_OVERTRAINING_FACTOR_TWO),
        *UNIT_1000_MISTAKES,
    ),
    magnitude=(1e-6, 1e8),
)
"""The over-training factor with the unrounded inference tokens [x]."""


def _measured_inefficiency() -> float:
    return cb.decode_inefficiency(cb.PALM_PREFILL_MFU_LARGE_BATCH, cb.PALM_DECODE_MFU_LARGE_BATCH)


MEASURED_INEFFICIENCY = Exercise(
    variable="measured_inefficiency",
    unit="times (dimensionless)",
    expected=_measured_inefficiency,
    mistakes=(
        Mistake(lambda e: 1 / e, "You inverted it. The inefficiency says how many times *longer* decode takes per "
                                 "FLOP, so it is the prefill MFU divided by the decode MFU, above 1."),
        Mistake(lambda e: cb.decode_inefficiency(cb.PALM_PREFILL_MFU_LOW_LATENCY, cb.PALM_DECODE_MFU_LOW_LATENCY),
                "That is the low-latency pair; this exercise asks for the large-batch measurements (batch 512)."),
        Mistake(lambda e: cb.LECTURE_INEFFICIENCY,
                "That is the lecture's assumed factor; compute it from the measured MFUs instead."),
        *off_by(2.0, HINT_INEFFICIENCY_FACTOR_TWO),
    ),
    magnitude=(1e-3, 1e3),
)
"""Reality check: PaLM 540B's large-batch prefill MFU over decode MFU (Pope et al. 2022) [x]."""

EXERCISES = (
    BACKWARD_FLOPS_REASON,
    PRETRAIN_OVER_RL_TOKENS,
    INFERENCE_TOKENS,
    CHINCHILLA_TOKENS_100B,
    OVERTRAINING_ROUNDED,
    OVERTRAINING_EXACT,
    MEASURED_INEFFICIENCY,
)
"""Every exercise of the segment, in notebook order."""
