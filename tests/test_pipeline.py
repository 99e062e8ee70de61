"""Segment 3 (pipeline parallelism): models, exercises, plots and explorer.

Reference figures come from the lecture's flashcards (seed 000_62a4a1b27a4173d8) and
shared/reference/facts.md; each test names the one it checks against.
"""

from __future__ import annotations


import numpy as np
import pytest

from course.segments.pipeline import checks
from course.exercise import AnswerError
from course.models import kv_cache, pipeline
from course.presets import llms
from course.segments.pipeline import view as view_module
from course.segments.pipeline.explorer import pipeline_explorer
from course.segments.pipeline.plot import schedule_rgba

# ---------------------------------------------------------------------------------------------
# Figures from the sources, written out here (not taken from the code under test)
# ---------------------------------------------------------------------------------------------
DEEPSEEK_TOTAL_PARAMS = 671e9            # facts.md: DeepSeek-V3 671B total
DEEPSEEK_KV_BYTES_PER_TOKEN = 70_272     # facts.md: (512 + 64) x 61 x 2 bytes
DEEPSEEK_HIDDEN = 7168                   # facts.md: hidden 7168
DEEPSEEK_AVERAGE_KV_LENGTH = 4_989       # facts.md: DeepSeek inference overview, average KV length
LECTURE_CRITICAL_BATCH = 2_400           # seed: DeepSeek V3, B >= 300 x 8 = 2,400
SCALE_OUT_PER_GPU = 50e9                 # facts.md: ~50 GB/s scale-out per GPU
NVL72_GPUS = 72                          # facts.md: GB200 NVL72 rack, 72 GPUs
NVL72_HBM_RANGE = (13.4e12, 13.8e12)     # facts.md: 13.4-13.8 TB HBM per rack

GRID = [(p, m) for p in (1, 2, 3, 4, 8, 16) for m in (1, 2, 5, 8, 32)]


def facts_bubble(p: int, m: int) -> float:
    """facts.md, 'Pipeline bubbles': GPipe bubble fraction (p - 1) / (m + p - 1)."""
    return (p - 1) / (m + p - 1)


# ---------------------------------------------------------------------------------------------
# Bubbles
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("p,m", GRID)
def test_bubble_fraction_matches_the_gpipe_formula(p, m):
    assert pipeline.bubble_fraction(p, m) == pytest.approx(facts_bubble(p, m))


@pytest.mark.parametrize("p,m", GRID)
def test_idle_cells_of_the_drawn_training_schedule_equal_the_formula(p, m):
    """Counting idle cells of the explicit GPipe schedule reproduces facts.md's formula."""
    for backward_slots in (1, 2, 3):
        schedule = pipeline.gpipe_training_schedule(p, m, backward_slots)
        assert schedule.idle_fraction == pytest.approx(facts_bubble(p, m))
        assert schedule.slots == (1 + backward_slots) * (m + p - 1)
        assert schedule.flush_slot == schedule.slots


def test_bubble_falls_as_microbatches_grow_and_vanishes_without_stages():
    values = [pipeline.bubble_fraction(8, m) for m in (1, 2, 4, 8, 64, 1024)]
    assert all(a > b for a, b in zip(values, values[1:]))
    assert values[-1] < 0.01
    assert pipeline.bubble_fraction(1, 5) == 0


def test_lecture_picture_first_stage_idle_at_the_end_last_stage_idle_at_the_start():
    """Seed: early in the batch the last stages idle; at its end the first stages idle."""
    schedule = pipeline.gpipe_training_schedule(4, 6, backward_slots=1)
    forward_end = 6 + 4 - 1
    assert np.all(schedule.phase[3, :3] == pipeline.IDLE)          # last stage waits for the fill
    assert schedule.phase[0, 0] == pipeline.FORWARD
    assert np.all(schedule.phase[0, 6:forward_end] == pipeline.IDLE)  # first stage done, others still busy
    assert schedule.phase[3, forward_end - 1] == pipeline.FORWARD


