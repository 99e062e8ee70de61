"""Exercises of segment 5, "Because of RL, models may be 100x over-trained beyond Chinchilla-optimal"."""

from __future__ import annotations

from course.exercise import HINT_UNIT_1000, ChoiceExercise, Exercise, Mistake, off_by
from course.presets import llms
from course.variants import Family
from course.models import compute_budget as cb
from course.units import SECONDS_PER_DAY


UNIT_1000_MISTAKES = off_by(1000.0, HINT_UNIT_1000)
"""Slips of a factor 1000 either way (thousands vs millions vs billions)."""

HINT_RATIO_FACTOR_TWO = ("You are off by exactly a factor of 2: write out 6 N D_pre = r N D_RL κ "
                         "with the lecture's r and inefficiency, and solve it for D_pre / D_RL.")
HINT_TOKENS_FACTOR_TWO = ("You are off by exactly a factor of 2: the tokens served are just rate x days x "
                          "seconds per day; the 2 FLOPs per token belong to the compute, not to the token count.")
HINT_CHINCHILLA_FACTOR_TWO = ("You are off by exactly a factor of 2: Chinchilla's rule is twenty tokens per "
                              "parameter, with no FLOP factor in it.")
HINT_OVERTRAINING_FACTOR_TWO = ("You are off by exactly a factor of 2: with κ = 3, "
                                "6 D_pre = 2 x 3 x D_inf makes D_pre equal to D_inf, and Chinchilla's count is "
                                "twenty tokens per parameter.")
HINT_INEFFICIENCY_FACTOR_TWO = ("You are off by exactly a factor of 2: the inefficiency is one MFU divided by the "
                                "other, with nothing else multiplied in.")

