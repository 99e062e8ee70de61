"""Exercises of segment 3, "How pipeline parallelism moves model layers across racks"."""

from __future__ import annotations

import math

from course.exercise import HINT_UNIT_1000, ChoiceExercise, Exercise, Mistake, off_by
from course.models import kv_cache, memory, pipeline, roofline
from course.presets import chips, llms
from course.variants import Family

HINT_BUSY_SHARE = "That is the share of time a stage is busy; the bubble is the idle share."
HINT_PERCENT = "Give a fraction of the whole, not a percentage: divide by a hundred."
HINT_DENOMINATOR = ("Divide by the length of the whole schedule: the last micro-batch leaves the last stage after "
                    "m + p - 1 slots, not m.")
HINT_P_NOT_P_MINUS_1 = ("Count the idle slots again: the first stage starts at once, so every stage idles p - 1 "
                        "slots, not p.")
HINT_FILL_AND_DRAIN_TWICE = ("You are off by a factor of 2: a stage that starts late also finishes early, so each "
                             "stage idles p - 1 slots in all (start plus end), not p - 1 at each end.")
HINT_ROUND_UP = ("Micro-batches come in whole numbers, and with fewer than the bound the bubble is still above the "
                 "target: round the bound up.")
HINT_DROPPED_ONE_MINUS = ("Solve (p - 1) / (m + p - 1) <= target for m again: the p - 1 appears on both sides, "
                          "which leaves a factor (1 - target).")
HINT_ONE_MICROBATCH = ("That is one micro-batch. A sequence's next token cannot start until its current one has "
                       "left the last stage, so each of the p stages needs a micro-batch of its own.")
HINT_P_MINUS_1_MICROBATCHES = ("The first stage needs a micro-batch too: keeping p stages busy takes p micro-batches "
                               "in flight, not p - 1.")
HINT_DOUBLE_MICROBATCHES = ("You are off by a factor of 2: decode has no backward pass and no flush, so one "
                            "micro-batch per stage already keeps every stage busy.")
HINT_INVERTED_SPARSITY = ("Each micro-batch should reach the critical batch, 300 divided by the active share "
                          "(segment 1); it looks like you multiplied by the share.")
HINT_ALL_WEIGHTS = "You compared with all the weights; a stage holds only its 1/p share of them."
HINT_KV_TIMES_P = ("A stage holds the KV cache of its own layers only: 1/p of each of the p x b sequences in flight, "
                   "so the p cancels and KV per stage is b x context x bytes per token.")
HINT_BYTES_TWO = ("You are off by a factor of 2: the weights are served in fp8 (1 byte each), and the KV figure "
                  "is already the bytes per token for all layers, K and V included.")
HINT_KV_OVER_WEIGHTS = ("That is KV over weights. The question asks for the KV cache's share of the stage's "
                        "memory: KV / (KV + weights).")
HINT_WEIGHT_SHARE = "That is the weights' share of the stage's memory; the question asks for the KV cache's share."
HINT_SHARE_ABOVE_ONE = ("A share cannot be more than the whole: divide the stage's KV cache by its KV cache plus "
                        "its weights.")

BUBBLE_EXERCISE = dict(stages=4, microbatches=8)
"""Exercise 1: a GPipe schedule over 4 stages with 8 micro-batches."""

MICROBATCH_EXERCISE = dict(stages=8, max_bubble=0.03)
"""Exercise 2: 8 stages, bubble at most 3%."""

INFERENCE_SCENARIO = dict(
    llm=llms.DEEPSEEK_V3,
    stages=8,
    weight_bytes_per_param=roofline.FP8.weight_bytes_per_param,
)
"""Exercises 3 to 5: DeepSeek-V3 served in fp8 across 8 pipeline stages (one rack each)."""


def scenario_sequences_per_microbatch() -> float:
    """Sequences per micro-batch in exercises 3 to 5: the lecture's DeepSeek critical batch, 300 / (32/256)."""
    return roofline.critical_batch_from_balance(roofline.LECTURE_FLOPS_PER_BYTE,
                                                llms.LECTURE_DEEPSEEK_ACTIVE_FRACTION)