@pytest.mark.parametrize("p,m", GRID)
def test_training_schedule_respects_dependencies(p, m):
    """Every micro-batch runs forward once per stage in stage order, then backward in reverse order."""
    schedule = pipeline.gpipe_training_schedule(p, m, backward_slots=2)
    for mb in range(m):
        forward_slots = [np.flatnonzero((schedule.microbatch[s] == mb) & (schedule.phase[s] == pipeline.FORWARD))
                         for s in range(p)]
        backward_slots = [np.flatnonzero((schedule.microbatch[s] == mb) & (schedule.phase[s] == pipeline.BACKWARD))
                          for s in range(p)]
        assert all(len(f) == 1 for f in forward_slots) and all(len(b) == 2 for b in backward_slots)
        for s in range(p - 1):
            assert forward_slots[s + 1][0] > forward_slots[s][0]
            assert backward_slots[s][0] > backward_slots[s + 1][-1]
        assert backward_slots[p - 1][0] > forward_slots[p - 1][0]
        # the flush comes after everything: gradients are combined before the next batch
        assert backward_slots[0][-1] < schedule.flush_slot


def test_forward_schedule_lists_every_task_once():
    tasks = pipeline.gpipe_forward_schedule(3, 4)
    assert len(tasks) == 12 and len({(s, t) for s, t, _ in tasks}) == 12


@pytest.mark.parametrize("p,target", [(2, 0.5), (4, 0.1), (8, 0.03), (8, 0.05), (16, 0.2), (5, 0.25), (1, 0.1)])
def test_microbatches_for_bubble_is_the_fewest_that_meet_the_target(p, target):
    m = pipeline.microbatches_for_bubble(p, target)
    assert facts_bubble(p, m) <= target + 1e-12
    if m > 1:
        assert facts_bubble(p, m - 1) > target


def test_microbatches_for_bubble_rejects_bad_targets():
    for bad in (0, 1, -0.1, 1.5):
        with pytest.raises(ValueError):
            pipeline.microbatches_for_bubble(4, bad)
    with pytest.raises(ValueError):
        pipeline.bubble_fraction(0, 4)


# ---------------------------------------------------------------------------------------------
# Decode: sequences in flight
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("p,m", GRID)
def test_decode_stages_busy_only_with_p_microbatches_in_flight(p, m):
    """Seed: keeping PP stages busy requires PP micro-batches in flight."""
    utilisation = pipeline.decode_stage_utilisation(p, m)
    assert utilisation == pytest.approx(min(m, p) / p)
    assert (utilisation == 1) == (m >= p)
    schedule = pipeline.decode_schedule(p, m, slots=5 * max(p, m))
    assert schedule.idle_fraction == pytest.approx(pipeline.decode_bubble_fraction(p, m))


@pytest.mark.parametrize("p,m", GRID)
def test_decode_schedule_next_token_waits_for_the_last_stage(p, m):
    """A micro-batch re-enters stage 1 only after leaving the last stage; each stage passes it on."""
    slots = 4 * max(p, m)
    schedule = pipeline.decode_schedule(p, m, slots)
    for mb in range(m):
        first = np.flatnonzero(schedule.microbatch[0] == mb)
        last = np.flatnonzero(schedule.microbatch[p - 1] == mb)
        for start in first:
            leaves = [t for t in last if t < start]
            earlier_entries = [t for t in first if t < start]
            if earlier_entries:  # the previous token must have left the last stage
                assert leaves and leaves[-1] >= earlier_entries[-1] + p - 1
        for s in range(p - 1):
            for t in np.flatnonzero(schedule.microbatch[s] == mb):
                if t + 1 < slots:
                    assert schedule.microbatch[s + 1, t + 1] == mb
    assert schedule.flush_slot is None
    assert pipeline.decode_cycle_slots(p, m) == max(p, m)


def test_sequences_in_flight_scale_with_stages():
    """Seed: concurrent sequences scale with PP. With the lecture's 2,400 per micro-batch and 8 stages."""
    assert pipeline.sequences_in_flight(8, LECTURE_CRITICAL_BATCH) == 8 * 2_400
    assert pipeline.sequences_in_flight(16, 100) == 2 * pipeline.sequences_in_flight(8, 100)


