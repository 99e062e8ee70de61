"""Segment 3 view: a pipeline schedule and decode memory per stage, for one setting of the controls."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from course.models import kv_cache, pipeline, roofline
from course.plots.common import log_limits
from course.presets import chips, llms

MAX_STAGES = 16
"""Largest stage count on the slider [count]."""

MAX_MICROBATCHES = 32
"""Largest micro-batch count on the slider [count]."""

BACKWARD_SLOTS = 2
"""Slots of one backward task: about twice a forward pass [slots]."""

DECODE_TOKENS_SHOWN = 3
"""Decode cycles (tokens per sequence) drawn in the decode schedule [count]."""

MAX_SLOTS = (1 + BACKWARD_SLOTS) * (MAX_MICROBATCHES + MAX_STAGES - 1)
"""Widest schedule the image must hold: a full GPipe batch at the slider maxima [slots]."""

CONTEXT_GRID = np.logspace(7, 20, 60, base=2.0)
"""Context lengths drawn, 128 to about a million tokens [tokens]."""

STAGE = chips.GB200_NVL72_GPU
"""A stage is one NVL72 rack: its GPUs' HBM is the stage's memory."""

MODELS = {"deepseek-v3": llms.DEEPSEEK_V3, "llama-3-70b": llms.LLAMA_3_70B}
"""Models offered by the explorer, by key."""

MIN_FRAME = 4
"""Fewest stages and micro-batches the schedule axes frame [count]."""

MODES = ("training", "decode")
"""Schedules the explorer draws: GPipe training, or steady-state decode."""


def frame_size(count: int) -> int:
    """The smallest power of two at or above ``count``, at least ``MIN_FRAME``: the schedule axes show whole
    steps of these, so their limits and tick labels move only when a slider crosses a power of two [count]."""
    return max(MIN_FRAME, 1 << max(0, int(count) - 1).bit_length())


def schedule_frame(stages: int, microbatches: int) -> tuple[int, int]:
    """(stages, slots) shown by the schedule axes: p and m rounded up to powers of two, wide enough for either
    schedule (training or decode), so switching the schedule does not move the axes."""
    rows, batches = frame_size(stages), frame_size(microbatches)
    slots = max((1 + BACKWARD_SLOTS) * (batches + rows - 1),
                DECODE_TOKENS_SHOWN * pipeline.decode_cycle_slots(rows, batches))
    return rows, min(slots, MAX_SLOTS)


def stage_capacity_bytes(chip: chips.Chip = STAGE) -> float:
    """HBM of one stage made of one full scale-up domain (a rack) of ``chip`` [bytes]."""
    return chip.hbm_bytes * chip.scale_up_domain


def served_weight_bytes(llm: llms.LLM) -> float:
    """Weights as served in fp8, the course's serving convention (segment 1) [bytes]."""
    return llm.total_params * roofline.FP8.weight_bytes_per_param


@dataclass(frozen=True)
class StageMemory:
    """What the memory panel shows, over one grid of context lengths.

    Attributes:
        context_tokens: context lengths [tokens].
        weights_gb: weights per stage [GB].
        kv_gb: KV cache per stage at each context [GB].
        capacity_gb: HBM of one stage [GB].
        crossover_tokens: context where KV per stage equals weights per stage [tokens].
        marker_tokens: a published average context to mark [tokens]; marker_label: its legend text.
        ylim: y limits, whole decades holding the curves at every stage count and model [GB].
    """

    context_tokens: np.ndarray
    weights_gb: float
    kv_gb: np.ndarray
    capacity_gb: float
    crossover_tokens: float
    marker_tokens: float
    marker_label: str
    ylim: tuple[float, float]


@dataclass(frozen=True)
class PipelineView:
    """Everything the segment 3 figure and readout show for one setting of the controls.

    Attributes:
        mode: "training" (GPipe, one batch then a flush) or "decode" (steady-state inference).
        stages, microbatches: p and m [count].
        schedule: the schedule drawn; bubble: its idle share [fraction].
        sequences_in_flight: sequences decoded at once, one micro-batch per stage [count].
        memory: the memory panel's curves (decode, one micro-batch of b per stage).
        kv_over_weights_published: KV / weights per stage at DeepSeek's published average context [ratio].
        saving_published: share of a stage's memory saved by pipelining at that context [fraction].
        frame: (stages, slots) the schedule axes show (``schedule_frame``).
        title: the schedule panel's title.
        model_name: the model's display name.
    """

    mode: str
    stages: int
    microbatches: int
    schedule: pipeline.Schedule
    bubble: float
    sequences_in_flight: float
    memory: StageMemory
    kv_over_weights_published: float
    saving_published: float
    frame: tuple[int, int]
    title: str
    model_name: str

    @property
    def layout_key(self) -> tuple:
        return self.frame, self.memory.ylim

    @property
    def label_key(self) -> str:
        return self.title


