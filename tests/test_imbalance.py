"""Segment 4: stage imbalance from local/global attention, cross-stage residual traffic, exercises and explorer.

Sourced inputs are asserted against shared/reference/facts.md (DeepSeek-V3 config: 61 layers, hidden 7168,
MLA (512 + 64) values per token per layer; H100 3.35 TB/s HBM, 450 GB/s NVLink, ~50 GB/s scale-out; B200
900 GB/s NVLink) and the seed (scale-out ~8x slower). Illustrative inputs (5:1 interleave, window 4,096,
0.1 ms per layer, 32 sequences) are asserted as the notebook states them. Derived figures are recomputed
here by hand or by brute force, independently of the code under test.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from course.segments.imbalance import checks
from course.exercise import AnswerError
from course.models import imbalance
from course.presets import chips, llms
from course.segments.imbalance.explorer import imbalance_explorer
from course.segments.imbalance.view import CONTEXT_GRID, MAX_STAGES, imbalance_view

# facts.md
DEEPSEEK_LAYERS = 61
DEEPSEEK_HIDDEN = 7168
DEEPSEEK_KV_VALUES_PER_LAYER = 512 + 64
H100_HBM = 3.35e12
H100_NVLINK = 450e9
B200_NVLINK = 900e9
SCALE_OUT = 50e9
# notebook's illustrative assumptions
FIXED_S = 0.1e-3
WINDOW = 4096
SEQUENCES = 32
CONTEXT = 131_072
TAU = SEQUENCES * DEEPSEEK_KV_VALUES_PER_LAYER * 2 / H100_HBM


def _local_s(context=CONTEXT):
    return FIXED_S + min(context, WINDOW) * TAU


def _global_s(context=CONTEXT):
    return FIXED_S + context * TAU


def _brute_force_min_max(layer_times, stages):
    """Slowest stage of every contiguous split, minimised by enumeration."""
    prefix = np.concatenate([[0.0], np.cumsum(layer_times)])
    best = math.inf
    for cuts in itertools.combinations(range(1, len(layer_times)), stages - 1):
        edges = [0, *cuts, len(layer_times)]
        best = min(best, max(prefix[b] - prefix[a] for a, b in zip(edges[:-1], edges[1:])))
    return best


# --------------------------------------------------------------------------------------------------
# Model: inputs from the sources
# --------------------------------------------------------------------------------------------------

def test_stack_uses_deepseek_v3_shape_and_h100_bandwidth():
    """61 layers, hidden 7168, 1,152 KV bytes per token per layer, tau = 32 x 1,152 / 3.35e12 s."""
    stack = imbalance.deepseek_shaped_stack()
    assert stack.layers == DEEPSEEK_LAYERS and stack.hidden_size == DEEPSEEK_HIDDEN
    assert imbalance.kv_bytes_per_token_per_layer(llms.DEEPSEEK_V3) == DEEPSEEK_KV_VALUES_PER_LAYER * 2 == 1152
    assert stack.kv_s_per_token == pytest.approx(TAU)
    assert stack.kv_s_per_token * 1e9 == pytest.approx(11.00, abs=0.005)  # printed "11.00 ns"


def test_illustrative_assumptions_are_those_the_notebook_states():
    """5 local : 1 global, window 4,096 tokens, 0.1 ms per layer, 32 sequences per micro-batch."""
    assert imbalance.ILLUSTRATIVE_LOCAL_PER_GLOBAL == 5
    assert imbalance.ILLUSTRATIVE_WINDOW_TOKENS == WINDOW
    assert imbalance.ILLUSTRATIVE_FIXED_S_PER_LAYER == FIXED_S
    assert imbalance.ILLUSTRATIVE_MICROBATCH_SEQUENCES == SEQUENCES


def test_lecture_scale_out_slowdown_and_published_ratios():
    """Seed: scale-out ~8x slower than NVLink; facts.md: H100 450/50 = 9x, B200 900/50 = 18x."""
    assert imbalance.LECTURE_SCALE_OUT_SLOWDOWN == 8
    for chip, ratio in ((chips.H100_SXM, 9), (chips.B200, 18)):
        moved = 1e6
        assert (imbalance.transfer_time_s(moved, chip.scale_out_bandwidth)
                / imbalance.transfer_time_s(moved, chip.scale_up_bandwidth)) == pytest.approx(ratio)
    assert chips.H100_SXM.scale_up_bandwidth == H100_NVLINK and chips.B200.scale_up_bandwidth == B200_NVLINK
    assert chips.H100_SXM.scale_out_bandwidth == SCALE_OUT


# --------------------------------------------------------------------------------------------------
# Model: layers and stages
# --------------------------------------------------------------------------------------------------

def test_pattern_puts_a_global_layer_every_sixth():
    """5:1 over 61 layers: layers 6, 12, ..., 60 (1-based) are global, ten of them; 0 means all global."""
    pattern = imbalance.layer_pattern(61, 5)
    assert [i + 1 for i, kind in enumerate(pattern) if kind == "global"] == list(range(6, 61, 6))
    assert pattern.count("global") == 10
    assert set(imbalance.layer_pattern(7, 0)) == {"global"}


def test_layer_times_at_8k_context():
    """Printed: local 0.145 ms, global 0.190 ms at 8,192 tokens."""
    times = imbalance.deepseek_shaped_stack().layer_times_s(8192)
    assert times[0] == pytest.approx(_local_s(8192)) and times[5] == pytest.approx(_global_s(8192))
    assert round(times[0] * 1e3, 3) == 0.145 and round(times[5] * 1e3, 3) == 0.190


def test_below_the_window_all_layers_cost_the_same():
    """Context at or below the window: a local layer reads as much as a global one."""
    times = imbalance.deepseek_shaped_stack().layer_times_s(WINDOW)
    assert np.allclose(times, times[0])


def test_even_split_layout():
    """61 layers over 4 stages: 16, 15, 15, 15 holding 2, 3, 2, 3 global layers (printed layout)."""
    loads = imbalance.stage_loads(imbalance.deepseek_shaped_stack(), CONTEXT, 4)
    assert loads.split == (16, 15, 15, 15)
    assert loads.globals_per_stage() == [2, 3, 2, 3]
    assert loads.layout() == ["LLLLLGLLLLLGLLLL", "LGLLLLLGLLLLLGL", "LLLLGLLLLLGLLLL", "LGLLLLLGLLLLLGL"]
    assert imbalance.even_split(61, 8) == [8, 8, 8, 8, 8, 7, 7, 7]
    assert imbalance.even_split(61, 6) == [11, 10, 10, 10, 10, 10]


def test_stage_times_and_efficiency_by_hand():
    """Stage 2 = 12 local + 3 global layers; efficiency = mean / max of the four stages."""
    loads = imbalance.stage_loads(imbalance.deepseek_shaped_stack(), CONTEXT, 4)
    by_hand = [14 * _local_s() + 2 * _global_s(), 12 * _local_s() + 3 * _global_s(),
               13 * _local_s() + 2 * _global_s(), 12 * _local_s() + 3 * _global_s()]
    assert loads.stage_times_s == pytest.approx(by_hand)
    assert loads.slowest_stage == 1 and loads.slowest_stage_s == pytest.approx(max(by_hand))
    assert loads.efficiency == pytest.approx(np.mean(by_hand) / max(by_hand))
    assert round(loads.slowest_stage_s * 1e3, 2) == 6.37  # printed "6.37 ms beat"


def test_long_context_efficiency_tends_to_mean_over_max_globals():
    """Past the window, eta -> mean(g_s) / max(g_s) = 2.5 / 3 for the even 4-stage split."""
    stack = imbalance.deepseek_shaped_stack()
    far = imbalance.efficiency_vs_context(stack, [2.0 ** 40], 4)[0]
    assert far == pytest.approx(2.5 / 3, rel=1e-4)


def test_uniform_layers_are_balanced_up_to_layer_counts():
    """All-global stack: the only imbalance is 16 layers against 15."""
    stack = imbalance.deepseek_shaped_stack(local_per_global=0)
    assert imbalance.stage_loads(stack, CONTEXT, 4).efficiency == pytest.approx(15.25 / 16)


@pytest.mark.parametrize("seed", range(6))
def test_min_slowest_stage_matches_brute_force(seed):
    """The binary search over contiguous sums finds the enumeration's optimum (random small stacks)."""
    rng = np.random.default_rng(seed)
    layers, stages = int(rng.integers(3, 11)), int(rng.integers(1, 4))
    times = rng.uniform(0.1, 5.0, layers)
    stages = min(stages, layers)
    assert imbalance.min_slowest_stage_s(times, stages) == pytest.approx(_brute_force_min_max(times, stages))
    split = imbalance.best_contiguous_split(times, stages)
    assert len(split) == stages and min(split) >= 1 and sum(split) == layers
    assert imbalance.stage_times_s(times, split).max() == pytest.approx(_brute_force_min_max(times, stages))