# ---------------------------------------------------------------------------------------------
# Memory per stage
# ---------------------------------------------------------------------------------------------

def test_deepseek_kv_bytes_per_token_matches_facts():
    assert kv_cache.kv_bytes_per_token(llms.DEEPSEEK_V3) == DEEPSEEK_KV_BYTES_PER_TOKEN
    assert llms.DEEPSEEK_V3.total_params == DEEPSEEK_TOTAL_PARAMS


def test_kv_per_stage_is_the_stage_share_of_all_sequences_in_flight():
    """p micro-batches of b sequences, each stage holding 1/p of the layers: p cancels."""
    b, ctx, kv = 64, 10_000, 1000.0
    for p in (1, 2, 8, 16):
        everything_in_flight = p * b * ctx * kv
        assert float(pipeline.kv_bytes_per_stage(ctx, kv, b)) == pytest.approx(everything_in_flight / p)
    contexts = np.array([1, 10, 100])
    assert np.allclose(pipeline.kv_bytes_per_stage(contexts, kv, b), b * contexts * kv)


def test_weights_per_stage_fall_with_stages():
    assert pipeline.weight_bytes_per_stage(800, 8) == 100
    assert pipeline.weight_bytes_per_stage(800, 1) == 800


def test_crossover_context_for_the_exercise_scenario():
    """DeepSeek-V3 in fp8 (671 GB) over 8 stages, 2,400 per micro-batch, 70,272 B/token of KV."""
    by_hand = DEEPSEEK_TOTAL_PARAMS * 1 / 8 / (LECTURE_CRITICAL_BATCH * DEEPSEEK_KV_BYTES_PER_TOKEN)
    assert checks.CROSSOVER_CONTEXT.expected() == pytest.approx(by_hand)
    assert 490 < by_hand < 500  # about 497 tokens: under a page of text
    ctx = pipeline.kv_equals_weights_context(671e9, 8, DEEPSEEK_KV_BYTES_PER_TOKEN, 2400)
    assert float(pipeline.kv_bytes_per_stage(ctx, DEEPSEEK_KV_BYTES_PER_TOKEN, 2400)) == pytest.approx(671e9 / 8)


def test_kv_over_weights_at_deepseek_average_context():
    by_hand = LECTURE_CRITICAL_BATCH * DEEPSEEK_AVERAGE_KV_LENGTH * DEEPSEEK_KV_BYTES_PER_TOKEN / (
        DEEPSEEK_TOTAL_PARAMS / 8)
    assert pipeline.DEEPSEEK_AVERAGE_KV_TOKENS == DEEPSEEK_AVERAGE_KV_LENGTH
    assert pipeline.kv_to_weight_ratio(4989, 671e9, 8, DEEPSEEK_KV_BYTES_PER_TOKEN, 2400) == pytest.approx(by_hand)
    assert checks.KV_SHARE_PUBLISHED.expected() == pytest.approx(by_hand / (1 + by_hand))
    assert by_hand > 1  # the lecture's claim: at real context lengths KV dominates


def test_deepseek_decode_deployment_constants_match_facts():
    assert pipeline.DEEPSEEK_DECODE_NODES == 18 and pipeline.DEEPSEEK_DECODE_EXPERT_PARALLEL == 144
    assert pipeline.DEEPSEEK_TECH_REPORT_DECODE_GPUS == 320  # facts.md: decode units of 320 GPUs (EP320)
    assert pipeline.DEEPSEEK_DECODE_EXPERT_PARALLEL == 8 * pipeline.DEEPSEEK_DECODE_NODES


def test_stage_memory_saving_shrinks_once_kv_dominates():
    """Pipelining saves ~(1 - 1/p) of memory at short context and little at long context."""
    w, kv, b = 671e9, DEEPSEEK_KV_BYTES_PER_TOKEN, 2400
    short = float(pipeline.stage_memory_saving(1, w, 8, kv, b))
    long = float(pipeline.stage_memory_saving(1e6, w, 8, kv, b))
    assert short == pytest.approx(1 - 1 / 8, rel=1e-3)
    assert long < 0.01
    at_crossover = pipeline.kv_equals_weights_context(w, 8, kv, b)
    # at the crossover the stage holds W/p + W/p; without pipelining W + W/p
    assert float(pipeline.stage_memory_saving(at_crossover, w, 8, kv, b)) == pytest.approx(1 - (2 / 8) / (1 + 1 / 8))


