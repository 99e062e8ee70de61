"""Segment 2: the MoE all-to-all model, its exercises and its explorer.

Expected values are worked out here from the figures in shared/reference/facts.md and the
seed flashcards (quoted in each docstring), never read back from the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest

from course.segments.moe import checks
from course.exercise import AnswerError
from course.models import moe, roofline
from course.presets import chips, llms
from course.segments.moe.explorer import moe_explorer
from course.segments.moe.view import MAX_CHIPS, fabrics, moe_view

# facts.md, DeepSeek-V3 config: hidden 7168; 256 routed experts + 1 shared, 8 routed active; 61 layers, first 3 dense.
DS_HIDDEN, DS_TOP_K, DS_LAYERS, DS_DENSE = 7168, 8, 61, 3
DS_BYTES_PER_TOKEN = 2 * DS_TOP_K * DS_HIDDEN * 2  # dispatch + combine, bf16
# facts.md, DeepEP README: DeepSeek-V3 dispatches in FP8 and combines in BF16: 8 x 7168 x (1 + 2) = 172,032 bytes.
DS_V3_WIRE_BYTES = DS_TOP_K * DS_HIDDEN * (1 + 2)
# facts.md hardware table: NVLink per GPU each way, ~50 GB/s scale-out (400 Gb/s NIC); NVL72 130 TB/s, 72 GPUs.
H100_NVLINK, B200_NVLINK, NIC = 450e9, 900e9, 400e9 / 8
NVL72_NVLINK = 130e12 / 72 / 2
# facts.md, DeepSeek: NVLink 160 GB/s vs InfiniBand 50 GB/s (3.2x); EP144 over 18 nodes; EP32 prefill, EP320 decode.
DS_NVLINK, DS_IB = 160e9, 50e9


class AlwaysEqual:
    __eq__ = lambda self, other: True  # noqa: E731
    __hash__ = object.__hash__


# --- the model against the sources -------------------------------------------------------------------------

def test_presets_hold_the_published_deepseek_shape():
    """facts.md: hidden 7168, 8 of 256 routed experts + 1 shared, 61 layers of which 3 dense -> 58 MoE layers."""
    ds = llms.DEEPSEEK_V3
    assert (ds.hidden_size, ds.experts_per_token, ds.routed_experts, ds.shared_experts) == (DS_HIDDEN, DS_TOP_K, 256, 1)
    assert moe.moe_layers(ds) == DS_LAYERS - DS_DENSE == 58


def test_bytes_per_token_of_deepseek():
    """2 x k x h x 2 bytes: 229,376 bytes (~230 KB) per token per MoE layer if both ways were bf16."""
    assert moe.all_to_all_bytes_per_token(DS_HIDDEN, DS_TOP_K) == DS_BYTES_PER_TOKEN == 229_376
    assert round(DS_BYTES_PER_TOKEN / 1e3, -1) == 230
    assert moe.all_to_all_bytes_per_token(DS_HIDDEN, DS_TOP_K, include_combine=False) == DS_BYTES_PER_TOKEN / 2
    assert moe.all_to_all_bytes_per_token(DS_HIDDEN, DS_TOP_K, bytes_per_value=1) == DS_BYTES_PER_TOKEN / 2


def test_link_ratios_match_facts_and_the_lecture():
    """facts.md: H100 450/50 = 9x, B200 900/50 = 18x; NVL72 130 TB/s / 72 / 2 vs 50 GB/s; DeepSeek 160/50 = 3.2x.
    Seed: scale-out is ~8x slower; the notebook says DeepSeek's ratio is about a third of the H100's."""
    assert moe.scale_up_to_out_ratio(chips.H100_SXM) == pytest.approx(9)
    assert moe.scale_up_to_out_ratio(chips.H200) == pytest.approx(9)
    assert moe.scale_up_to_out_ratio(chips.B200) == pytest.approx(18)
    assert moe.scale_up_to_out_ratio(chips.GB200_NVL72_GPU) == pytest.approx(NVL72_NVLINK / NIC)
    assert moe.scale_up_to_out_ratio(moe.DEEPSEEK_H800) == pytest.approx(3.2)
    assert moe.LECTURE_SCALE_OUT_SLOWDOWN == 8
    assert moe.scale_up_to_out_ratio(moe.DEEPSEEK_H800) / moe.scale_up_to_out_ratio(chips.H100_SXM) == \
        pytest.approx(1 / 3, rel=0.1)


def test_deepseek_fabric_and_deployments():
    """facts.md: EP144 over 18 nodes (8 GPUs each), 160 / 50 GB/s; report EP32 prefill and EP320 decode."""
    fabric = moe.DEEPSEEK_H800
    assert (fabric.domain_size, fabric.scale_up_bandwidth, fabric.scale_out_bandwidth) == (144 // 18, DS_NVLINK, DS_IB)
    assert (moe.DEEPSEEK_DECODE_EP, moe.DEEPSEEK_DECODE_NODES) == (144, 18)
    assert (moe.DEEPSEEK_REPORT_PREFILL_EP, moe.DEEPSEEK_REPORT_DECODE_EP) == (32, 320)
    for source in fabric.sources.values():
        assert source in moe.SOURCES


@pytest.mark.parametrize("ep, out_share", [(32, 24 / 32), (144, 136 / 144), (320, 312 / 320)])
def test_share_of_deepseek_traffic_over_infiniband(ep, out_share):
    """With 8 GPUs per node, EP32 / EP144 / EP320 send 75.0% / 94.4% / 97.5% of expert traffic off the node."""
    assert moe.traffic_shares(ep, 8).scale_out == pytest.approx(out_share)
    assert round(out_share * 100, 1) in (75.0, 94.4, 97.5)


def test_shares_sum_to_one_and_respect_the_boundary():
    """Inside one domain nothing goes scale-out; EP1 is all local; beyond, (G - D)/G leaves the domain."""
    ep = moe.ep_degrees(8, 64)
    shares = moe.traffic_shares(ep, 8)
    assert np.allclose(shares.local + shares.scale_up + shares.scale_out, 1)
    assert np.all(shares.scale_out[ep <= 8] == 0)
    assert moe.traffic_shares(1, 8).local == 1
    assert moe.traffic_shares(16, 8).scale_out == pytest.approx(0.5)
    assert moe.traffic_shares(16, 8).scale_up == pytest.approx(7 / 16)


def test_partial_domains_and_nonsense_are_refused():
    """Beyond one domain the model needs whole domains; zero chips or a chip without a fabric raise."""
    with pytest.raises(ValueError, match="multiple of 8"):
        moe.traffic_shares(12, 8)
    with pytest.raises(ValueError):
        moe.traffic_shares(0, 8)
    with pytest.raises(ValueError, match="lacks"):
        moe.fabric_of(chips.RUBIN)
    assert "tpu-v5e" not in moe.switched_fabrics()


def test_h100_worked_example():
    """256 tokens/GPU, DeepSeek shape on H100 servers: EP8 = 256 x 229,376 x 7/8 / 450 GB/s = 114.2 µs;
    EP16 = 256 x 229,376 x 1/2 / 50 GB/s = 587.2 µs (NVLink part 57.1 µs); 446 vs 2,294 ns per token;
    over 58 layers 6.6 vs 34.1 ms;
    H100 drain time 80 GB / 3.35 TB/s = 23.9 ms."""
    shape = dict(hidden_size=DS_HIDDEN, experts_per_token=DS_TOP_K)
    one = moe.all_to_all_time(256, 8, chips.H100_SXM, **shape)
    two = moe.all_to_all_time(256, 16, chips.H100_SXM, **shape)
    sent = 256 * DS_BYTES_PER_TOKEN
    assert float(one.total_s) == pytest.approx(sent * 7 / 8 / H100_NVLINK)
    assert float(one.scale_out_s) == 0
    assert float(two.scale_up_s) == pytest.approx(sent * 7 / 16 / H100_NVLINK)
    assert float(two.total_s) == pytest.approx(sent / 2 / NIC)
    assert [round(float(t.total_s) * 1e6, 1) for t in (one, two)] == [114.2, 587.2]
    assert round(float(two.scale_up_s) * 1e6, 1) == 57.1
    assert [round(float(t.total_s) * 58 * 1e3, 1) for t in (one, two)] == [6.6, 34.1]
    assert float(one.per_token_s) == pytest.approx(DS_BYTES_PER_TOKEN * 7 / 8 / H100_NVLINK)
    assert [round(float(t.per_token_s) * 1e9) for t in (one, two)] == [446, 2294]
    assert roofline.drain_time_s(chips.H100_SXM) == pytest.approx(80e9 / 3.35e12)
    assert round(80e9 / 3.35e12 * 1e3, 1) == 23.9


def test_per_token_time_does_not_depend_on_batch():
    """Every token carries its own bytes: layer time is linear in tokens, time per token constant."""
    shape = dict(hidden_size=DS_HIDDEN, experts_per_token=DS_TOP_K)
    small = moe.all_to_all_time(16, 16, chips.H100_SXM, **shape)
    large = moe.all_to_all_time(1024, 16, chips.H100_SXM, **shape)
    assert float(large.total_s) == pytest.approx(64 * float(small.total_s))
    assert float(large.per_token_s) == pytest.approx(float(small.per_token_s))


@pytest.mark.parametrize("fabric, expected", [
    (chips.H100_SXM, 8 / 14 * 9),                       # ~5.1x, the notebook's H100 step
    (chips.B200, 8 / 14 * 18),                          # ~10.3x
    (chips.GB200_NVL72_GPU, 72 / 142 * NVL72_NVLINK / NIC),  # ~9.2x, one NVL72 rack to two
    (moe.DEEPSEEK_H800, 8 / 14 * 3.2),                  # ~1.8x, "under 2x"
])
def test_crossing_slowdown_formula(fabric, expected):
    """time(2D) / time(D) = D / (2 (D - 1)) x BW_up / BW_out, with the facts.md bandwidths."""
    assert moe.crossing_slowdown(fabric) == pytest.approx(expected)


def test_figures_rounded_in_the_notebook_text():
    """Markdown says: about 5x (H100), about 9x (NVL72), under 2x (DeepSeek), 18x for B200/NVL72."""
    assert round(moe.crossing_slowdown(chips.H100_SXM)) == 5
    assert round(moe.crossing_slowdown(chips.GB200_NVL72_GPU)) == 9
    assert moe.crossing_slowdown(moe.DEEPSEEK_H800) < 2
    assert round(moe.scale_up_to_out_ratio(chips.GB200_NVL72_GPU)) == 18


def test_far_beyond_the_domain_the_nic_sets_the_pace():
    """As EP grows, the layer time tends to T x b / BW_out."""
    time = moe.all_to_all_time(100, 8 * 1000, chips.H100_SXM, hidden_size=DS_HIDDEN, experts_per_token=DS_TOP_K)
    assert float(time.total_s) == pytest.approx(100 * DS_BYTES_PER_TOKEN / NIC, rel=2e-3)


def test_ep_grid():
    """Powers of two inside the domain, then whole domains."""
    assert list(moe.ep_degrees(8, 40)) == [1, 2, 4, 8, 16, 24, 32, 40]
    assert list(moe.ep_degrees(72, 216)) == [1, 2, 4, 8, 16, 32, 64, 72, 144, 216]


# --- the exercises -------------------------------------------------------------------------------------------

def test_exercise_answers_from_the_sources():
    """Each exercise's expected value, worked out from facts.md figures."""
    assert checks.A2A_BYTES_PER_TOKEN.expected() == DS_V3_WIRE_BYTES == 172_032
    sent = 128 * DS_V3_WIRE_BYTES
    assert checks.ONE_RACK_TIME_US.expected() == pytest.approx(sent * 71 / 72 / NVL72_NVLINK * 1e6)
    assert checks.TWO_RACK_TIME_US.expected() == pytest.approx(sent * 72 / 144 / NIC * 1e6)
    assert checks.NVL72_LINK_RATIO.expected() == pytest.approx(130e12 / 72 / 2 / (400e9 / 8))
    assert checks.DEEPSEEK_CROSSING_SLOWDOWN.expected() == pytest.approx((0.5 / DS_IB) / (7 / 8 / DS_NVLINK))


