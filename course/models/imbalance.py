"""Why pipelining is not wise: uneven stage loads and cross-stage residual traffic.

Pipeline parallelism cuts a model's layers into contiguous *stages*; in steady
state every stage handles one micro-batch per beat, and the beat is as long as
the **slowest** stage. Two architecture choices make that awkward:

* **Interleaved local and global attention.** A sliding-window ("local") layer
  reads at most ``window`` tokens of KV cache; a global layer reads the whole
  context. Once the context outgrows the window, global layers cost more, and a
  stage that happens to hold more of them sets the pace for all.
* **Attention to earlier layers' residuals** (as in Kimi's attention-to-residuals):
  a layer reads the outputs of *all* earlier layers, so a stage must receive
  every earlier stage's residuals, not just one vector from the stage before.

Time model of one layer for one micro-batch (decode)::

    t_layer = t_fixed + attended_tokens * t_kv_per_token
    t_kv_per_token = sequences * kv_bytes_per_token_per_layer / hbm_bandwidth

``t_fixed`` lumps everything that does not grow with context (weights, MLP,
projections). Its value here is an **illustrative assumption**, as are the
micro-batch size, the window and the 5:1 interleave; the layer count, hidden
size and KV bytes per token come from DeepSeek-V3's published config, and the
bandwidths from the chip presets. Units are SI: seconds, bytes, bytes/s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course.models import kv_cache, moe
from course.presets import llms
from course.presets.chips import H100_SXM, Chip

LOCAL = "local"
GLOBAL = "global"

ILLUSTRATIVE_LOCAL_PER_GLOBAL = 5
"""Sliding-window layers per global layer in the course's example stack [count]. Illustrative assumption."""

ILLUSTRATIVE_WINDOW_TOKENS = 4_096
"""Sliding-window length of a local layer [tokens]. Illustrative assumption."""

ILLUSTRATIVE_FIXED_S_PER_LAYER = 0.1e-3
"""Context-independent time of one layer for one micro-batch (weights, MLP, projections) [s].
Illustrative assumption, not measured."""

ILLUSTRATIVE_MICROBATCH_SEQUENCES = 32
"""Sequences in one decode micro-batch [count]. Illustrative assumption."""

RESIDUAL_BYTES_PER_VALUE = 2.0
"""Bytes per residual-stream value in bf16 [bytes]."""

LECTURE_SCALE_OUT_SLOWDOWN = moe.LECTURE_SCALE_OUT_SLOWDOWN
"""The lecture's "scale-out is ~8x slower than NVLink" [x], as defined in ``course.models.moe``."""


# --------------------------------------------------------------------------------------------------
# Layers and their costs
# --------------------------------------------------------------------------------------------------

def layer_pattern(layers: int, local_per_global: int) -> list[str]:
    """``"local"``/``"global"`` per layer: ``local_per_global`` local layers then one global, repeated.

    ``local_per_global = 0`` gives an all-global stack. Layer i (0-based) is global when
    (i + 1) is a multiple of ``local_per_global + 1``.
    """
    if layers < 1 or local_per_global < 0:
        raise ValueError("need at least one layer and a non-negative local_per_global")
    period = local_per_global + 1
    return [GLOBAL if (i + 1) % period == 0 else LOCAL for i in range(layers)]


def attended_tokens(pattern: list[str], context_tokens: float, window_tokens: float) -> np.ndarray:
    """Tokens of KV cache each layer reads per sequence per step [tokens]: the context, or the window if shorter."""
    is_global = np.array([kind == GLOBAL for kind in pattern])
    local = min(float(context_tokens), float(window_tokens))
    return np.where(is_global, float(context_tokens), local)


def kv_bytes_per_token_per_layer(llm: llms.LLM = llms.DEEPSEEK_V3, bytes_per_value: float = 2.0) -> float:
    """KV cache one token leaves in one layer [bytes]; DeepSeek-V3's MLA: (512 + 64) x 2 = 1,152 in bf16."""
    return kv_cache.kv_bytes_per_token(llm, bytes_per_value) / llm.layers


def kv_read_s_per_token(sequences: float, kv_bytes_per_token_layer: float, hbm_bandwidth: float) -> float:
    """Time for one layer to read one more context token's KV for every sequence of a micro-batch [s/token]."""
    return sequences * kv_bytes_per_token_layer / hbm_bandwidth


