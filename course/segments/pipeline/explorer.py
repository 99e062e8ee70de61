"""Segment 3 explorer: a pipeline schedule and decode memory per stage, redrawn by sliders."""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np

from course.models import kv_cache, pipeline, roofline
from course.plots.figure import new_figure
from course.segments.pipeline.plot import MemoryCurves, draw_pipeline, update_pipeline
from course.presets import chips, llms
from course.widgets.base import Explorer

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


def frame_size(count: int) -> int:
    """The smallest power of two at or above ``count``, at least ``MIN_FRAME``: the schedule axes show whole
    steps of these, so their limits and tick labels move only when a slider crosses a power of two [count]."""
    return max(MIN_FRAME, 1 << max(0, int(count) - 1).bit_length())


def schedule_frame(mode: str, stages: int, microbatches: int) -> tuple[int, int]:
    """(stages, slots) shown by the schedule axes: the schedule at p and m rounded up to powers of two.

    A schedule's slots grow with both p and m, so the frame holds the schedule; above ``MIN_FRAME`` it fills
    at least about half of it in each direction.
    """
    rows, batches = frame_size(stages), frame_size(microbatches)
    if mode == "training":
        slots = (1 + BACKWARD_SLOTS) * (batches + rows - 1)
    else:
        slots = DECODE_TOKENS_SHOWN * pipeline.decode_cycle_slots(rows, batches)
    return rows, min(slots, MAX_SLOTS)


def stage_capacity_bytes(chip: chips.Chip = STAGE) -> float:
    """HBM of one stage made of one full scale-up domain (a rack) of ``chip`` [bytes]."""
    return chip.hbm_bytes * chip.scale_up_domain


def served_weight_bytes(llm: llms.LLM) -> float:
    """Weights as served in fp8, the course's serving convention (segment 1) [bytes]."""
    return llm.total_params * roofline.FP8.weight_bytes_per_param


@dataclass(frozen=True)
class PipelineView:
    """Everything the segment 3 figure and readout show for one setting of the controls.

    Attributes:
        mode: "training" (GPipe, one batch then a flush) or "decode" (steady-state inference).
        stages, microbatches: the sliders [count].
        schedule: who works when (``course.models.pipeline.Schedule``).
        bubble: idle share of the schedule from the formula [fraction].
        sequences_in_flight: p * b, one micro-batch per stage [count].
        memory: the memory panel's curves (decode, one micro-batch of b per stage).
        kv_over_weights_published: KV / weights per stage at DeepSeek's published average context [ratio].
        saving_published: share of a stage's memory saved by pipelining at that context [fraction].
        frame: (stages, slots) the schedule axes show (``schedule_frame``), or None to fit the schedule.
    """

    mode: str
    stages: int
    microbatches: int
    schedule: pipeline.Schedule
    bubble: float
    sequences_in_flight: float
    memory: MemoryCurves
    kv_over_weights_published: float
    saving_published: float
    frame: tuple[int, int] | None = None


def pipeline_view(*, mode: str, stages: int, microbatches: int, sequences_per_microbatch: float,
                  llm: llms.LLM = llms.DEEPSEEK_V3) -> PipelineView:
    """Compute the schedule, its bubble and decode memory per stage for one control setting (pure)."""
    if mode == "training":
        schedule = pipeline.gpipe_training_schedule(stages, microbatches, BACKWARD_SLOTS)
        bubble = pipeline.bubble_fraction(stages, microbatches)
    elif mode == "decode":
        cycle = pipeline.decode_cycle_slots(stages, microbatches)
        schedule = pipeline.decode_schedule(stages, microbatches, DECODE_TOKENS_SHOWN * cycle)
        bubble = pipeline.decode_bubble_fraction(stages, microbatches)
    else:
        raise ValueError(f"mode must be 'training' or 'decode', got {mode!r}")
    weights = served_weight_bytes(llm)
    kv = kv_cache.kv_bytes_per_token(llm)
    published = pipeline.DEEPSEEK_AVERAGE_KV_TOKENS
    memory = MemoryCurves(
        context_tokens=CONTEXT_GRID,
        weights_gb=pipeline.weight_bytes_per_stage(weights, stages) / 1e9,
        kv_gb=pipeline.kv_bytes_per_stage(CONTEXT_GRID, kv, sequences_per_microbatch) / 1e9,
        capacity_gb=stage_capacity_bytes() / 1e9,
        crossover_tokens=pipeline.kv_equals_weights_context(weights, stages, kv, sequences_per_microbatch),
        marker_tokens=published,
        marker_label=f"DeepSeek average KV length ({published:,} tokens)",
        weights_range_gb=(pipeline.weight_bytes_per_stage(weights, MAX_STAGES) / 1e9,
                          pipeline.weight_bytes_per_stage(weights, 1) / 1e9),
    )
    return PipelineView(
        mode=mode, stages=stages, microbatches=microbatches, schedule=schedule, bubble=bubble,
        sequences_in_flight=pipeline.sequences_in_flight(stages, sequences_per_microbatch),
        memory=memory,
        kv_over_weights_published=pipeline.kv_to_weight_ratio(published, weights, stages, kv,
                                                               sequences_per_microbatch),
        saving_published=float(pipeline.stage_memory_saving(published, weights, stages, kv,
                                                            sequences_per_microbatch)),
        frame=schedule_frame(mode, stages, microbatches),
    )


