"""Pipeline parallelism: bubbles, sequences in flight and memory per stage."""

from __future__ import annotations

import math

import numpy as np


def bubble_fraction(stages: int, microbatches: int) -> float:
    """Idle share of a GPipe schedule, (p - 1) / (m + p - 1) [fraction]."""
    if stages < 1 or microbatches < 1:
        raise ValueError("stages and microbatches must be at least 1")
    return (stages - 1) / (microbatches + stages - 1)


def microbatches_for_bubble(stages: int, max_bubble: float) -> int:
    """Fewest micro-batches that keep the bubble at or below ``max_bubble`` [count]."""
    if not 0 < max_bubble < 1:
        raise ValueError("max_bubble must be a fraction in (0, 1)")
    needed = (stages - 1) * (1 - max_bubble) / max_bubble
    m = max(1, math.ceil(needed - 1e-9))
    return m


def gpipe_forward_schedule(stages: int, microbatches: int) -> list[tuple[int, int, int]]:
    """(stage, time slot, micro-batch) for each forward task of a GPipe schedule [slots of one stage-step]."""
    return [(s, s + mb, mb) for s in range(stages) for mb in range(microbatches)]


def sequences_in_flight(stages: int, sequences_per_microbatch: int) -> int:
    """Sequences decoding at once to keep every stage busy: one micro-batch per stage [count]."""
    return stages * sequences_per_microbatch


def weight_bytes_per_stage(weight_bytes: float, stages: int) -> float:
    """Weights held by one stage when layers are split evenly [bytes]."""
    return weight_bytes / stages


def kv_bytes_per_stage(context_tokens, kv_bytes_per_token: float, sequences_per_microbatch: int):
    """KV cache one stage holds [bytes].

    Each stage keeps its 1/p share of the layers' KV for all p*b sequences in
    flight, so the p cancels: b * ctx * kv, however many stages there are.
    """
    return sequences_per_microbatch * np.asarray(context_tokens, dtype=float) * kv_bytes_per_token


def kv_equals_weights_context(weight_bytes: float, stages: int, kv_bytes_per_token: float,
                              sequences_per_microbatch: int) -> float:
    """Context at which one stage's KV cache equals its weights [tokens]."""
    return weight_bytes_per_stage(weight_bytes, stages) / (sequences_per_microbatch * kv_bytes_per_token)