def test_learner_working_with_round_figures_passes():
    """A learner using '900 GB/s' for the NVL72 instead of 130 TB/s / 144 is still within tolerance."""
    sent = 128 * DS_V3_WIRE_BYTES
    checks.ONE_RACK_TIME_US.check_value(sent * 71 / 72 / 900e9 * 1e6)
    checks.NVL72_LINK_RATIO.check_value(900e9 / 50e9)


@pytest.mark.parametrize("exercise", [e for e in checks.EXERCISES if hasattr(e, "expected")],
                         ids=lambda e: e.variable)
def test_expected_passes_and_twice_it_gets_a_hint(exercise):
    """The reference passes (float or numpy scalar); twice it passes the format check and fails with a hint."""
    exercise.check_value(exercise.expected())
    exercise.check_value(np.float64(exercise.expected()))
    assert "not yet right" in exercise.verdict(2 * exercise.expected())
    with pytest.raises(AnswerError, match="not yet right"):
        exercise.check_value(2 * exercise.expected())




@pytest.mark.parametrize("exercise, wrong, hint", [
    (checks.A2A_BYTES_PER_TOKEN, DS_TOP_K * DS_HIDDEN * 1, "dispatch only"),
    (checks.A2A_BYTES_PER_TOKEN, DS_V3_WIRE_BYTES * 9 / 8, "shared expert"),
    (checks.A2A_BYTES_PER_TOKEN, DS_BYTES_PER_TOKEN, "FP8"),
    (checks.A2A_BYTES_PER_TOKEN, 2 * DS_TOP_K * DS_HIDDEN * 1, "BF16"),
    (checks.TWO_RACK_TIME_US, 128 * DS_V3_WIRE_BYTES * 143 / 144 / NIC * 1e6, "other"),
    (checks.TWO_RACK_TIME_US, 128 * DS_V3_WIRE_BYTES * (71 / 144 / NVL72_NVLINK + 0.5 / NIC) * 1e6, "same time"),
    (checks.TWO_RACK_TIME_US, 128 * DS_V3_WIRE_BYTES * 0.5 / NIC, "microseconds"),
    (checks.TWO_RACK_TIME_US, 128 * DS_BYTES_PER_TOKEN * 0.5 / NIC * 1e6, "all-bf16"),
    (checks.ONE_RACK_TIME_US, 128 * DS_V3_WIRE_BYTES * 71 / 72 / NIC * 1e6, "scale-out"),
    (checks.NVL72_LINK_RATIO, 130e12 / 72 / (400e9 / 8), "both directions"),
    (checks.NVL72_LINK_RATIO, 130e12 / 72 / 2 / 400e9, "bits"),
    (checks.NVL72_LINK_RATIO, (400e9 / 8) / (130e12 / 72 / 2), "divided scale-out by NVLink"),
    (checks.DEEPSEEK_CROSSING_SLOWDOWN, 3.2, "bandwidth ratio alone"),
    (checks.DEEPSEEK_CROSSING_SLOWDOWN, 8 / 14 * 9, "H100 datasheet"),
    (checks.DEEPSEEK_CROSSING_SLOWDOWN, (0.5 / DS_IB) / (1 / DS_NVLINK), "own GPU"),
])
def test_segment_specific_mistakes_are_named(exercise, wrong, hint):
    """Forgotten combine, shared expert, summed networks, bits vs bytes, datasheet vs DeepSeek figures."""
    with pytest.raises(AnswerError, match=hint):
        exercise.check_value(wrong)