def _brute_force_four_stages(times):
    """Slowest stage minimised over all C(L-1, 3) contiguous 4-stage splits (vectorised enumeration)."""
    layers = len(times)
    prefix = np.concatenate([[0.0], np.cumsum(times)])
    cuts = np.array(list(itertools.combinations(range(1, layers), 3)))
    edges = np.column_stack([np.zeros(len(cuts), int), cuts, np.full(len(cuts), layers)])
    return (prefix[edges[:, 1:]] - prefix[edges[:, :-1]]).max(axis=1).min()


def test_best_split_of_the_exercise_matches_brute_force():
    """All C(60, 3) splits of the 61 layers at 131,072 tokens: the best slowest stage equals the model's."""
    stack = imbalance.deepseek_shaped_stack()
    times = stack.layer_times_s(CONTEXT)
    slowest = _brute_force_four_stages(times)
    loads = imbalance.stage_loads(stack, CONTEXT, 4, "best")
    assert loads.slowest_stage_s == pytest.approx(slowest)
    assert loads.efficiency == pytest.approx(times.sum() / 4 / slowest)
    assert loads.efficiency > imbalance.stage_loads(stack, CONTEXT, 4).efficiency


def test_split_tuned_for_one_context_at_others():
    """The printed table: the 128K-tuned split, summed by hand, against even and brute-force best splits."""
    stack = imbalance.deepseek_shaped_stack()
    tuned = list(imbalance.stage_loads(stack, CONTEXT, 4, "best").split)
    edges = np.cumsum([0, *tuned])
    printed = {4096: (0.953, 0.897, 0.953), 16_384: (0.984, 0.932, 0.984), 1_048_576: (0.844, 0.848, 0.848)}
    for context, (even, at_tuned, best) in printed.items():
        times = stack.layer_times_s(context)
        by_hand = [times[a:b].sum() for a, b in zip(edges[:-1], edges[1:])]
        assert imbalance.stage_loads(stack, context, 4, tuned).efficiency == pytest.approx(
            np.mean(by_hand) / max(by_hand))
        assert imbalance.stage_loads(stack, context, 4, "best").efficiency == pytest.approx(
            times.sum() / 4 / _brute_force_four_stages(times))
        shown = [imbalance.stage_loads(stack, context, 4, split).efficiency for split in ("even", tuned, "best")]
        assert [round(value, 3) for value in shown] == list((even, at_tuned, best))


