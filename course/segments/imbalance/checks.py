"""Exercises of segment 4, 'Why Ilya said, "As we now know, pipelining is not wise."'.

Scenario: DeepSeek-V3's shape (61 layers, hidden 7168, MLA KV; published config) as if it
interleaved 5 sliding-window layers with 1 global layer, window 4,096 tokens, 0.1 ms of fixed
time per layer and micro-batches of 32 sequences on H100s (the last four are illustrative
assumptions, see ``course.models.imbalance``), at 131,072 tokens of context, split into 4 stages.
"""

from __future__ import annotations

import math
from dataclasses import replace

from course.exercise import HINT_UNIT_1000, ChoiceExercise, Exercise, Mistake
from course.models import imbalance
from course.presets import chips
from course.variants import Family

CONTEXT_TOKENS = 131_072
"""Context of every sequence in the exercises [tokens]."""

STAGES = 4
"""Pipeline stages in the exercises [count]."""

LAST_LAYER = 60
"""The layer (0-based; the 61st and last) whose residual fetch exercise 4 asks about."""

SCALE_OUT_CHIP = chips.H100_SXM
"""Chip whose scale-out (50 GB/s) and NVLink (450 GB/s) bandwidths the reality check uses."""


def exercise_stack(**changes) -> imbalance.InterleavedStack:
    """The exercises' stack, optionally with fields replaced (to build likely mistakes)."""
    return replace(imbalance.deepseek_shaped_stack(), **changes)


def exercise_loads(split="even", **changes) -> imbalance.StageLoads:
    """Stage loads of the exercises' stack at ``CONTEXT_TOKENS`` over ``STAGES`` stages."""
    return imbalance.stage_loads(exercise_stack(**changes), CONTEXT_TOKENS, STAGES, split)


HINT_FACTOR_TWO = ("You are off by exactly a factor of 2: check the bytes per value (2 in bf16) and that MLA keeps "
                   "one latent per token per layer, not a separate K and V.")
HINT_RESIDUAL_TWO = ("You are off by exactly a factor of 2: a residual value in bf16 takes 2 bytes, and each earlier "
                     "layer leaves one vector of hidden-size values per token.")
HINT_FRACTION_TWO = ("You are off by exactly a factor of 2: the mean stage time is the total over the stages, and "
                     "the efficiency is that mean divided by the slowest stage.")
HINT_INVERTED = ("You divided the slowest stage by the mean: efficiency is mean / slowest, so it can never "
                 "exceed 1.")
HINT_PERCENT = "Give the efficiency as a fraction between 0 and 1, not as a percentage."
HINT_NO_WINDOW = ("Your local layers read the whole context: a sliding-window layer reads at most the window, "
                  "only the global layers read everything.")


# --------------------------------------------------------------------------------------------------
# Exercise 1: the slowest stage of the even split
# --------------------------------------------------------------------------------------------------

def _slowest_ms(**changes) -> float:
    return exercise_loads(**changes).slowest_stage_s * 1e3


SLOWEST_STAGE_MS = Exercise(
    variable="slowest_stage_ms",
    unit="milliseconds",
    expected=_slowest_ms,
    mistakes=(
        Mistake(lambda e: exercise_loads().mean_stage_s * 1e3,
                "That is the mean stage time; the pipeline moves at the pace of its slowest stage."),
        Mistake(lambda e: float(exercise_loads().stage_times_s[0]) * 1e3,
                "That is the first stage. Check every stage: the one holding the most global layers sets the pace."),
        Mistake(lambda e: float(exercise_loads().stage_times_s.sum()) * 1e3,
                "That is the whole stack's time; split it into stages and take the slowest one."),
        Mistake(lambda e: _slowest_ms(window_tokens=math.inf), HINT_NO_WINDOW),
        Mistake(lambda e: _slowest_ms(fixed_s_per_layer=0.0),
                "You left out the fixed 0.1 ms every layer spends whatever the context."),
        Mistake(lambda e: _slowest_ms(kv_s_per_token=exercise_stack().kv_s_per_token
                                      / imbalance.ILLUSTRATIVE_MICROBATCH_SEQUENCES),
                "You read the KV cache of one sequence; a layer reads it for every sequence of the micro-batch."),
        Mistake(lambda e: e * 2, HINT_FACTOR_TWO),
        Mistake(lambda e: e / 2, HINT_FACTOR_TWO),
        Mistake(lambda e: e * 1000, HINT_UNIT_1000),
        Mistake(lambda e: e / 1000, HINT_UNIT_1000),
    ),
    magnitude=(1e-4, 1e6),
)
"""Time of the slowest of 4 even stages for one micro-batch at 131,072 tokens [ms]."""