def test_messages_never_contain_the_expected_value():
    """No failure message reveals the answer."""
    for exercise in checks.EXERCISES:
        if not hasattr(exercise, "expected"):
            continue
        expected = exercise.expected()
        wrongs = [expected * 2, expected / 1000, expected * 1.3, -expected] + \
                 [float(m.wrong(expected)) for m in exercise.mistakes]
        for wrong in wrongs:
            with pytest.raises(AnswerError) as caught:
                exercise.check_value(wrong)
            message = str(caught.value)
            assert f"{expected:g}" not in message and f"{expected:.3g}" not in message


@pytest.mark.parametrize("value", [AlwaysEqual(), "229376", None, True, [1.0], float("nan")])
def test_non_numbers_are_rejected(value):
    """Anything but a finite real number fails the format check, naming the variable."""
    with pytest.raises(AnswerError, match="a2a_bytes_per_token"):
        checks.A2A_BYTES_PER_TOKEN.check_value(value)


def test_choice_exercise():
    """The right letter passes in any case; each wrong option explains itself; non-options are format errors."""
    exercise = checks.RATIO_GAP
    exercise.check_value(" C ")
    for letter, hint in (("a", "same scale-out"), ("b", "one direction"), ("d", "both networks")):
        with pytest.raises(AnswerError, match=hint):
            exercise.check_value(letter)
    with pytest.raises(AnswerError, match="one of"):
        exercise.check_value("e")
    with pytest.raises(AnswerError):
        exercise.check_value(AlwaysEqual())