def scenario_weight_bytes() -> float:
    """All of DeepSeek-V3's weights in fp8 [bytes]."""
    return INFERENCE_SCENARIO["llm"].total_params * INFERENCE_SCENARIO["weight_bytes_per_param"]


def scenario_kv_bytes_per_token() -> float:
    """DeepSeek-V3's MLA KV cache per token in bf16 [bytes/token]."""
    return kv_cache.kv_bytes_per_token(INFERENCE_SCENARIO["llm"])


def _bubble() -> float:
    return pipeline.bubble_fraction(**BUBBLE_EXERCISE)


_P1, _M1 = BUBBLE_EXERCISE["stages"], BUBBLE_EXERCISE["microbatches"]

BUBBLE_FRACTION = Exercise(
    variable="bubble_fraction_4_stages",
    unit="fraction of the schedule (0 to 1)",
    expected=_bubble,
    mistakes=(
        Mistake(lambda e: 1 - e, HINT_BUSY_SHARE),
        Mistake(lambda e: e * 100, HINT_PERCENT),
        Mistake(lambda e: (_P1 - 1) / _M1, HINT_DENOMINATOR),
        Mistake(lambda e: _P1 / (_M1 + _P1), HINT_P_NOT_P_MINUS_1),
        Mistake(lambda e: 2 * e, HINT_FILL_AND_DRAIN_TWICE),
        Mistake(lambda e: e / 2, "You are off by a factor of 2: count every idle slot of a stage, at the start and "
                                 "at the end."),
    ),
    magnitude=(1e-4, 100),
)
"""Bubble fraction of GPipe with 4 stages and 8 micro-batches [fraction]."""


def _microbatches() -> float:
    return float(pipeline.microbatches_for_bubble(**MICROBATCH_EXERCISE))


def _raw_bound(idle_slots: float, keep_one_minus: bool = True) -> float:
    target = MICROBATCH_EXERCISE["max_bubble"]
    return idle_slots * ((1 - target) if keep_one_minus else 1.0) / target


_P2 = MICROBATCH_EXERCISE["stages"]

MICROBATCHES_NEEDED = Exercise(
    variable="microbatches_needed",
    unit="micro-batches",
    expected=_microbatches,
    rel_tol=0.001,
    mistakes=(
        Mistake(lambda e: _raw_bound(_P2 - 1), HINT_ROUND_UP),
        Mistake(lambda e: math.floor(_raw_bound(_P2 - 1)), HINT_ROUND_UP),
        Mistake(lambda e: math.ceil(_raw_bound(_P2)), HINT_P_NOT_P_MINUS_1),
        Mistake(lambda e: _raw_bound(_P2), HINT_P_NOT_P_MINUS_1),
        Mistake(lambda e: math.ceil(_raw_bound(_P2 - 1, keep_one_minus=False)), HINT_DROPPED_ONE_MINUS),
        Mistake(lambda e: _raw_bound(_P2 - 1, keep_one_minus=False), HINT_DROPPED_ONE_MINUS),
        Mistake(lambda e: 2 * e, HINT_FILL_AND_DRAIN_TWICE),
        Mistake(lambda e: math.ceil(_raw_bound(2 * (_P2 - 1))), HINT_FILL_AND_DRAIN_TWICE),
        Mistake(lambda e: e / 2, "You are off by a factor of 2: each stage idles p - 1 slots in all."),
    ),
    magnitude=(1, 1e6),
)
"""Fewest micro-batches for a bubble of at most 3% with 8 stages [count]."""


def _in_flight() -> float:
    return pipeline.sequences_in_flight(INFERENCE_SCENARIO["stages"], scenario_sequences_per_microbatch())


_P3 = INFERENCE_SCENARIO["stages"]