# --------------------------------------------------------------------------------------------------
# Exercises 2 and 3: efficiency of the even and of the best contiguous split
# --------------------------------------------------------------------------------------------------

def _efficiency(split="even", **changes) -> float:
    return exercise_loads(split, **changes).efficiency


def _efficiency_mistakes(hint_other_split: str, other_split: str) -> tuple[Mistake, ...]:
    return (
        Mistake(lambda e: _efficiency(other_split), hint_other_split),
        Mistake(lambda e: 1 / e, HINT_INVERTED),
        Mistake(lambda e: e * 100, HINT_PERCENT),
        Mistake(lambda e: _efficiency(window_tokens=math.inf), HINT_NO_WINDOW),
        Mistake(lambda e: e * 2, HINT_FRACTION_TWO),
        Mistake(lambda e: e / 2, HINT_FRACTION_TWO),
    )


EVEN_SPLIT_EFFICIENCY = Exercise(
    variable="even_split_efficiency",
    unit="a fraction (0 to 1)",
    expected=lambda: _efficiency("even"),
    rel_tol=0.01,
    mistakes=(
        Mistake(lambda e: float(exercise_loads().stage_times_s.min() / exercise_loads().stage_times_s.max()),
                "You divided the fastest stage by the slowest; use the mean of all stages over the slowest."),
        *_efficiency_mistakes("That is the best split's efficiency; this exercise asks about the even split "
                              "(16, 15, 15, 15 layers).", "best"),
    ),
    magnitude=(1e-3, 1e3),
)
"""Pipeline efficiency (mean / slowest stage) of the even 4-stage split [fraction]."""

BEST_SPLIT_EFFICIENCY = Exercise(
    variable="best_split_efficiency",
    unit="a fraction (0 to 1)",
    expected=lambda: _efficiency("best"),
    rel_tol=0.01,
    mistakes=_efficiency_mistakes("That is the even split's efficiency. Let `imbalance.best_contiguous_split` "
                                  "move the stage boundaries, then recompute the stage times.", "even"),
    magnitude=(1e-3, 1e3),
)
"""Pipeline efficiency of the best contiguous 4-stage split at 131,072 tokens [fraction]."""


# --------------------------------------------------------------------------------------------------
# Exercise 4: bytes from other stages for attention to all earlier residuals
# --------------------------------------------------------------------------------------------------

def _residual_bytes(remote_layers: int | None = None, bytes_per_value: float = imbalance.RESIDUAL_BYTES_PER_VALUE,
                    ) -> float:
    stack = exercise_stack()
    if remote_layers is None:
        return imbalance.residual_bytes_from_other_stages(LAST_LAYER, imbalance.even_split(stack.layers, STAGES),
                                                          stack.hidden_size, bytes_per_value)
    return remote_layers * stack.hidden_size * bytes_per_value


def _remote_layers() -> int:
    return imbalance.remote_residual_layers(LAST_LAYER, imbalance.even_split(exercise_stack().layers, STAGES))


def _all_stages_bytes() -> float:
    stack = exercise_stack()
    return float(imbalance.residual_bytes_received_per_stage(imbalance.even_split(stack.layers, STAGES),
                                                             stack.hidden_size).sum())