def test_exercise_variables_are_unique_in_the_course():
    """Progress is keyed by variable name: segment 2's names are its own."""
    from course.segments import SEGMENTS

    variables = [e.variable for s in SEGMENTS for e in s.exercises()]
    assert len(variables) == len(set(variables))


# --- the explorer --------------------------------------------------------------------------------------------
# (every explorer's pixels, fast path, headless mode and static fallback: tests/test_redraw.py, test_widgets.py)

def test_view_agrees_with_the_model():
    """The plotted values at EP = D and 2D are the model's, and the step is their ratio."""
    fabric = moe.fabric_of(chips.H100_SXM)
    view = moe_view(fabric=fabric, tokens_per_chip=256, hidden_size=DS_HIDDEN, experts_per_token=DS_TOP_K,
                    wire_format="bf16")
    sent = 256 * DS_BYTES_PER_TOKEN
    assert view.one_domain_us == pytest.approx(sent * 7 / 8 / H100_NVLINK * 1e6)
    assert view.two_domains_us == pytest.approx(sent / 2 / NIC * 1e6)
    assert view.step == pytest.approx(moe.crossing_slowdown(fabric))
    assert view.ep.max() == MAX_CHIPS
    assert np.allclose(view.total_us, np.maximum(view.scale_up_us, view.scale_out_us))
    assert np.allclose(view.per_token_ns, view.total_us / 256 * 1e3)