def layer_times_s(pattern: list[str], context_tokens: float, window_tokens: float, *, fixed_s: float,
                  kv_s_per_token: float) -> np.ndarray:
    """Per-layer time for one micro-batch: the fixed part plus reading the attended KV [s]."""
    return fixed_s + attended_tokens(pattern, context_tokens, window_tokens) * kv_s_per_token


@dataclass(frozen=True)
class InterleavedStack:
    """A stack of local and global attention layers and what one layer costs.

    Attributes:
        layers: transformer layers [count].
        local_per_global: local layers before each global one [count]; 0 for all global.
        window_tokens: sliding window of a local layer [tokens].
        fixed_s_per_layer: context-independent time per layer per micro-batch [s].
        kv_s_per_token: time one layer spends per attended token per micro-batch [s/token].
        hidden_size: residual width [values].
    """

    layers: int
    local_per_global: int
    window_tokens: float
    fixed_s_per_layer: float
    kv_s_per_token: float
    hidden_size: int

    @property
    def pattern(self) -> list[str]:
        """``"local"``/``"global"`` for each layer."""
        return layer_pattern(self.layers, self.local_per_global)

    def layer_times_s(self, context_tokens: float) -> np.ndarray:
        """Time of each layer for one micro-batch at this context [s]."""
        return layer_times_s(self.pattern, context_tokens, self.window_tokens,
                             fixed_s=self.fixed_s_per_layer, kv_s_per_token=self.kv_s_per_token)


def deepseek_shaped_stack(*, local_per_global: int = ILLUSTRATIVE_LOCAL_PER_GLOBAL,
                          window_tokens: float = ILLUSTRATIVE_WINDOW_TOKENS,
                          fixed_s_per_layer: float = ILLUSTRATIVE_FIXED_S_PER_LAYER,
                          microbatch_sequences: float = ILLUSTRATIVE_MICROBATCH_SEQUENCES,
                          chip: Chip = H100_SXM, llm: llms.LLM = llms.DEEPSEEK_V3) -> InterleavedStack:
    """DeepSeek-V3's shape (61 layers, hidden 7168, MLA KV) *as if* it interleaved local and global layers.

    Sourced: layers, hidden size and KV bytes per token from the published config; HBM bandwidth
    from the chip preset. Illustrative: the interleave, window, fixed per-layer time and micro-batch.
    DeepSeek-V3 itself has no sliding-window layers: this is a thought experiment on its shape.
    """
    return InterleavedStack(
        layers=llm.layers,
        local_per_global=local_per_global,
        window_tokens=window_tokens,
        fixed_s_per_layer=fixed_s_per_layer,
        kv_s_per_token=kv_read_s_per_token(microbatch_sequences, kv_bytes_per_token_per_layer(llm),
                                           chip.hbm_bandwidth),
        hidden_size=llm.hidden_size,
    )


# --------------------------------------------------------------------------------------------------
# Stages
# --------------------------------------------------------------------------------------------------

def _check_split(split, layers: int) -> list[int]:
    split = [int(n) for n in split]
    if any(n < 1 for n in split):
        raise ValueError(f"every stage needs at least one layer, got {split}")
    if sum(split) != layers:
        raise ValueError(f"split covers {sum(split)} layers but the stack has {layers}")
    return split


def even_split(layers: int, stages: int) -> list[int]:
    """Layers per stage for an even contiguous split; the first stages take the remainder [count]."""
    if not 1 <= stages <= layers:
        raise ValueError(f"need 1 <= stages <= layers, got {stages} stages for {layers} layers")
    base, extra = divmod(layers, stages)
    return [base + (1 if s < extra else 0) for s in range(stages)]


def stage_edges(split) -> np.ndarray:
    """First layer index of each stage, then the layer count: [0, n1, n1 + n2, ..., L]."""
    return np.cumsum([0, *[int(n) for n in split]])


def stage_times_s(layer_times, split) -> np.ndarray:
    """Sum of layer times per contiguous stage [s]."""
    layer_times = np.asarray(layer_times, dtype=float)
    split = _check_split(split, len(layer_times))
    edges = stage_edges(split)
    prefix = np.concatenate([[0.0], np.cumsum(layer_times)])
    return prefix[edges[1:]] - prefix[edges[:-1]]