RESIDUAL_BYTES_PER_TOKEN = Exercise(
    variable="residual_bytes_per_token",
    unit="bytes",
    expected=_residual_bytes,
    rel_tol=0.005,
    mistakes=(
        Mistake(lambda e: _residual_bytes(remote_layers=LAST_LAYER),
                "You counted every earlier layer, but the earlier layers on the last layer's own stage are "
                "already local: count only those on other stages."),
        Mistake(lambda e: _residual_bytes(remote_layers=_remote_layers() + 1),
                "Count the outputs of earlier transformer layers only; leave the embedding out."),
        Mistake(lambda e: imbalance.plain_pipeline_bytes_per_boundary(exercise_stack().hidden_size),
                "That is one residual vector, what a plain pipeline sends across a boundary; this layer wants "
                "the output of every earlier layer on another stage."),
        Mistake(lambda e: _all_stages_bytes(),
                "That is what all stages receive together; the question is about the last layer's stage only."),
        Mistake(lambda e: _residual_bytes(bytes_per_value=1.0),
                "You counted values, not bytes: each bf16 value takes 2 bytes."),
        Mistake(lambda e: e * 2, HINT_RESIDUAL_TWO),
        Mistake(lambda e: e * 8, "That is in bits; give bytes."),
        Mistake(lambda e: e / 1000, HINT_UNIT_1000),
        Mistake(lambda e: e / 1e6, "You are off by a factor of a million: give bytes, not megabytes."),
    ),
    magnitude=(1e-3, 1e12),
)
"""Bytes the last layer's token must fetch from other stages to attend to all earlier layers' outputs
(even 4-stage split, bf16) [bytes]."""


# --------------------------------------------------------------------------------------------------
# Exercise 5 (reality check): those bytes over scale-out, per micro-batch
# --------------------------------------------------------------------------------------------------

def _fetch_ms(bandwidth: float | None = None, tokens: float = imbalance.ILLUSTRATIVE_MICROBATCH_SEQUENCES) -> float:
    bandwidth = SCALE_OUT_CHIP.scale_out_bandwidth if bandwidth is None else bandwidth
    return imbalance.transfer_time_s(_residual_bytes() * tokens, bandwidth) * 1e3


RESIDUAL_FETCH_MS = Exercise(
    variable="residual_fetch_ms",
    unit="milliseconds",
    expected=_fetch_ms,
    rel_tol=0.01,
    mistakes=(
        Mistake(lambda e: _fetch_ms(bandwidth=SCALE_OUT_CHIP.scale_up_bandwidth),
                "That is the time over NVLink. Pipeline stages sit in different racks, so the bytes cross the "
                "scale-out network."),
        Mistake(lambda e: _fetch_ms(tokens=1),
                "That is for one token; a decode step of the micro-batch moves one token per sequence."),
        Mistake(lambda e: _fetch_ms(bandwidth=SCALE_OUT_CHIP.scale_out_bandwidth * 8),
                "You used the NIC's rate in bits per second as bytes per second: 400 Gb/s is 50 GB/s."),
        Mistake(lambda e: e * 8, "A factor of 8: check bits against bytes."),
        Mistake(lambda e: e * 2, HINT_RESIDUAL_TWO),
        Mistake(lambda e: e / 2, HINT_RESIDUAL_TWO),
        Mistake(lambda e: e * 1000, HINT_UNIT_1000),
        Mistake(lambda e: e / 1000, HINT_UNIT_1000),
    ),
    magnitude=(1e-7, 1e7),
)
"""Time to move exercise 4's bytes for a 32-sequence micro-batch over one H100's 50 GB/s scale-out [ms]."""


# --------------------------------------------------------------------------------------------------
# Exercise 6: why "not wise"?
# --------------------------------------------------------------------------------------------------