SEQUENCES_IN_FLIGHT = Exercise(
    variable="sequences_in_flight_count",
    unit="sequences",
    expected=_in_flight,
    mistakes=(
        Mistake(lambda e: e / _P3, HINT_ONE_MICROBATCH),
        Mistake(lambda e: e * (_P3 - 1) / _P3, HINT_P_MINUS_1_MICROBATCHES),
        Mistake(lambda e: 2 * e, HINT_DOUBLE_MICROBATCHES),
        Mistake(lambda e: e / 2, "You are off by a factor of 2: every one of the p stages needs its own "
                                 "micro-batch of the full critical batch."),
        Mistake(lambda e: _P3 * roofline.LECTURE_FLOPS_PER_BYTE * llms.LECTURE_DEEPSEEK_ACTIVE_FRACTION,
                HINT_INVERTED_SPARSITY),
    ),
    magnitude=(1, 1e9),
)
"""Sequences in flight: 8 stages, each micro-batch at the lecture's DeepSeek critical batch [sequences]."""


def _crossover() -> float:
    return pipeline.kv_equals_weights_context(scenario_weight_bytes(), INFERENCE_SCENARIO["stages"],
                                              scenario_kv_bytes_per_token(), scenario_sequences_per_microbatch())


CROSSOVER_CONTEXT = Exercise(
    variable="crossover_context_tokens",
    unit="tokens",
    expected=_crossover,
    mistakes=(
        Mistake(lambda e: e * _P3, HINT_ALL_WEIGHTS),
        Mistake(lambda e: e / _P3, HINT_KV_TIMES_P),
        *off_by(2.0, HINT_BYTES_TWO),
        *off_by(1000.0, HINT_UNIT_1000),
    ),
    magnitude=(1e-3, 1e9),
)
"""Context where one stage's KV cache equals its weights, DeepSeek-V3 fp8, 8 stages, 2,400 per micro-batch [tokens]."""


def _published_ratio() -> float:
    return pipeline.kv_to_weight_ratio(pipeline.DEEPSEEK_AVERAGE_KV_TOKENS, scenario_weight_bytes(),
                                       INFERENCE_SCENARIO["stages"], scenario_kv_bytes_per_token(),
                                       scenario_sequences_per_microbatch())


def _published_share() -> float:
    return float(pipeline.kv_share_of_stage_memory(pipeline.DEEPSEEK_AVERAGE_KV_TOKENS, scenario_weight_bytes(),
                                                   INFERENCE_SCENARIO["stages"], scenario_kv_bytes_per_token(),
                                                   scenario_sequences_per_microbatch()))


def _share_from_ratio(ratio: float) -> float:
    return ratio / (1 + ratio)


KV_SHARE_PUBLISHED = Exercise(
    variable="kv_share_at_published_context",
    unit="fraction of a stage's memory (0 to 1)",
    expected=_published_share,
    mistakes=(
        Mistake(lambda e: _published_ratio(), HINT_KV_OVER_WEIGHTS),
        Mistake(lambda e: 1 - e, HINT_WEIGHT_SHARE),
        Mistake(lambda e: e * 100, HINT_PERCENT),
        Mistake(lambda e: _share_from_ratio(_published_ratio() / _P3), HINT_ALL_WEIGHTS),
        Mistake(lambda e: _share_from_ratio(_published_ratio() * _P3), HINT_KV_TIMES_P),
        Mistake(lambda e: _share_from_ratio(_published_ratio() / 2), HINT_BYTES_TWO),
        Mistake(lambda e: _share_from_ratio(_published_ratio() * 2), HINT_BYTES_TWO),
        Mistake(lambda e: _share_from_ratio(_published_ratio() / 1000), HINT_UNIT_1000),
        Mistake(lambda e: 2 * e, HINT_SHARE_ABOVE_ONE),
        Mistake(lambda e: e / 2, HINT_BYTES_TWO),
    ),
    magnitude=(1e-5, 1e4),
)
"""Share of a stage's memory that is KV cache at DeepSeek's published average KV length of 4,989 tokens
(DeepSeek-V3 fp8, 8 stages, 2,400 sequences per micro-batch) [fraction]."""

PIPELINING_VALUE = ChoiceExercise(
    variable="pipelining_value",
    options={
        "a": "Pipelining divides all of a stage's memory by p, so it pays off most at long contexts.",
        "b": "KV per stage does not fall with p; pipelining divides only the weights, the smaller part.",
        "c": "Once the KV cache outgrows the weights, the bubble grows and needs more micro-batches.",
        "d": "Past the crossover each stage needs fewer sequences in flight, so pipelining gets cheaper.",
    },
    correct="b",
    hints={
        "a": "Only the weights are divided by p. Keeping p stages busy puts p times more sequences in flight, so "
             "the KV cache per stage stays the same.",
        "c": "The bubble depends on how many micro-batches are in flight, not on how much memory they take.",
        "d": "Sequences in flight grow with the number of stages, whatever the context length.",
    },
)
"""What the KV/weights crossover says about the value of pipelining for decode."""