def schedule_title(view: PipelineView) -> str:
    """Title of the schedule panel."""
    if view.mode == "training":
        return (f"Training (GPipe): p={view.stages}, m={view.microbatches}, "
                f"bubble (p-1)/(m+p-1) = {view.bubble:.1%}")
    return (f"Decode: {view.microbatches} micro-batches in flight over p={view.stages} stages, "
            f"idle {view.bubble:.0%}")


def readout(view: PipelineView, llm: llms.LLM) -> str:
    """HTML readout under the figure."""
    if view.mode == "training":
        head = (f"Training: each stage idles {view.stages - 1} of every {view.microbatches + view.stages - 1} "
                f"slots, a bubble of <b>{view.bubble:.1%}</b>, then waits for the gradient sync and weight update.")
    else:
        busy = 1 - view.bubble
        head = (f"Decode: with {view.microbatches} micro-batches in flight each stage is busy <b>{busy:.0%}</b> "
                f"of the time; it takes at least p = {view.stages} to keep every stage busy.")
    m = view.memory
    return (
        f"{head}<br>{llm.name}, fp8 weights, one micro-batch per stage: <b>{view.sequences_in_flight:,.0f}</b> "
        f"sequences in flight; weights {m.weights_gb:,.0f} GB per stage; KV per stage passes them at "
        f"<b>{m.crossover_tokens:,.0f} tokens</b> of context. At {pipeline.DEEPSEEK_AVERAGE_KV_TOKENS:,} tokens "
        f"KV is {view.kv_over_weights_published:.1f}× the weights per stage, and splitting into "
        f"{view.stages} stages saves {view.saving_published:.0%} of a stage's memory."
    )


def pipeline_explorer() -> Explorer:
    """Sliders for stages, micro-batches, sequences per micro-batch, mode and model over both panels."""
    controls = {
        "mode": widgets.Dropdown(options=[("training (GPipe)", "training"), ("inference (decode)", "decode")],
                                 value="training", description="schedule"),
        "stages": widgets.IntSlider(value=4, min=1, max=MAX_STAGES, description="stages p"),
        "microbatches": widgets.IntSlider(value=8, min=1, max=MAX_MICROBATCHES, description="micro-batches m"),
        "sequences_per_microbatch": widgets.FloatLogSlider(value=2400, base=2, min=0, max=13, step=0.25,
                                                           description="seqs / m-batch", readout_format=".0f"),
        "model": widgets.Dropdown(options=[(llm.name, key) for key, llm in MODELS.items()], value="deepseek-v3",
                                  description="model"),
    }
    figure, (schedule_ax, memory_ax) = new_figure(width_in=10.0, height_in=3.9)
    memory_ax.set_title("Decode memory per stage (p micro-batches in flight)", fontsize=10)
    state = {}

    def update(values: dict) -> str:
        llm = MODELS[values["model"]]
        view = pipeline_view(mode=values["mode"], stages=values["stages"], microbatches=values["microbatches"],
                             sequences_per_microbatch=values["sequences_per_microbatch"], llm=llm)
        if "artists" not in state:
            state["artists"] = draw_pipeline(schedule_ax, memory_ax, view.schedule, schedule_title(view),
                                             view.memory, MAX_STAGES, MAX_SLOTS, view.frame)
        else:
            update_pipeline(state["artists"], view.schedule, schedule_title(view), view.memory, view.frame)
        return readout(view, llm)

    return Explorer(controls, figure, update, title="Pipeline explorer: schedule and memory per stage")