NOT_WISE_REASON = ChoiceExercise(
    variable="not_wise_reason",
    options={
        "a": "Pipeline bubbles cannot be made small, however many micro-batches are in flight.",
        "b": "Splitting the layers over stages puts more weight bytes on each GPU than before.",
        "c": "Stage boundaries constrain the architecture, and redesigning around them slows research.",
        "d": "Sending even one residual vector per token between stages saturates the scale-out network.",
    },
    correct="c",
    hints={
        "a": "The GPipe bubble (p - 1) / (m + p - 1) shrinks as the micro-batch count m grows; bubbles are a "
             "cost, but not the lecture's reason.",
        "b": "It is the other way round: each stage holds only its own layers' weights.",
        "d": "One vector per token per boundary is small (a hidden size of bf16 values); a plain pipeline's "
             "traffic is not the problem.",
    },
)
"""The lecture's reason pipelining is 'not wise'."""


# --------------------------------------------------------------------------------------------------
# Exercises 7 and 8: the long-context limit of the efficiency, and an argument that misses it
# --------------------------------------------------------------------------------------------------

LIMIT_STAGES = 8
"""Exercise 7: the stack of the exercises, split evenly into 8 stages."""


def globals_per_stage(layers: int, local_per_global: int, stages: int) -> list[int]:
    """Global layers on each stage of an even split [count]."""
    pattern = imbalance.layer_pattern(layers, local_per_global)
    edges = imbalance.stage_edges(imbalance.even_split(layers, stages))
    return [sum(kind == imbalance.GLOBAL for kind in pattern[a:b]) for a, b in zip(edges[:-1], edges[1:])]


def stage_layouts(layers: int, local_per_global: int, stages: int) -> list[str]:
    """Each stage of an even split as a string of L (local) and G (global)."""
    pattern = imbalance.layer_pattern(layers, local_per_global)
    edges = imbalance.stage_edges(imbalance.even_split(layers, stages))
    return ["".join("G" if kind == imbalance.GLOBAL else "L" for kind in pattern[a:b])
            for a, b in zip(edges[:-1], edges[1:])]


def long_context_efficiency(layers: int, local_per_global: int, stages: int) -> float:
    """Limit of the even split's efficiency as the context grows: mean global layers per stage over the most."""
    counts = globals_per_stage(layers, local_per_global, stages)
    return sum(counts) / len(counts) / max(counts)


def _limit() -> float:
    stack = exercise_stack()
    return long_context_efficiency(stack.layers, stack.local_per_global, LIMIT_STAGES)


def _layer_count_ratio() -> float:
    split = imbalance.even_split(exercise_stack().layers, LIMIT_STAGES)
    return sum(split) / len(split) / max(split)


LONG_CONTEXT_LIMIT = Exercise(
    variable="long_context_efficiency_8",
    unit="a fraction (0 to 1)",
    expected=_limit,
    rel_tol=0.01,
    mistakes=(
        Mistake(lambda e: _layer_count_ratio(),
                "That compares layer counts. Past the window a local layer costs almost nothing next to a global "
                "one: compare the global layers per stage."),
        Mistake(lambda e: min(globals_per_stage(exercise_stack().layers, exercise_stack().local_per_global,
                                                LIMIT_STAGES)) / 2,
                "Use the mean number of global layers per stage over the largest, not the smallest over it."),
        Mistake(lambda e: 1 / e, HINT_INVERTED),
        Mistake(lambda e: e * 100, HINT_PERCENT),
        Mistake(lambda e: _efficiency("even"),
                "That is the efficiency at 131,072 tokens, where the fixed time still counts; the question asks "
                "for the limit as the context grows without bound."),
    ),
    magnitude=(1e-3, 1e3),
)
"""Long-context limit of the even 8-stage split's efficiency (5 local : 1 global, 61 layers) [fraction]."""

LAYER_COUNT_ARGUMENT = ChoiceExercise(
    variable="layer_count_argument",
    options={
        "a": "Global layers cost more at every context, so even short prompts are unbalanced.",
        "b": "Past the window, cost follows global layers: 1 or 2 per stage gives 62.5%.",
        "c": "With 8 stages the bubble, not the split, bounds the efficiency near 7/8.",
        "d": "An even split puts the extra layers on the last stages, which slows them.",
    },
    correct="b",
    hints={
        "a": "Below the window every layer reads the same KV cache and costs the same; the imbalance starts past it.",
        "c": "The efficiency here is about unequal stages in steady state; the bubble is a separate cost.",
        "d": "The even split gives the extra layers to the *first* stages, and that is not the flaw anyway.",
    },
)
"""A colleague: "8 even stages hold 7 or 8 layers each, so the efficiency is at least 7/8 at any context." The flaw?"""