def test_token_slider_scales_the_layer_panel_and_leaves_per_token_alone():
    """Moving tokens/GPU keeps the artists, scales the layer times and leaves the per-token panel alone."""
    explorer = moe_explorer()
    artists = explorer.artists
    total_before = np.array(artists.total_line.get_ydata())
    per_token_before = np.array(artists.token_line.get_ydata())
    explorer.controls["tokens_per_chip"].value = 1024
    assert explorer.artists is artists
    assert np.allclose(np.array(artists.total_line.get_ydata()), 4 * total_before, equal_nan=True)
    assert np.allclose(np.array(artists.token_line.get_ydata()), per_token_before, equal_nan=True)
    assert explorer.view.token_ylim == moe_view(fabric=moe.fabric_of(chips.H100_SXM), tokens_per_chip=1,
                                                hidden_size=DS_HIDDEN, experts_per_token=DS_TOP_K,
                                                others=tuple(f for k, f in fabrics().items()
                                                             if k != "h100")).token_ylim


def test_chip_change_moves_the_boundary_and_the_step():
    """From H100 to GB200 NVL72 the domain line moves from 8 to 72 GPUs and the readout names the chip."""
    explorer = moe_explorer()
    boundary = explorer.artists.layer_boundary
    assert boundary.get_xdata()[0] == 8
    assert "×5.1" in explorer.readout.value
    explorer.controls["fabric"].value = "gb200"
    assert boundary.get_xdata()[0] == 72
    assert list(explorer.artists.step_line.get_xdata()) == [72, 144]
    assert "GB200" in explorer.readout.value and "×9.2" in explorer.readout.value


def test_layer_axis_moves_in_decades():
    """Over the whole token slider the layer axis holds the curve within whole decades and moves a few times."""
    explorer = moe_explorer()
    limits = set()
    for exponent in np.arange(0, 12.01, 0.5):
        explorer.controls["tokens_per_chip"].value = 2 ** exponent
        low, high = explorer.artists.layer_ax.get_ylim()
        total = explorer.view.total_us[explorer.view.total_us > 0]
        assert low <= total.min() and total.max() <= high
        assert np.log10(low) == round(np.log10(low)) and np.log10(high) == round(np.log10(high))
        limits.add((low, high))
    assert len(limits) <= 8