# --------------------------------------------------------------------------------------------------
# Exercises 7 and 8: pipelined decode is no faster per token than one rack
# --------------------------------------------------------------------------------------------------

RACK = chips.GB200_NVL72_GPU
"""One pipeline stage is one GB200 NVL72 rack: 72 of these GPUs."""

LATENCY_SCENARIO = dict(context_tokens=pipeline.DEEPSEEK_AVERAGE_KV_TOKENS, gpus_per_stage=RACK.scale_up_domain)
"""Exercise 7: the deployment of exercises 3 to 5 at DeepSeek's average KV length, one NVL72 rack per stage."""


def _stage_step(stages: int | None = None, kv_share: float | None = None) -> roofline.DecodeStep:
    """One stage's decode step for one micro-batch: 1/p of the weights, FLOPs and KV reads of b sequences."""
    llm, p = INFERENCE_SCENARIO["llm"], stages or INFERENCE_SCENARIO["stages"]
    kv = scenario_kv_bytes_per_token() * (1 / p if kv_share is None else kv_share)
    return roofline.decode_step(scenario_sequences_per_microbatch(), active_params=llm.active_params / p,
                                total_params=llm.total_params / p,
                                context_tokens=LATENCY_SCENARIO["context_tokens"], kv_bytes_per_token=kv,
                                chip=RACK, n_chips=LATENCY_SCENARIO["gpus_per_stage"], precision=roofline.FP8)


def token_interval_ms(stages: int | None = None, kv_share: float | None = None) -> float:
    """Time between two output tokens of one sequence: it crosses all p stages in turn [ms]
    (hand-offs between racks left out: microseconds)."""
    p = stages or INFERENCE_SCENARIO["stages"]
    return p * float(_stage_step(p, kv_share).step_s) * 1e3


def one_rack_step_ms() -> float:
    """The step of one rack holding the whole model and the same micro-batch [ms] (for comparison)."""
    llm = INFERENCE_SCENARIO["llm"]
    step = roofline.decode_step(scenario_sequences_per_microbatch(), active_params=llm.active_params,
                                total_params=llm.total_params, context_tokens=LATENCY_SCENARIO["context_tokens"],
                                kv_bytes_per_token=scenario_kv_bytes_per_token(), chip=RACK,
                                n_chips=LATENCY_SCENARIO["gpus_per_stage"], precision=roofline.FP8)
    return float(step.step_s) * 1e3


TOKEN_INTERVAL_MS = Exercise(
    variable="token_interval_ms",
    unit="milliseconds",
    expected=token_interval_ms,
    mistakes=(
        Mistake(lambda e: float(_stage_step().step_s) * 1e3,
                "That is one stage's time. A sequence's next token needs its current one to pass through all p "
                "stages, one after the other."),
        Mistake(lambda e: token_interval_ms(kv_share=1.0),
                "A stage reads the KV cache of its own layers only, 1/p of each sequence's KV bytes per token."),
        Mistake(lambda e: INFERENCE_SCENARIO["stages"] * token_interval_ms(kv_share=1.0),
                "A stage reads the KV cache of its own layers only, and a token passes the p stages in turn."),
        Mistake(lambda e: (scenario_weight_bytes() / (RACK.hbm_bandwidth * RACK.scale_up_domain)) * 1e3,
                "You read only the weights: each stage also reads its layers' KV cache for every sequence of the "
                "micro-batch, which at this context is more than the weights."),
        Mistake(lambda e: e * 1e3, "Give milliseconds, not microseconds."),
        *off_by(2.0, "You are off by a factor of 2: weights are served in fp8 (1 byte each) and the KV figure is "
                     "already bytes per token for all layers."),
        *off_by(1000.0, HINT_UNIT_1000),
    ),
    magnitude=(1e-6, 1e6),
)
"""Time between two output tokens of one sequence on the 8-stage pipeline of exercises 3 to 5 [ms]."""

