"""Pipeline parallelism: bubbles, sequences in flight and memory per stage.

A model's layers are cut into ``p`` contiguous *stages* (for example one rack
each). A batch is cut into ``m`` *micro-batches* that follow one another
through the stages. Time is counted in *slots*: the time one stage needs for
one micro-batch's forward pass.

* Training (GPipe): every micro-batch goes forward through all stages, then
  backward; gradients are combined and the weights updated before the next
  batch, so the pipeline fills and drains once per batch. Idle share
  (the *bubble*): (p - 1) / (m + p - 1).
* Inference (decode): there is no weight update, but a sequence's next token
  can only enter stage 1 once its current token has left stage p. With ``m``
  micro-batches cycling, a stage is busy min(m, p) / p of the time: ``p``
  micro-batches in flight keep every stage busy.

Memory: a stage holds 1/p of the weights, and the KV cache of its own layers
for every sequence in flight. With p micro-batches of b sequences in flight,
that is p * b sequences times 1/p of the layers: the p cancels, so KV per
stage does not shrink as stages are added while weights per stage do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

IDLE = 0
FORWARD = 1
BACKWARD = 2
"""Phase codes of a schedule cell."""

DEEPSEEK_AVERAGE_KV_TOKENS = 4_989
"""Average KV-cache length of DeepSeek's served sequences [tokens] (source tag ``deepseek-infra``:
DeepSeek open-infra-index, 2025-02 Open Source Week day 6)."""

DEEPSEEK_DECODE_NODES = 18
"""Nodes of one DeepSeek decode deployment, expert parallelism EP144 [count] (source tag ``deepseek-infra``)."""

DEEPSEEK_TECH_REPORT_DECODE_GPUS = 320
"""GPUs of one decode unit in the DeepSeek-V3 technical report (EP320) [count] (facts.md, "Tech report
deployment"); the 2025 inference overview describes EP144 instead."""

DEEPSEEK_DECODE_EXPERT_PARALLEL = 144
"""GPUs sharing the experts in DeepSeek's decode deployment (EP144) [count] (source tag ``deepseek-infra``)."""


# --------------------------------------------------------------------------------------------------
# Bubbles
# --------------------------------------------------------------------------------------------------

def _check_counts(stages: int, microbatches: int) -> None:
    if int(stages) != stages or int(microbatches) != microbatches:
        raise ValueError("stages and microbatches must be whole numbers")
    if stages < 1 or microbatches < 1:
        raise ValueError("stages and microbatches must be at least 1")


def bubble_fraction(stages: int, microbatches: int) -> float:
    """Idle share of a GPipe training schedule, (p - 1) / (m + p - 1) [fraction of stage-time]."""
    _check_counts(stages, microbatches)
    return (stages - 1) / (microbatches + stages - 1)


def microbatches_for_bubble(stages: int, max_bubble: float) -> int:
    """Fewest micro-batches that keep the GPipe bubble at or below ``max_bubble`` [count].

    From (p - 1) / (m + p - 1) <= f:  m >= (p - 1)(1 - f) / f, rounded up.
    """
    _check_counts(stages, 1)
    if not 0 < max_bubble < 1:
        raise ValueError("max_bubble must be a fraction in (0, 1)")
    bound = (stages - 1) * (1 - max_bubble) / max_bubble
    microbatches = max(1, math.ceil(bound - 1e-9))
    while bubble_fraction(stages, microbatches) > max_bubble * (1 + 1e-12):
        microbatches += 1
    return microbatches


def decode_stage_utilisation(stages: int, microbatches_in_flight: int) -> float:
    """Share of time each stage is busy in steady-state decode, min(m, p) / p [fraction]."""
    _check_counts(stages, microbatches_in_flight)
    return min(microbatches_in_flight, stages) / stages


def decode_bubble_fraction(stages: int, microbatches_in_flight: int) -> float:
    """Idle share of each stage in steady-state decode, max(0, p - m) / p [fraction]."""
    return 1.0 - decode_stage_utilisation(stages, microbatches_in_flight)


def sequences_in_flight(stages: int, sequences_per_microbatch: float) -> float:
    """Sequences decoding at once so every stage is busy: one micro-batch per stage, p * b [count]."""
    _check_counts(stages, 1)
    return stages * sequences_per_microbatch


# --------------------------------------------------------------------------------------------------
# Schedules (who works when)
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Schedule:
    """Which micro-batch each stage works on in each time slot.

    Attributes:
        microbatch: int array (stages, slots): micro-batch index, -1 where the stage is idle.
        phase: int array (stages, slots): ``IDLE``, ``FORWARD`` or ``BACKWARD``.
        flush_slot: slot at which the batch is over and the weights are updated
            (training), or None (decode runs on without a flush).
    """

    microbatch: np.ndarray
    phase: np.ndarray
    flush_slot: int | None

    @property
    def stages(self) -> int:
        """Rows of the schedule [count]."""
        return self.phase.shape[0]

    @property
    def slots(self) -> int:
        """Columns of the schedule [slots]."""
        return self.phase.shape[1]

    @property
    def idle_fraction(self) -> float:
        """Idle cells over all cells [fraction]: the bubble, counted off the schedule."""
        return float(np.mean(self.phase == IDLE))


def gpipe_forward_schedule(stages: int, microbatches: int) -> list[tuple[int, int, int]]:
    """(stage, start slot, micro-batch) of each forward task of a GPipe schedule [slots of one stage-step]."""
    _check_counts(stages, microbatches)
    return [(s, s + mb, mb) for s in range(stages) for mb in range(microbatches)]


def gpipe_training_schedule(stages: int, microbatches: int, backward_slots: int = 2) -> Schedule:
    """GPipe: all forwards, then all backwards, then a flush (gradient sync and weight update).

    Forward of micro-batch j on stage s takes slot s + j. The backward pass runs
    the stages in reverse and takes ``backward_slots`` slots per task (about twice
    a forward: gradients with respect to both the inputs and the weights).
    Backward of j on stage s starts at F + backward_slots * ((p - 1 - s) + j),
    where F = m + p - 1 is when the last forward ends.
    """
    _check_counts(stages, microbatches)
    if backward_slots < 1 or int(backward_slots) != backward_slots:
        raise ValueError("backward_slots must be a whole number >= 1")
    forward_end = microbatches + stages - 1
    total = forward_end * (1 + backward_slots)
    microbatch = np.full((stages, total), -1, dtype=int)
    phase = np.full((stages, total), IDLE, dtype=int)
    for stage, start, mb in gpipe_forward_schedule(stages, microbatches):
        microbatch[stage, start] = mb
        phase[stage, start] = FORWARD
    for stage in range(stages):
        for mb in range(microbatches):
            start = forward_end + backward_slots * ((stages - 1 - stage) + mb)
            microbatch[stage, start:start + backward_slots] = mb
            phase[stage, start:start + backward_slots] = BACKWARD
    return Schedule(microbatch=microbatch, phase=phase, flush_slot=total)


def decode_schedule(stages: int, microbatches_in_flight: int, slots: int) -> Schedule:
    """Steady-state decode: ``m`` micro-batches cycle through ``p`` stages, one token per pass.

    A micro-batch's next token enters stage 0 as soon as its current token leaves
    the last stage (or, with more micro-batches than stages, when its turn comes).
    The cycle lasts max(m, p) slots; stage s works on micro-batch j in slot t
    when (t - s) mod max(m, p) == j. The window shows ``slots`` slots of a pipeline
    that has been running for a while, so there is no start-up ramp.
    """
    _check_counts(stages, microbatches_in_flight)
    period = max(stages, microbatches_in_flight)
    position = (np.arange(slots)[None, :] - np.arange(stages)[:, None]) % period
    busy = position < microbatches_in_flight
    microbatch = np.where(busy, position, -1)
    phase = np.where(busy, FORWARD, IDLE)
    return Schedule(microbatch=microbatch.astype(int), phase=phase.astype(int), flush_slot=None)


def decode_cycle_slots(stages: int, microbatches_in_flight: int) -> int:
    """Slots between two tokens of the same sequence in steady-state decode, max(m, p) [slots]."""
    _check_counts(stages, microbatches_in_flight)
    return max(stages, microbatches_in_flight)


# --------------------------------------------------------------------------------------------------
# Memory per stage
# --------------------------------------------------------------------------------------------------

def weight_bytes_per_stage(weight_bytes: float, stages: int) -> float:
    """Weights held by one stage when layers are split evenly, W / p [bytes]."""
    _check_counts(stages, 1)
    return weight_bytes / stages


def kv_bytes_per_stage(context_tokens, kv_bytes_per_token: float, sequences_per_microbatch: float):
    """KV cache one stage holds with one micro-batch per stage in flight [bytes].

    p * b sequences are in flight and a stage keeps 1/p of each one's layers, so
    the p cancels: b * ctx * kv, however many stages there are.
    ``context_tokens`` may be a scalar or an array.
    """
    return sequences_per_microbatch * np.asarray(context_tokens, dtype=float) * kv_bytes_per_token


def kv_equals_weights_context(weight_bytes: float, stages: int, kv_bytes_per_token: float,
                              sequences_per_microbatch: float) -> float:
    """Context at which one stage's KV cache equals its weights, W / (p * b * kv) [tokens]."""
    return weight_bytes_per_stage(weight_bytes, stages) / (sequences_per_microbatch * kv_bytes_per_token)


def kv_to_weight_ratio(context_tokens: float, weight_bytes: float, stages: int, kv_bytes_per_token: float,
                       sequences_per_microbatch: float) -> float:
    """One stage's KV cache over its weights at a context length [dimensionless]."""
    kv = float(kv_bytes_per_stage(context_tokens, kv_bytes_per_token, sequences_per_microbatch))
    return kv / weight_bytes_per_stage(weight_bytes, stages)


def kv_share_of_stage_memory(context_tokens, weight_bytes: float, stages: int, kv_bytes_per_token: float,
                             sequences_per_microbatch: float):
    """Share of one stage's memory (its weights + its KV cache) taken by the KV cache [fraction]."""
    kv = kv_bytes_per_stage(context_tokens, kv_bytes_per_token, sequences_per_microbatch)
    return kv / (kv + weight_bytes_per_stage(weight_bytes, stages))


def stage_memory_saving(context_tokens, weight_bytes: float, stages: int, kv_bytes_per_token: float,
                        sequences_per_microbatch: float):
    """Share of a stage's memory (weights + KV) saved by going from 1 stage to ``stages`` [fraction].

    Without pipelining one group holds W + b * ctx * kv; with p stages each holds
    W / p + b * ctx * kv. Near 1 - 1/p while weights dominate, towards 0 once KV does.
    """
    kv = kv_bytes_per_stage(context_tokens, kv_bytes_per_token, sequences_per_microbatch)
    unpipelined = weight_bytes + kv
    pipelined = weight_bytes_per_stage(weight_bytes, stages) + kv
    return 1.0 - pipelined / unpipelined


# --------------------------------------------------------------------------------------------------
# Traffic between stages
# --------------------------------------------------------------------------------------------------

def boundary_bytes_per_token(hidden_size: int, bytes_per_value: float = 2.0) -> float:
    """Activation one token carries from a stage to the next: its residual vector [bytes/token]."""
    return hidden_size * bytes_per_value


def boundary_transfer_s(tokens: float, hidden_size: int, bandwidth_bytes_per_s: float,
                        bytes_per_value: float = 2.0) -> float:
    """Time to hand ``tokens`` tokens' activations across one stage boundary [s]."""
    return tokens * boundary_bytes_per_token(hidden_size, bytes_per_value) / bandwidth_bytes_per_s