def test_bad_splits_are_rejected():
    """A split must cover every layer with non-empty stages, and stages cannot outnumber layers."""
    with pytest.raises(ValueError):
        imbalance.stage_times_s(np.ones(5), [2, 2])
    with pytest.raises(ValueError):
        imbalance.stage_times_s(np.ones(5), [5, 0])
    with pytest.raises(ValueError):
        imbalance.even_split(3, 4)
    with pytest.raises(ValueError):
        imbalance.stage_loads(imbalance.deepseek_shaped_stack(), CONTEXT, 4, "random")


# --------------------------------------------------------------------------------------------------
# Model: residual traffic
# --------------------------------------------------------------------------------------------------

def test_residual_bytes_of_the_last_layer():
    """Even 4-stage split: layer 61 sits on a stage starting after 16 + 15 + 15 = 46 layers: 46 x 7168 x 2."""
    split = imbalance.even_split(61, 4)
    assert imbalance.stage_of_layer(60, split) == 3
    assert imbalance.remote_residual_layers(60, split) == 46
    assert imbalance.residual_bytes_from_other_stages(60, split, DEEPSEEK_HIDDEN) == 46 * DEEPSEEK_HIDDEN * 2
    assert imbalance.residual_bytes_from_other_stages(0, split, DEEPSEEK_HIDDEN) == 0


def test_plain_pipeline_and_per_stage_residual_bytes():
    """Printed: 14,336 bytes per boundary; 6 stages receive 0, 11, 21, 31, 41, 51 vectors."""
    assert imbalance.plain_pipeline_bytes_per_boundary(DEEPSEEK_HIDDEN) == 14_336
    received = imbalance.residual_bytes_received_per_stage([11, 10, 10, 10, 10, 10], DEEPSEEK_HIDDEN)
    assert list(received / 14_336) == [0, 11, 21, 31, 41, 51]


