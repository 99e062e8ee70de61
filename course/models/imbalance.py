"""Why pipelining is not wise: uneven stage loads and cross-stage residual traffic.

A stack that interleaves sliding-window ("local") and global attention layers
costs different time per layer once the context outgrows the window. Split
into contiguous stages, the slowest stage sets the pace.
"""

from __future__ import annotations

import numpy as np


def layer_pattern(layers: int, local_per_global: int) -> list[str]:
    """'local'/'global' for each layer: ``local_per_global`` local layers then one global, repeated."""
    period = local_per_global + 1
    return ["global" if (i + 1) % period == 0 else "local" for i in range(layers)]


def layer_times_s(pattern: list[str], context_tokens: float, window_tokens: float, *, fixed_s: float,
                  kv_s_per_token: float) -> np.ndarray:
    """Per-layer decode time: a fixed part plus reading the attended KV [s]."""
    attended = np.array([context_tokens if kind == "global" else min(context_tokens, window_tokens)
                         for kind in pattern], dtype=float)
    return fixed_s + attended * kv_s_per_token


def even_split(layers: int, stages: int) -> list[int]:
    """Layers per stage for an even contiguous split (earlier stages take the remainder) [count]."""
    base, extra = divmod(layers, stages)
    return [base + (1 if s < extra else 0) for s in range(stages)]


def stage_times_s(layer_times, split: list[int]) -> np.ndarray:
    """Sum of layer times per contiguous stage [s]."""
    if sum(split) != len(layer_times):
        raise ValueError(f"split covers {sum(split)} layers but the stack has {len(layer_times)}")
    edges = np.cumsum([0, *split])
    return np.array([float(np.sum(layer_times[a:b])) for a, b in zip(edges[:-1], edges[1:])])


def pipeline_efficiency(stage_times) -> float:
    """Mean stage time over the slowest stage's [fraction]; 1 means perfectly balanced."""
    stage_times = np.asarray(stage_times, dtype=float)
    return float(stage_times.mean() / stage_times.max())


def residual_bytes_from_other_stages(layer_index: int, split: list[int], hidden_size: int,
                                     bytes_per_value: float = 2.0) -> float:
    """Bytes one token at ``layer_index`` must fetch to attend to all earlier layers' residuals
    that live on other stages [bytes/token]."""
    edges = np.cumsum([0, *split])
    stage_start = int(edges[np.searchsorted(edges, layer_index, side="right") - 1])
    return stage_start * hidden_size * bytes_per_value