MORE_STAGES = ChoiceExercise(
    variable="more_stages",
    options={
        "a": "The time per token halves; the pipeline's tokens per second stay the same.",
        "b": "The time per token stays about the same; tokens per second double.",
        "c": "The time per token doubles; the pipeline's tokens per second stay the same.",
        "d": "Both stay the same, because every rack still does the same amount of work.",
    },
    correct="b",
    hints={
        "a": "Each stage gets faster, but a token now crosses twice as many of them: the halves cancel.",
        "c": "Twice the stages, each holding half the layers: a stage takes half as long, so the sum is unchanged.",
        "d": "Each rack now holds half the layers, and twice as many micro-batches are in flight.",
    },
)
"""From 8 to 16 stages with the same micro-batch: what happens to time per token and to throughput?"""


# --------------------------------------------------------------------------------------------------
# Exercise 9: a stage's memory at long context (size a deployment under a memory limit)
# --------------------------------------------------------------------------------------------------

LONG_CONTEXT_TOKENS = 131_072
"""Exercise 9's context per sequence [tokens]."""


def _max_microbatch(stages: int | None = None, kv_share: float = 1.0) -> float:
    p = stages or INFERENCE_SCENARIO["stages"]
    return memory.max_batch_that_fits(total_params=INFERENCE_SCENARIO["llm"].total_params / p,
                                      context_tokens=LONG_CONTEXT_TOKENS,
                                      kv_bytes_per_token=scenario_kv_bytes_per_token() * kv_share, chip=RACK,
                                      n_chips=RACK.scale_up_domain, precision=roofline.FP8)


MAX_MICROBATCH_LONG_CONTEXT = Exercise(
    variable="max_microbatch_long_context",
    unit="sequences per micro-batch",
    expected=_max_microbatch,
    rel_tol=0.01,
    mistakes=(
        Mistake(lambda e: _max_microbatch(kv_share=1 / INFERENCE_SCENARIO["stages"]),
                "p micro-batches are in flight and a stage keeps 1/p of each one's layers: per micro-batch "
                "sequence, a stage holds the full KV bytes per token times the context."),
        Mistake(lambda e: _max_microbatch(stages=1),
                "A stage holds only its 1/p share of the weights; subtract that, not all of them."),
        *off_by(2.0, "You are off by a factor of 2: fp8 weights take 1 byte each, and the KV figure already counts "
                     "all layers in bytes."),
        *off_by(1000.0, HINT_UNIT_1000),
    ),
    magnitude=(1, 1e9),
)
"""Largest micro-batch one NVL72 rack (8-stage DeepSeek-V3, fp8) holds at 131,072 tokens of context [sequences]."""


# --------------------------------------------------------------------------------------------------
# Families (issue 12)
# --------------------------------------------------------------------------------------------------

BUBBLE_STAGES = (*range(2, 17), 20, 24, 32)
"""Pipeline stages the bubble family may draw [count]."""

BUBBLE_MICROBATCHES = (4, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 256)
"""Micro-batches per batch the bubble family may draw [count]."""


def _draw_bubble(rng) -> dict:
    return {"stages": rng.choice(BUBBLE_STAGES), "microbatches": rng.choice(BUBBLE_MICROBATCHES)}


def _bubble_mistakes(params) -> tuple[Mistake, ...]:
    p, m = params["stages"], params["microbatches"]
    return (
        Mistake(lambda e: 1 - e, HINT_BUSY_SHARE),
        Mistake(lambda e: e * 100, HINT_PERCENT),
        Mistake(lambda e: (p - 1) / m, HINT_DENOMINATOR),
        Mistake(lambda e: p / (m + p), HINT_P_NOT_P_MINUS_1),
        Mistake(lambda e: 2 * e, HINT_FILL_AND_DRAIN_TWICE),
    )