SCHEDULE_TITLES = {"training": "GPipe training schedule", "decode": "Decode schedule (steady state)"}
"""Title of the schedule panel by mode; p, m and the bubble are in the readout, so a slider event draws no text."""


def schedule_title(mode: str) -> str:
    """Title of the schedule panel."""
    if mode not in SCHEDULE_TITLES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return SCHEDULE_TITLES[mode]


def pipeline_view(*, mode: str, stages: int, microbatches: int, sequences_per_microbatch: float,
                  llm: llms.LLM = llms.DEEPSEEK_V3) -> PipelineView:
    """The schedule, its bubble and decode memory per stage for one control setting (pure).

    Args:
        mode: "training" or "decode".
        stages, microbatches: p and m [count].
        sequences_per_microbatch: sequences in one micro-batch [count].
        llm: the model whose weights and KV cache fill the stages.
    """
    if mode == "training":
        schedule = pipeline.gpipe_training_schedule(stages, microbatches, BACKWARD_SLOTS)
        bubble = pipeline.bubble_fraction(stages, microbatches)
    elif mode == "decode":
        cycle = pipeline.decode_cycle_slots(stages, microbatches)
        schedule = pipeline.decode_schedule(stages, microbatches, DECODE_TOKENS_SHOWN * cycle)
        bubble = pipeline.decode_bubble_fraction(stages, microbatches)
    else:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    weights = served_weight_bytes(llm)
    kv = kv_cache.kv_bytes_per_token(llm)
    published = pipeline.DEEPSEEK_AVERAGE_KV_TOKENS
    kv_gb = pipeline.kv_bytes_per_stage(CONTEXT_GRID, kv, sequences_per_microbatch) / 1e9
    capacity_gb = stage_capacity_bytes() / 1e9
    weights_range_gb = [pipeline.weight_bytes_per_stage(served_weight_bytes(model), stages_) / 1e9
                        for model in MODELS.values() for stages_ in (1, MAX_STAGES)]
    memory = StageMemory(
        context_tokens=CONTEXT_GRID,
        weights_gb=pipeline.weight_bytes_per_stage(weights, stages) / 1e9,
        kv_gb=kv_gb,
        capacity_gb=capacity_gb,
        crossover_tokens=pipeline.kv_equals_weights_context(weights, stages, kv, sequences_per_microbatch),
        marker_tokens=published,
        marker_label=f"DeepSeek average KV length ({published:,} tokens)",
        ylim=log_limits(*(pipeline.kv_bytes_per_stage(CONTEXT_GRID, kv_cache.kv_bytes_per_token(model),
                                                      sequences_per_microbatch) / 1e9 for model in MODELS.values()),
                        weights_range_gb, capacity_gb, pad=2.0),
    )
    return PipelineView(
        mode=mode, stages=stages, microbatches=microbatches, schedule=schedule, bubble=bubble,
        sequences_in_flight=pipeline.sequences_in_flight(stages, sequences_per_microbatch),
        memory=memory,
        kv_over_weights_published=pipeline.kv_to_weight_ratio(published, weights, stages, kv,
                                                               sequences_per_microbatch),
        saving_published=float(pipeline.stage_memory_saving(published, weights, stages, kv,
                                                            sequences_per_microbatch)),
        frame=schedule_frame(stages, microbatches),
        title=schedule_title(mode),
        model_name=llm.name,
    )


def view(values: Mapping[str, object]) -> PipelineView:
    """The view for the explorer's control values (keys: mode, stages, microbatches, sequences_per_microbatch,
    model)."""
    return pipeline_view(mode=values["mode"], stages=values["stages"], microbatches=values["microbatches"],
                         sequences_per_microbatch=values["sequences_per_microbatch"], llm=MODELS[values["model"]])