def pipeline_efficiency(stage_times) -> float:
    """Mean stage time over the slowest stage's [fraction]; 1 means perfectly balanced.

    In steady state each stage works for its own time per beat and waits for the
    slowest the rest: useful work sum(t) out of stages x max(t).
    """
    stage_times = np.asarray(stage_times, dtype=float)
    return float(stage_times.mean() / stage_times.max())


def _stages_needed(layer_times: np.ndarray, bound: float) -> int:
    """Fewest contiguous stages with no stage over ``bound`` (greedy packing from the front)."""
    count, running = 1, 0.0
    for t in layer_times:
        if running + t > bound:
            count, running = count + 1, t
        else:
            running += t
    return count


def min_slowest_stage_s(layer_times, stages: int) -> float:
    """Smallest possible slowest-stage time over all contiguous splits into ``stages`` stages [s].

    The optimum is one of the contiguous sums; binary search over them with a greedy feasibility test.
    """
    layer_times = np.asarray(layer_times, dtype=float)
    even_split(len(layer_times), stages)  # validates the stage count
    prefix = np.concatenate([[0.0], np.cumsum(layer_times)])
    i, j = np.triu_indices(len(prefix), k=1)
    candidates = np.unique(prefix[j] - prefix[i])
    candidates = candidates[candidates >= layer_times.max() * (1 - 1e-12)]
    slack = 1e-9 * prefix[-1]
    low, high = 0, len(candidates) - 1
    while low < high:
        middle = (low + high) // 2
        if _stages_needed(layer_times, candidates[middle] + slack) <= stages:
            high = middle
        else:
            low = middle + 1
    return float(candidates[low])


def best_contiguous_split(layer_times, stages: int) -> list[int]:
    """A contiguous split into ``stages`` non-empty stages whose slowest stage is as fast as possible [count].

    Among the splits that reach that optimum it returns the most even one (least sum of squared
    stage times), found by dynamic programming; ties go to the split with earlier cuts.
    """
    layer_times = np.asarray(layer_times, dtype=float)
    layers = len(layer_times)
    bound = min_slowest_stage_s(layer_times, stages) * (1 + 1e-9)
    prefix = np.concatenate([[0.0], np.cumsum(layer_times)])
    # cost[k, j]: least sum of squares covering layers [0, j) with k stages, each within the bound
    cost = np.full((stages + 1, layers + 1), np.inf)
    choice = np.zeros((stages + 1, layers + 1), dtype=int)
    cost[0, 0] = 0.0
    for k in range(1, stages + 1):
        for j in range(k, layers + 1):
            starts = np.arange(k - 1, j)
            sums = prefix[j] - prefix[starts]
            total = np.where(sums <= bound, cost[k - 1, starts] + sums ** 2, np.inf)
            best = int(np.argmin(total))
            cost[k, j], choice[k, j] = total[best], starts[best]
    split, j = [], layers
    for k in range(stages, 0, -1):
        i = choice[k, j]
        split.append(j - i)
        j = i
    return split[::-1]


TIE_TOLERANCE = 1e-9
"""Stage times this close (relative) count as equally slow [fraction]."""


@dataclass(frozen=True)
class StageLoads:
    """One split of one stack at one context.

    Attributes:
        split: layers per stage [count].
        pattern: "local"/"global" per layer.
        layer_times_s, stage_times_s: per layer and per stage, one micro-batch [s].
        slowest_stage: index of the bottleneck stage (0-based; the first of those tied within rounding).
        efficiency: mean over slowest stage time [fraction].
    """

    split: tuple[int, ...]
    pattern: tuple[str, ...]
    layer_times_s: np.ndarray
    stage_times_s: np.ndarray
    slowest_stage: int
    efficiency: float

    @property
    def bottlenecks(self) -> np.ndarray:
        """True for every stage as slow as the slowest, up to rounding [bool per stage]."""
        return self.stage_times_s >= self.stage_times_s.max() * (1 - TIE_TOLERANCE)

    @property
    def slowest_stage_s(self) -> float:
        """Time of the bottleneck stage: the pipeline's beat [s]."""
        return float(self.stage_times_s[self.slowest_stage])

    @property
    def mean_stage_s(self) -> float:
        """Stage time if the work were spread perfectly evenly [s]."""
        return float(self.stage_times_s.mean())

    def globals_per_stage(self) -> list[int]:
        """Global layers on each stage [count]."""
        edges = stage_edges(self.split)
        return [sum(kind == GLOBAL for kind in self.pattern[a:b]) for a, b in zip(edges[:-1], edges[1:])]

    def layout(self) -> list[str]:
        """Each stage's layers as a string, ``L`` for local and ``G`` for global."""
        edges = stage_edges(self.split)
        return ["".join("G" if kind == GLOBAL else "L" for kind in self.pattern[a:b])
                for a, b in zip(edges[:-1], edges[1:])]