# --------------------------------------------------------------------------------------------------
# Families (issue 12)
# --------------------------------------------------------------------------------------------------

MIX_LAYERS = (24, 32, 36, 40, 48, 56, 61, 64, 80)
"""Layer counts the layer-mix family may draw [count]."""

MIX_LOCAL_PER_GLOBAL = (1, 2, 3, 4, 5, 7)
"""Local layers per global layer the layer-mix family may draw [count]."""

MIX_STAGES = (2, 3, 4, 5, 6, 8)
"""Pipeline stages the layer-mix family may draw [count]."""

MIX_CONTEXT_K = (16, 32, 64, 128, 256)
"""Contexts the layer-mix family may draw [thousands of tokens]."""

MIX_WINDOW_K = (1, 2, 4, 8)
"""Sliding windows the layer-mix family may draw [thousands of tokens]."""


def _draw_mix(rng) -> dict:
    """A stack whose even split is unbalanced (a perfectly balanced one would make every such answer 1)."""
    while True:
        layers = rng.choice(MIX_LAYERS)
        local = rng.choice(MIX_LOCAL_PER_GLOBAL)
        stages = rng.choice(MIX_STAGES)
        params = {"layers": layers, "local_per_global": local, "period": local + 1, "stages": stages,
                  "context_k": rng.choice(MIX_CONTEXT_K), "window_k": rng.choice(MIX_WINDOW_K),
                  "split": ", ".join(str(n) for n in imbalance.even_split(layers, stages)),
                  "layout": " | ".join(stage_layouts(layers, local, stages))}
        if mix_efficiency(params) < 0.995:
            return params


def mix_efficiency(params, *, window_k: float | None = None) -> float:
    """Even-split efficiency of the layer-mix family when a layer's time is the KV it reads [fraction]."""
    pattern = imbalance.layer_pattern(params["layers"], params["local_per_global"])
    times = imbalance.layer_times_s(pattern, params["context_k"],
                                    params["window_k"] if window_k is None else window_k,
                                    fixed_s=0.0, kv_s_per_token=1.0)
    return imbalance.pipeline_efficiency(imbalance.stage_times_s(times, imbalance.even_split(params["layers"],
                                                                                           params["stages"])))


def _mix_mistakes(params) -> tuple[Mistake, ...]:
    pattern = imbalance.layer_pattern(params["layers"], params["local_per_global"])
    times = imbalance.layer_times_s(pattern, params["context_k"], params["window_k"], fixed_s=0.0, kv_s_per_token=1.0)
    stage_times = imbalance.stage_times_s(times, imbalance.even_split(params["layers"], params["stages"]))
    return (
        Mistake(lambda e: mix_efficiency(params, window_k=params["context_k"]),
                "That compares layer counts, as if every layer read the whole context; a local layer reads only "
                "its window."),
        Mistake(lambda e: long_context_efficiency(params["layers"], params["local_per_global"], params["stages"]),
                "That is the limit for a context far past the window (global layers only); at this context the "
                "local layers still read their window and add to every stage."),
        Mistake(lambda e: float(stage_times.min() / stage_times.max()),
                "Use the mean stage over the slowest, not the fastest."),
        Mistake(lambda e: 1 / e, HINT_INVERTED),
        Mistake(lambda e: e * 100, HINT_PERCENT),
    )