BACKWARD_FLOPS_REASON = ChoiceExercise(
    variable="backward_flops_reason",
    options={
        "a": "The backward pass reruns the forward pass twice over, to recompute all the activations it did not store.",
        "b": "Each weight matrix enters two backward matmuls, each as large as the forward: input and weight gradients.",
        "c": "The optimizer (Adam) spends about 4 FLOPs per parameter per token updating its first and second moments.",
        "d": "Gradients are accumulated in fp32, and an fp32 multiply-add counts as twice the FLOPs of a bf16 multiply-add.",
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

KAPPA = cb.LECTURE_INEFFICIENCY
"""Segment 5's decode inefficiency κ = training MFU / decode MFU, >= 1 (segment 4's η is an efficiency, <= 1)."""


FORWARD_KAPPA_ONLY = cb.FORWARD_FLOPS_PER_PARAM_TOKEN * KAPPA / cb.TRAINING_FLOPS_PER_PARAM_TOKEN
"""The slip of charging only the 2 decoded FLOPs (2κ / 6) [dimensionless]."""


def _pretrain_over_rl_decode_only(rl_flops_per_param_token: float = cb.LECTURE_RL_FLOPS_PER_PARAM_TOKEN) -> float:
    tokens = cb.equal_cost_tokens(rl_flops_per_param_token, KAPPA, penalty_on="decode")
    return tokens.pretrain / tokens.rl


PRETRAIN_OVER_RL_DECODE_ONLY = Exercise(
    variable="pretrain_over_rl_decode_only",
    unit="a ratio of token counts (dimensionless)",
    expected=_pretrain_over_rl_decode_only,
    mistakes=(
        Mistake(lambda e: _pretrain_over_rl(),
                "That is the lecture's reading, with κ on all r FLOPs. Here only the 2 forward FLOPs of a rollout "
                "token are decoded; the r - 2 trained-on FLOPs run at training MFU."),
        Mistake(lambda e: 1 / e, "You inverted the ratio: an RL token still costs more than a pre-training token, "
                                 "so D_pre is the larger count."),
        Mistake(lambda e: FORWARD_KAPPA_ONLY,
                "You charged the 2 decoded FLOPs but dropped the r - 2 trained-on FLOPs: they still cost "
                "compute, at training MFU."),
        Mistake(lambda e: _pretrain_over_rl(inefficiency=1.0),
                "You left out κ altogether: the decoded forward FLOPs still run at decode MFU."),
        *UNIT_1000_MISTAKES,
    ),
    magnitude=(1e-4, 1e4),
)
"""D_pre / D_RL with κ charged on the decoded FLOPs only, r = 3, κ = 3: 6 / 7 inverted, 7/6 [dimensionless]."""

PENALTY_ARGUMENT = ChoiceExercise(
    variable="penalty_argument_error",
    options={
        "a": "RL never decodes: a reward model scores the rollouts in one prefill pass, so no RL FLOP pays κ.",
        "b": "κ must also multiply pre-training, since training also reads every weight from memory each step.",
        "c": "Only the 2 forward FLOPs of a rollout token are decoded; backward FLOPs run at training MFU.",
        "d": "r should be 6 whatever is trained on, because the backward pass runs for every rollout token.",
    },
    correct="c",
    hints={
        "a": "Rollouts are written one token at a time, which is decoding; scoring them is the cheap part.",
        "b": "Training multiplies thousands of tokens by each weight it reads, so it runs near full MFU: "
             "κ is measured relative to it.",
        "d": "Only the rollout tokens that are trained on get a backward pass; the rest are only decoded.",
    },
)
"""Find the error in 'every RL FLOP pays the decode penalty' (choice)."""

CHANGE_SCENARIO = dict(kappa_before=KAPPA, kappa_after=2.0, params_before=cb.LECTURE_ACTIVE_PARAMS,
                       params_after=25e9)
"""Exercise 10: better batching lowers κ from 3 to 2 while the lab moves from a 100B to a 25B model."""


def _overtraining_at(kappa: float, params: float) -> float:
    budget = cb.equal_cost_budget(cb.LECTURE_SERVING_TOKENS_PER_S, cb.LECTURE_DEPLOYMENT_DAYS, params,
                                  inefficiency=kappa)
    return float(budget.overtraining_factor)


def _overtraining_change(kappa_moves: bool = True, params_move: bool = True) -> float:
    s = CHANGE_SCENARIO
    after = _overtraining_at(s["kappa_after"] if kappa_moves else s["kappa_before"],
                             s["params_after"] if params_move else s["params_before"])
    return after / _overtraining_at(s["kappa_before"], s["params_before"])


OVERTRAINING_CHANGE = Exercise(
    variable="overtraining_change",
    unit="times the old over-training factor (dimensionless)",
    expected=_overtraining_change,
    mistakes=(
        Mistake(lambda e: _overtraining_change(kappa_moves=False),
                "You kept κ at 3. D_pre = D_inf κ / 3 follows κ: a cheaper inference bill is matched by less "
                "pre-training."),
        Mistake(lambda e: _overtraining_change(params_move=False),
                "You kept the model size. D_pre does not depend on N, but Chinchilla's 20 N does."),
        Mistake(lambda e: _overtraining_change(params_move=True, kappa_moves=False)
                * CHANGE_SCENARIO["kappa_before"] / CHANGE_SCENARIO["kappa_after"],
                "κ moved the wrong way: a lower κ makes inference cheaper, so the optimum pre-trains on fewer "
                "tokens, not more."),
        Mistake(lambda e: 1 / e, "You inverted the change: give new factor / old factor."),
        *UNIT_1000_MISTAKES,
    ),
    magnitude=(1e-4, 1e4),
)
"""New over-training factor / old when κ goes 3 -> 2 and N 100B -> 25B at the lecture's traffic [x]."""


# --- families: the same skills on each learner's own numbers ----------------------------------------------

FAMILY_MODELS = (
    (llms.DEEPSEEK_V3.name, llms.DEEPSEEK_V3.active_params / 1e9),
    (llms.LLAMA_3_70B.name, llms.LLAMA_3_70B.active_params / 1e9),
    ("a 3B dense model", 3.0),
    ("an 8B dense model", 8.0),
    ("a 14B dense model", 14.0),
    ("a 32B dense model", 32.0),
    ("the lecture's 100B model", llms.LECTURE_100B.active_params / 1e9),
    ("a 175B dense model", 175.0),
    ("a 400B dense model", 400.0),
)
"""(name, active parameters in billions) a family may draw [count / 1e9]."""

RATES_M = (1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 70, 80, 100)
"""Serving rates a family may draw [million tokens/s]."""

DAYS = (7, 14, 28, 30, 45, 60, 90, 100, 120, 150, 180, 200, 270, 365)
"""Deployment lengths a family may draw [days]."""


def _draw_deployment(rng) -> dict:
    """A model and traffic whose equal-cost optimum trains on at least Chinchilla's tokens (factor >= 1)."""
    while True:
        model, active_b = rng.choice(FAMILY_MODELS)
        params = {"model": model, "active_b": active_b, "rate_m": rng.choice(RATES_M), "days": rng.choice(DAYS)}
        if _my_overtraining(params) >= 1:
            return params


def _my_overtraining(p) -> float:
    budget = cb.equal_cost_budget(p["rate_m"] * 1e6, p["days"], p["active_b"] * 1e9)
    return float(budget.overtraining_factor)


MY_OVERTRAINING = Family(
    key="05-overtraining",
    variable="my_overtraining",
    unit="times (dimensionless)",
    draw=_draw_deployment,
    statement=("Your lab serves **{model}** ({active_b:g}B active parameters) at **{rate_m}M tokens/s** for "
               "**{days} days**, with the lecture's κ = 3. How many times Chinchilla's token count does the "
               "equal-cost optimum pre-train it on? Set `my_overtraining` (a plain factor)."),
    answer=_my_overtraining,
    mistakes=lambda p: (
        Mistake(lambda e: 1 / e, HINT_INVERTED_OVERTRAINING),
        Mistake(lambda e: e * cb.CHINCHILLA_TOKENS_PER_PARAM, HINT_TOKENS_PER_PARAM),
        Mistake(lambda e: e / _pretrain_over_rl(), HINT_USED_RL_TOKENS),
        Mistake(lambda e: e / SECONDS_PER_DAY,
                "You are missing the seconds in a day: the rate is per second, the deployment is in days."),
        *UNIT_1000_MISTAKES,
    ),
    magnitude=(1e-6, 1e9),
)
"""Exercise 6b: the over-training factor of exercise 6 for the learner's own model, rate and days [x]."""

RL_FACTORS = (2, 3, 4, 5, 6)
"""RL FLOPs per parameter per token a family may draw [FLOP]."""

KAPPAS = (2, 3, 4, 5)
"""Decode inefficiencies a family may draw [x]."""


def _draw_rl(rng) -> dict:
    return {"rate_m": rng.choice(RATES_M), "days": rng.choice(DAYS), "r": rng.choice(RL_FACTORS),
            "kappa": rng.choice(KAPPAS)}


def _my_rl_tokens(p, penalty_on: str = "all") -> float:
    budget = cb.equal_cost_budget(p["rate_m"] * 1e6, p["days"], 1.0, p["r"], p["kappa"], penalty_on)
    return float(budget.rl_tokens)


MY_RL_TOKENS = Family(
    key="05-rl-tokens",
    variable="my_rl_tokens",
    unit="tokens",
    draw=_draw_rl,
    statement=("A model is served at **{rate_m}M tokens/s** for **{days} days**. Its RL spends **r = {r}** FLOPs per "
               "parameter per rollout token (2: rollouts only; 6: every rollout token trained on), and decoding is **κ = {kappa}** times less "
               "efficient than training. With the lecture's accounting (κ on all RL FLOPs, as in exercise 2), "
               "how many RL tokens $D_\\text{{RL}}$ does the equal-cost optimum use? Set `my_rl_tokens` (tokens)."),
    answer=_my_rl_tokens,
    mistakes=lambda p: (
        Mistake(lambda e: e * p["r"] * p["kappa"] / cb.TRAINING_FLOPS_PER_PARAM_TOKEN,
                "That is D_pre, the pre-training tokens; D_RL follows from 6 D_pre = r κ D_RL."),
        Mistake(lambda e: e * p["r"] / cb.FORWARD_FLOPS_PER_PARAM_TOKEN,
                "That is D_inf, the tokens served; the optimum's RL tokens follow from r κ D_RL = 2 κ D_inf."),
        Mistake(lambda e: _my_rl_tokens(p, "decode"),
                "That charges κ on the decoded FLOPs only; this exercise uses the lecture's accounting."),
        Mistake(lambda e: e / SECONDS_PER_DAY,
                "You are missing the seconds in a day: the rate is per second, the deployment is in days."),
        *UNIT_1000_MISTAKES,
    ),
    magnitude=(1e6, 1e20),
)
"""Exercise 2b: RL tokens at the equal-cost optimum for the learner's own traffic, r and κ [tokens]."""

EXERCISES = (
    BACKWARD_FLOPS_REASON,
    PRETRAIN_OVER_RL_TOKENS,
    MY_RL_TOKENS,
    INFERENCE_TOKENS,
    CHINCHILLA_TOKENS_100B,
    OVERTRAINING_ROUNDED,
    OVERTRAINING_EXACT,
    MY_OVERTRAINING,
    MEASURED_INEFFICIENCY,
    PRETRAIN_OVER_RL_DECODE_ONLY,
    PENALTY_ARGUMENT,
    OVERTRAINING_CHANGE,
)
"""Every exercise of the segment, in notebook order."""