def stage_loads(stack: InterleavedStack, context_tokens: float, stages: int, split="even") -> StageLoads:
    """Stage times of ``stack`` at ``context_tokens``, split ``"even"``, ``"best"`` or as a list of counts."""
    times = stack.layer_times_s(context_tokens)
    if isinstance(split, str):
        if split == "even":
            split = even_split(stack.layers, stages)
        elif split == "best":
            split = best_contiguous_split(times, stages)
        else:
            raise ValueError(f"split must be 'even', 'best' or a list of layer counts, got {split!r}")
    stage_times = stage_times_s(times, split)
    slowest = int(np.flatnonzero(stage_times >= stage_times.max() * (1 - TIE_TOLERANCE))[0])
    return StageLoads(split=tuple(int(n) for n in split), pattern=tuple(stack.pattern), layer_times_s=times,
                      stage_times_s=stage_times, slowest_stage=slowest,
                      efficiency=pipeline_efficiency(stage_times))


def efficiency_vs_context(stack: InterleavedStack, contexts, stages: int, split: str = "even") -> np.ndarray:
    """Pipeline efficiency at each context length, re-splitting at each one if ``split="best"`` [fraction]."""
    out = np.empty(len(contexts))
    for k, context in enumerate(contexts):
        times = stack.layer_times_s(context)
        if split == "best":
            slowest = min_slowest_stage_s(times, stages)
        else:
            slowest = float(stage_times_s(times, even_split(stack.layers, stages)).max())
        out[k] = float(times.sum()) / stages / slowest
    return out


# --------------------------------------------------------------------------------------------------
# Attention to earlier layers' residuals, across stages
# --------------------------------------------------------------------------------------------------

def stage_of_layer(layer_index: int, split) -> int:
    """Stage (0-based) holding layer ``layer_index`` (0-based)."""
    edges = stage_edges(split)
    if not 0 <= layer_index < edges[-1]:
        raise ValueError(f"layer {layer_index} is outside a stack of {edges[-1]} layers")
    return int(np.searchsorted(edges, layer_index, side="right") - 1)


def remote_residual_layers(layer_index: int, split) -> int:
    """Earlier layers whose outputs live on other (earlier) stages: those before this layer's stage [count].

    A layer that attends to the outputs of every earlier layer finds those of its own stage
    locally; all the others sit on earlier stages.
    """
    return int(stage_edges(split)[stage_of_layer(layer_index, split)])


def residual_bytes_from_other_stages(layer_index: int, split, hidden_size: int,
                                     bytes_per_value: float = RESIDUAL_BYTES_PER_VALUE) -> float:
    """Bytes one token at ``layer_index`` must fetch from other stages to attend to all earlier
    layers' outputs [bytes/token]: remote layers x hidden size x bytes per value."""
    return remote_residual_layers(layer_index, split) * hidden_size * bytes_per_value


def residual_bytes_received_per_stage(split, hidden_size: int,
                                      bytes_per_value: float = RESIDUAL_BYTES_PER_VALUE) -> np.ndarray:
    """Bytes each stage must receive per token so its layers can attend to all earlier layers [bytes/token].

    Each earlier layer's output is sent once to every later stage.
    """
    return stage_edges(split)[:-1] * hidden_size * bytes_per_value


def plain_pipeline_bytes_per_boundary(hidden_size: int, bytes_per_value: float = RESIDUAL_BYTES_PER_VALUE) -> float:
    """Bytes an ordinary pipeline sends per token across one stage boundary: one residual vector [bytes/token]."""
    return hidden_size * bytes_per_value


def transfer_time_s(bytes_moved: float, bandwidth: float) -> float:
    """Time to move ``bytes_moved`` over a link of ``bandwidth`` bytes/s [s]."""
    return bytes_moved / bandwidth