def test_boundary_traffic_is_small_next_to_a_decode_step():
    """One micro-batch of 2,400 tokens crossing a rack boundary over 72 x 50 GB/s of scale-out."""
    assert pipeline.boundary_bytes_per_token(DEEPSEEK_HIDDEN) == DEEPSEEK_HIDDEN * 2
    seconds = pipeline.boundary_transfer_s(2400, DEEPSEEK_HIDDEN, NVL72_GPUS * SCALE_OUT_PER_GPU)
    assert seconds == pytest.approx(2400 * 7168 * 2 / (72 * 50e9))
    assert seconds < 1e-4  # well under the ~20 ms HBM drain time of the seed


def test_stage_capacity_is_one_nvl72_rack():
    assert NVL72_HBM_RANGE[0] <= view_module.stage_capacity_bytes() <= NVL72_HBM_RANGE[1]


# ---------------------------------------------------------------------------------------------
# Exercises
# ---------------------------------------------------------------------------------------------

def test_exercise_parameters_are_the_ones_the_notebook_states():
    """The notebook's prompts say p=4, m=8; p=8 and at most 3%; p=8 stages of DeepSeek-V3 in fp8."""
    assert checks.BUBBLE_EXERCISE == {"stages": 4, "microbatches": 8}
    assert checks.MICROBATCH_EXERCISE == {"stages": 8, "max_bubble": 0.03}
    assert checks.INFERENCE_SCENARIO["stages"] == 8
    assert checks.INFERENCE_SCENARIO["llm"] is llms.DEEPSEEK_V3
    assert checks.INFERENCE_SCENARIO["weight_bytes_per_param"] == 1


def test_exercise_scenarios_come_from_the_sources():
    assert checks.scenario_sequences_per_microbatch() == pytest.approx(LECTURE_CRITICAL_BATCH)
    assert checks.scenario_weight_bytes() == pytest.approx(DEEPSEEK_TOTAL_PARAMS)  # fp8: 1 byte per weight
    assert checks.scenario_kv_bytes_per_token() == DEEPSEEK_KV_BYTES_PER_TOKEN
    assert checks.BUBBLE_FRACTION.expected() == pytest.approx(facts_bubble(4, 8))
    assert checks.SEQUENCES_IN_FLIGHT.expected() == pytest.approx(8 * LECTURE_CRITICAL_BATCH)
    m = checks.MICROBATCHES_NEEDED.expected()
    assert m == int(m) and facts_bubble(8, m) <= 0.03 < facts_bubble(8, m - 1)


NUMERIC = [e for e in checks.EXERCISES if hasattr(e, "expected")]






@pytest.mark.parametrize("exercise", NUMERIC, ids=lambda e: e.variable)
def test_cheats_and_bad_formats_are_rejected(exercise):
    class AlwaysEqual:
        __eq__ = lambda self, other: True  # noqa: E731
        __hash__ = object.__hash__

    for bad in (None, "1", True, [exercise.expected()], AlwaysEqual(), float("nan"), -1.0):
        with pytest.raises(AnswerError):
            exercise.check_value(bad)


def test_microbatches_must_be_rounded_up():
    with pytest.raises(AnswerError, match="round the bound up"):
        checks.MICROBATCHES_NEEDED.check_value(checks.MICROBATCHES_NEEDED.expected() - 1)


def test_choice_exercise():
    exercise = checks.PIPELINING_VALUE
    exercise.check_value("b")
    exercise.check_value(" B ")
    for letter in exercise.options:
        if letter != exercise.correct:
            with pytest.raises(AnswerError, match="not this one"):
                exercise.check_value(letter)
    for bad in ("e", 2, None):
        with pytest.raises(AnswerError):
            exercise.check_value(bad)