def test_fetch_time_over_each_link():
    """Printed: 32 x 659,456 B over 450 GB/s NVLink = 0.047 ms, over 50 GB/s = 0.422 ms (6.6% of the beat)."""
    moved = SEQUENCES * 46 * DEEPSEEK_HIDDEN * 2
    assert imbalance.transfer_time_s(moved, H100_NVLINK) * 1e3 == pytest.approx(0.0469, abs=5e-4)
    assert imbalance.transfer_time_s(moved, B200_NVLINK) * 1e3 == pytest.approx(0.0234, abs=5e-4)
    over_scale_out = imbalance.transfer_time_s(moved, SCALE_OUT)
    assert over_scale_out * 1e3 == pytest.approx(0.422, abs=5e-4)
    beat = 12 * _local_s() + 3 * _global_s()
    assert round(over_scale_out / beat, 3) == 0.066


# --------------------------------------------------------------------------------------------------
# Exercises
# --------------------------------------------------------------------------------------------------

EXPECTED_BY_HAND = {
    "slowest_stage_ms": (12 * _local_s() + 3 * _global_s()) * 1e3,
    "even_split_efficiency": (np.mean([14 * _local_s() + 2 * _global_s(), 12 * _local_s() + 3 * _global_s(),
                                       13 * _local_s() + 2 * _global_s(), 12 * _local_s() + 3 * _global_s()])
                              / (12 * _local_s() + 3 * _global_s())),
    "residual_bytes_per_token": 46 * DEEPSEEK_HIDDEN * 2,
    "residual_fetch_ms": SEQUENCES * 46 * DEEPSEEK_HIDDEN * 2 / SCALE_OUT * 1e3,
}
NUMERIC = [e for e in checks.EXERCISES if hasattr(e, "expected")]


@pytest.mark.parametrize("variable", sorted(EXPECTED_BY_HAND))
def test_expected_values_match_hand_calculation(variable):
    """Each exercise's reference value equals the calculation the notebook's prompt describes."""
    exercise = next(e for e in NUMERIC if e.variable == variable)
    assert exercise.expected() == pytest.approx(EXPECTED_BY_HAND[variable], rel=1e-9)


def test_best_split_exercise_matches_brute_force():
    """The best-split efficiency is the brute-force optimum's."""
    times = imbalance.deepseek_shaped_stack().layer_times_s(CONTEXT)
    slowest = imbalance.stage_times_s(times, imbalance.best_contiguous_split(times, 4)).max()
    assert checks.BEST_SPLIT_EFFICIENCY.expected() == pytest.approx(times.sum() / 4 / slowest)






@pytest.mark.parametrize("wrong, hint", [
    ("mean", "mean stage time"), ("no_window", "whole context"), ("all_layers", "own stage")])
def test_segment_specific_mistakes(wrong, hint):
    """Mean instead of max, a forgotten window, and counting same-stage layers each get their own hint."""
    loads = checks.exercise_loads()
    values = {
        "mean": (checks.SLOWEST_STAGE_MS, loads.mean_stage_s * 1e3),
        "no_window": (checks.SLOWEST_STAGE_MS, 16 * _global_s() * 1e3),
        "all_layers": (checks.RESIDUAL_BYTES_PER_TOKEN, 60 * DEEPSEEK_HIDDEN * 2),
    }
    exercise, value = values[wrong]
    with pytest.raises(AnswerError, match=hint):
        exercise.check_value(value)


def test_messages_never_contain_the_expected_value():
    """No failure message reveals the answer."""
    for exercise in NUMERIC:
        expected = exercise.expected()
        for wrong in (expected * 2, expected / 1000, expected * 1.3, -expected, *(m.wrong(expected)
                                                                                   for m in exercise.mistakes)):
            with pytest.raises(AnswerError) as caught:
                exercise.check_value(wrong)
            message = str(caught.value)
            for text in {f"{expected:g}", f"{expected:.3g}", repr(expected)}:
                assert text not in message


def test_non_numbers_are_rejected():
    """Strings, None and objects with a lying __eq__ are format errors."""
    class AlwaysEqual:
        __eq__ = lambda self, other: True  # noqa: E731
        __hash__ = object.__hash__

    for value in ("6.37", None, AlwaysEqual(), [1.0]):
        with pytest.raises(AnswerError, match="slowest_stage_ms"):
            checks.SLOWEST_STAGE_MS.check_value(value)


