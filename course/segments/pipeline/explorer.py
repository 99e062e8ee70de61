"""Segment 3 explorer: a pipeline schedule and decode memory per stage, redrawn by sliders."""

from __future__ import annotations

import ipywidgets as widgets

from course.models import pipeline
from course.segments.pipeline import plot
from course.segments.pipeline.view import MAX_MICROBATCHES, MAX_STAGES, MODELS, PipelineView, view
from course.widgets.explorer import Explorer, Scene, explorer_factory


def readout(view: PipelineView) -> str:
    """HTML under the figure: the bubble or busy share, sequences in flight, and memory per stage."""
    if view.mode == "training":
        head = (f"Training, p = {view.stages} stages, m = {view.microbatches} micro-batches: each stage idles {view.stages - 1} of every {view.microbatches + view.stages - 1} "
                f"slots, a bubble of <b>{view.bubble:.1%}</b>, then waits for the gradient sync and weight update.")
    else:
        busy = 1 - view.bubble
        head = (f"Decode, p = {view.stages} stages: with {view.microbatches} micro-batches in flight each stage is busy <b>{busy:.0%}</b> "
                f"of the time; it takes at least p = {view.stages} to keep every stage busy.")
    m = view.memory
    return (
        f"{head}<br>{view.model_name}, fp8 weights, one micro-batch per stage: "
        f"<b>{view.sequences_in_flight:,.0f}</b> sequences in flight; weights {m.weights_gb:,.0f} GB per stage; "
        f"KV per stage passes them at <b>{m.crossover_tokens:,.0f} tokens</b> of context. "
        f"At {pipeline.DEEPSEEK_AVERAGE_KV_TOKENS:,} tokens KV is {view.kv_over_weights_published:.1f}× the "
        f"weights per stage, and splitting into {view.stages} stages saves {view.saving_published:.0%} of a "
        f"stage's memory."
    )


@explorer_factory
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
    scene = Scene(layout=plot.LAYOUT, view=view, draw=plot.draw, update=plot.update, readout=readout)
    return Explorer(controls, scene, title="Pipeline explorer: schedule and memory per stage", main="microbatches")


EXPLORER = pipeline_explorer
"""This segment's explorer, as the tests, the benchmark and the grader's warm-up call it."""