# ---------------------------------------------------------------------------------------------
# Plots and explorer
# ---------------------------------------------------------------------------------------------

def test_schedule_image_colours_idle_and_busy_cells():
    schedule = pipeline.gpipe_training_schedule(3, 2)
    pixels = schedule_rgba(schedule, 4, 20)
    assert pixels.shape == (4, 20, 4)
    assert np.all(pixels[3, :, 3] == 0)                      # rows beyond the stages are transparent
    assert np.all(pixels[:3, schedule.slots:, 3] == 0)       # and so are slots beyond the schedule
    idle = schedule.phase == pipeline.IDLE
    idle_colours = pixels[:3, :schedule.slots][idle]
    assert np.all(idle_colours == idle_colours[0])
    assert not np.any(np.all(pixels[:3, :schedule.slots][~idle] == idle_colours[0], axis=-1))
    with pytest.raises(ValueError):
        schedule_rgba(schedule, 2, 20)


def _artist_count(figure) -> int:
    return sum(len(ax.get_children()) for ax in figure.axes)


def test_pipeline_view_is_consistent_with_the_models():
    view = view_module.pipeline_view(mode="training", stages=8, microbatches=16, sequences_per_microbatch=2400)
    assert view.bubble == pytest.approx(facts_bubble(8, 16))
    assert view.schedule.idle_fraction == pytest.approx(view.bubble)
    assert view.sequences_in_flight == 8 * 2400
    assert view.memory.weights_gb == pytest.approx(671 / 8)
    assert view.memory.crossover_tokens == pytest.approx(checks.CROSSOVER_CONTEXT.expected())
    share = checks.KV_SHARE_PUBLISHED.expected()
    assert view.kv_over_weights_published == pytest.approx(share / (1 - share))
    decode = view_module.pipeline_view(mode="decode", stages=8, microbatches=5, sequences_per_microbatch=2400)
    assert decode.bubble == pytest.approx(3 / 8)
    with pytest.raises(ValueError, match="mode"):
        view_module.pipeline_view(mode="other", stages=2, microbatches=2, sequences_per_microbatch=1)


def test_explorer_redraws_the_same_artists_for_every_control():
    explorer = pipeline_explorer()
    first = explorer.image.value
    count = _artist_count(explorer.figure)
    image = explorer.artists.image
    changes = {"stages": 16, "microbatches": 32, "mode": "decode", "sequences_per_microbatch": 64,
               "model": "llama-3-70b"}
    for name, value in changes.items():
        before = explorer.image.value
        explorer.controls[name].value = value
        assert explorer.image.value != before, name
        assert _artist_count(explorer.figure) == count and explorer.artists.image is image, name
    assert explorer.image.value != first
    assert "Llama-3-70B" in explorer.readout.value


def test_schedule_axes_frame_powers_of_two():
    """The schedule axes show p and m rounded up to powers of two, wide enough for either schedule, so their
    limits change only when a slider crosses one, and always hold the whole schedule."""
    assert [view_module.frame_size(n) for n in (1, 2, 3, 4, 5, 8, 9, 16, 32)] == [4, 4, 4, 4, 8, 8, 16, 16, 32]
    explorer = pipeline_explorer()
    schedule_ax = explorer.artists.schedule_ax
    seen = []
    for mode in view_module.MODES:
        explorer.controls["mode"].value = mode
        for stages in range(5, 9):
            explorer.controls["stages"].value = stages
            seen.append((schedule_ax.get_xlim(), schedule_ax.get_ylim(), tuple(schedule_ax.get_yticks())))
            assert schedule_ax.get_xlim()[1] >= explorer.view.schedule.slots and schedule_ax.get_ylim()[0] == 8
    assert len(set(seen)) == 1
    for stages in (1, 16):
        for microbatches in (1, 32):
            for mode in view_module.MODES:
                view = view_module.pipeline_view(mode=mode, stages=stages, microbatches=microbatches,
                                                 sequences_per_microbatch=2400)
                assert view.frame[0] >= view.schedule.stages and view.frame[1] >= view.schedule.slots
