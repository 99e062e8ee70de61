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
        "b": "Splitting the layers over stages puts more weight bytes on each GPU.",
        "c": "Stage boundaries constrain the architecture: layers of unequal cost must be balanced across stages, "
             "and connections that skip across layers must cross the network; working around that slows "
             "research iteration.",
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

EXERCISES = (
    SLOWEST_STAGE_MS,
    EVEN_SPLIT_EFFICIENCY,
    BEST_SPLIT_EFFICIENCY,
    RESIDUAL_BYTES_PER_TOKEN,
    RESIDUAL_FETCH_MS,
    NOT_WISE_REASON,
)
"""Every exercise of the segment, in notebook order."""