MY_LONG_CONTEXT_EFFICIENCY = Family(
    key="04-layer-mix",
    variable="my_long_context_efficiency",
    unit="a fraction (0 to 1)",
    draw=_draw_mix,
    statement=("Your stack: **{layers}** layers, **{local_per_global} local : 1 global** repeated (layer $i$, "
               "counted from 1, is global when $i$ is a multiple of {period}), split evenly into "
               "**{stages}** stages of {split} layers:\n\n`{layout}`\n\nThe context is **{context_k}K** tokens "
               "and a local layer's window **{window_k}K**. Take each layer's time as proportional to the KV "
               "tokens it reads (a local layer its window, a global layer the whole context; ignore the fixed "
               "part). What is the pipeline efficiency (mean stage time over the slowest)? Set "
               "`my_long_context_efficiency` as a fraction between 0 and 1."),
    answer=mix_efficiency,
    mistakes=_mix_mistakes,
    rel_tol=0.01,
    magnitude=(1e-3, 1e3),
)
"""Exercise 2b: even-split efficiency of the learner's own layer mix, context and window (KV-read time) [fraction]."""


RESIDUAL_LAYERS = (24, 28, 32, 36, 40, 48, 56, 60, 61, 64, 80, 96)
"""Layer counts the residual-bytes family may draw [count]."""

RESIDUAL_STAGES = (2, 3, 4, 5, 6, 8)
"""Pipeline stages the residual-bytes family may draw [count]."""

RESIDUAL_HIDDEN_SIZES = tuple(range(2048, 8192 + 1, 512))
"""Hidden sizes the residual-bytes family may draw, 2,048 to 8,192 in steps of 512 [values]."""


def _draw_residual(rng) -> dict:
    layers = rng.choice(RESIDUAL_LAYERS)
    stages = rng.choice(RESIDUAL_STAGES)
    return {"layers": layers, "stages": stages, "hidden_size": rng.choice(RESIDUAL_HIDDEN_SIZES),
            "split": ", ".join(str(n) for n in imbalance.even_split(layers, stages))}


def _residual_answer(params) -> float:
    return imbalance.residual_bytes_from_other_stages(params["layers"] - 1,
                                                      imbalance.even_split(params["layers"], params["stages"]),
                                                      params["hidden_size"])


def _residual_mistakes(params) -> tuple[Mistake, ...]:
    per_layer = params["hidden_size"] * imbalance.RESIDUAL_BYTES_PER_VALUE
    return (
        Mistake(lambda e: (params["layers"] - 1) * per_layer,
                "You counted every earlier layer; those on the last layer's own stage are already local."),
        Mistake(lambda e: e + per_layer, "Count the outputs of earlier transformer layers only; leave the embedding "
                                         "out."),
        Mistake(lambda e: e / imbalance.RESIDUAL_BYTES_PER_VALUE, "You counted values, not bytes: bf16 takes 2 bytes."),
        Mistake(lambda e: e * 8, "That is in bits; give bytes."),
        Mistake(lambda e: e / 1000, HINT_UNIT_1000),
    )


MY_RESIDUAL_BYTES = Family(
    key="04-residual-bytes",
    variable="my_residual_bytes_per_token",
    unit="bytes",
    draw=_draw_residual,
    statement=("Your model: **{layers}** layers of hidden size **{hidden_size:,}** (bf16 residuals), split evenly "
               "into **{stages}** stages of {split} layers, with attention to all earlier residuals. How many bytes "
               "must one token at the **last** layer fetch from other stages (leave the embedding out)? Set "
               "`my_residual_bytes_per_token` (bytes)."),
    answer=_residual_answer,
    mistakes=_residual_mistakes,
    magnitude=(1e-3, 1e12),
)
"""Exercise 4b: residual bytes the last layer fetches from other stages, the learner's own model and split [bytes]."""

EXERCISES = (
    SLOWEST_STAGE_MS,
    EVEN_SPLIT_EFFICIENCY,
    MY_LONG_CONTEXT_EFFICIENCY,
    BEST_SPLIT_EFFICIENCY,
    RESIDUAL_BYTES_PER_TOKEN,
    MY_RESIDUAL_BYTES,
    RESIDUAL_FETCH_MS,
    NOT_WISE_REASON,
    LONG_CONTEXT_LIMIT,
    LAYER_COUNT_ARGUMENT,
)
"""Every exercise of the segment, in notebook order."""