MY_BUBBLE = Family(
    key="03-bubble",
    variable="my_bubble_fraction",
    unit="fraction of the schedule (0 to 1)",
    draw=_draw_bubble,
    statement=("A GPipe schedule runs over **p = {stages}** stages with **m = {microbatches}** micro-batches per "
               "batch. What share of each stage's time is idle? Set `my_bubble_fraction` as a fraction between 0 "
               "and 1."),
    answer=lambda params: pipeline.bubble_fraction(params["stages"], params["microbatches"]),
    mistakes=_bubble_mistakes,
    magnitude=(1e-4, 100),
)
"""Exercise 1b: the GPipe bubble for the learner's own p and m [fraction]."""

CROSSOVER_MODELS = {
    "deepseek-v3-fp8": (llms.DEEPSEEK_V3, roofline.FP8),
    "llama-3-70b-bf16": (llms.LLAMA_3_70B, roofline.BF16),
    "llama-3-70b-fp8": (llms.LLAMA_3_70B, roofline.FP8),
}
"""Models and weight formats the crossover family draws from."""

KV_FORMATS = {"bf16": 2, "8-bit": 1}
"""KV cache formats the crossover family may draw, with their bytes per value [bytes]."""

CROSSOVER_STAGES = (2, 3, 4, 5, 6, 7, 8, 10, 12, 16)
"""Pipeline stages the crossover family may draw [count]."""

CROSSOVER_SEQUENCES = (16, 20, 24, 32, 40, 48, 64, 80, 96, 100, 128, 160, 192, 200, 256, 320, 384, 500, 512, 1000,
                       1024, 2400)
"""Sequences per micro-batch the crossover family may draw [sequences]."""


def _draw_crossover(rng) -> dict:
    key = rng.choice(sorted(CROSSOVER_MODELS))
    llm, precision = CROSSOVER_MODELS[key]
    kv_format = rng.choice(sorted(KV_FORMATS))
    return {"model": key, "name": llm.name, "format": precision.name,
            "weight_gb": round(llm.total_params * precision.weight_bytes_per_param / 1e9, 1),
            "kv_format": kv_format, "kv_bytes_per_token": int(kv_cache.kv_bytes_per_token(llm, KV_FORMATS[kv_format])),
            "stages": rng.choice(CROSSOVER_STAGES), "sequences": rng.choice(CROSSOVER_SEQUENCES)}


def _crossover_of(params, stages=None) -> float:
    return pipeline.kv_equals_weights_context(params["weight_gb"] * 1e9, stages or params["stages"],
                                              params["kv_bytes_per_token"], params["sequences"])


def _crossover_mistakes(params) -> tuple[Mistake, ...]:
    p = params["stages"]
    return (
        Mistake(lambda e: e * p, HINT_ALL_WEIGHTS),
        Mistake(lambda e: e / p, HINT_KV_TIMES_P),
        Mistake(lambda e: e / params["sequences"],
                "A stage holds the KV cache of every sequence of a micro-batch: divide by b as well."),
        *off_by(1000.0, HINT_UNIT_1000),
    )


MY_CROSSOVER = Family(
    key="03-crossover",
    variable="my_crossover_context_tokens",
    unit="tokens",
    draw=_draw_crossover,
    statement=("**{name}** is served with {format} weights (**{weight_gb:,} GB** in all) and a {kv_format} KV cache of "
               "**{kv_bytes_per_token:,} bytes per token** (all layers), decoding on **p = {stages}** pipeline "
               "stages with **b = {sequences:,}** sequences per micro-batch and one micro-batch per stage in "
               "flight. At what context length does one stage's KV cache equal its weights? Set "
               "`my_crossover_context_tokens` (tokens)."),
    answer=_crossover_of,
    mistakes=_crossover_mistakes,
    magnitude=(1e-3, 1e9),
)
"""Exercise 4b: the KV = weights context per stage for the learner's own model, p and b [tokens]."""

EXERCISES = (
    BUBBLE_FRACTION,
    MY_BUBBLE,
    MICROBATCHES_NEEDED,
    SEQUENCES_IN_FLIGHT,
    CROSSOVER_CONTEXT,
    MY_CROSSOVER,
    KV_SHARE_PUBLISHED,
    PIPELINING_VALUE,
    TOKEN_INTERVAL_MS,
    MORE_STAGES,
    MAX_MICROBATCH_LONG_CONTEXT,
)
"""Every exercise of the segment, in notebook order."""