def test_choice_exercise():
    """Only c passes; every other option explains itself."""
    exercise = checks.NOT_WISE_REASON
    exercise.check_value(" C ")
    assert set(exercise.hints) == set(exercise.options) - {exercise.correct}
    for letter in exercise.hints:
        with pytest.raises(AnswerError, match="not this one"):
            exercise.check_value(letter)


# --------------------------------------------------------------------------------------------------
# Explorer
# --------------------------------------------------------------------------------------------------

def _visible_bars(explorer):
    return [bar for bar in explorer.artists.bars if bar.get_visible()]


def test_bars_are_precreated_and_updated_in_place():
    """Changing stages hides or shows pre-created bars; the figure and its patches stay the same objects."""
    explorer = imbalance_explorer()
    figure, patches = explorer.figure, list(explorer.figure.axes[0].patches)
    image, readout = explorer.image.value, explorer.readout.value
    assert len(_visible_bars(explorer)) == explorer.controls["stages"].value
    explorer.controls["stages"].value = 3
    assert explorer.figure is figure and list(figure.axes[0].patches) == patches
    assert len(_visible_bars(explorer)) == 3
    assert explorer.image.value != image and explorer.readout.value != readout
    explorer.controls["stages"].value = MAX_STAGES
    assert len(_visible_bars(explorer)) == MAX_STAGES


def test_bar_heights_and_bottleneck_follow_the_model():
    """Bar heights are the model's stage times in ms; the slowest bars are drawn in the bottleneck colour."""
    explorer = imbalance_explorer()
    explorer.controls["stages"].value = 4
    explorer.controls["context_tokens"].value = CONTEXT
    bars = _visible_bars(explorer)
    loads = imbalance.stage_loads(imbalance.deepseek_shaped_stack(), CONTEXT, 4)
    assert [b.get_height() for b in bars] == pytest.approx(list(loads.stage_times_s * 1e3))
    colours = [b.get_facecolor() for b in bars]
    assert colours[1] == colours[3] != colours[0] == colours[2]
    assert "6.37 ms" in explorer.readout.value and "89.6%" in explorer.readout.value
    labels = [label.get_text() for label in explorer.artists.global_labels if label.get_visible()]
    assert labels == [f"{g} G" for g in loads.globals_per_stage()]


def test_context_and_split_controls_move_the_marker():
    """The efficiency marker sits at the selected context and the shown split's efficiency."""
    explorer = imbalance_explorer()
    explorer.controls["split"].value = "best"
    explorer.controls["context_tokens"].value = 2 ** 20
    point = explorer.artists.point
    stack = imbalance.deepseek_shaped_stack()
    stages = explorer.controls["stages"].value
    assert point.get_xdata()[0] == pytest.approx(2 ** 20)
    assert point.get_ydata()[0] == pytest.approx(imbalance.stage_loads(stack, 2 ** 20, stages, "best").efficiency)


def test_view_curves_agree_with_the_model():
    """The plotted efficiency curves are the model's, and the best split never does worse than the even one."""
    view = imbalance_view(context_tokens=CONTEXT, window_tokens=WINDOW, local_per_global=5, stages=8)
    stack = imbalance.deepseek_shaped_stack(local_per_global=5, window_tokens=WINDOW)
    loads = imbalance.stage_loads(stack, CONTEXT, 8)
    assert view.even_efficiency == pytest.approx(imbalance.efficiency_vs_context(stack, CONTEXT_GRID, 8))
    assert np.all(view.best_efficiency >= view.even_efficiency - 1e-12)
    assert view.bottleneck.sum() >= 1 and view.stage_ms.max() == pytest.approx(loads.slowest_stage_s * 1e3)


def test_context_slider_moves_the_stage_axis_only_in_steps():
    """Stage ticks stay while only the context moves; the time axis tops out at a 1-3 step above the bars."""
    explorer = imbalance_explorer()
    stage_ax = explorer.artists.stage_ax
    ticks = list(stage_ax.get_xticks())
    tops = set()
    for exponent in np.arange(10, 20.01, 0.5):
        explorer.controls["context_tokens"].value = 2 ** exponent
        assert list(stage_ax.get_xticks()) == ticks
        top = stage_ax.get_ylim()[1]
        tallest = max(b.get_height() for b in _visible_bars(explorer))
        assert 1.3 * tallest <= top <= 1.3 * 3.4 * tallest
        tops.add(top)
    assert len(tops) <= 5
