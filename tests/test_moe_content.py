"""Segment 2's lesson content: every figure its prose states, against its published source.

Sources (shared/reference/facts.md): DeepEP README (FP8 dispatch, BF16 combine; V3 setting hidden 7168,
top-8 experts, top-4 groups); DeepSeek-V3 technical report (at most 4 nodes per token; NVLink 160 GB/s vs
InfiniBand 50 GB/s measured on H800; "13 experts" at equal cost; EP320 decode units); DeepSeek's inference
overview (EP144 over 18 nodes); NVIDIA GB300 NVL72 reference architecture (ConnectX-8, 800 Gb/s per GPU,
NVLink 5 900 GB/s each way); GB200 NVL72 with 400 Gb/s NICs. Expected values are hand arithmetic here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from course.segments.moe import checks
from course.segments.moe.view import fabrics, moe_view

NOTEBOOK = Path(__file__).resolve().parent.parent / "source" / "02-moe-racks" / "02-moe-racks.ipynb"

HIDDEN, TOP_K, MAX_NODES, GPUS_PER_NODE = 7168, 8, 4, 8
V3_WIRE = TOP_K * HIDDEN * (1 + 2)          # FP8 out, BF16 back
ALL_BF16 = TOP_K * HIDDEN * (2 + 2)
NVLINK_H800, IB_H800 = 160e9, 50e9
NVLINK5, NIC_400G, NIC_800G = 900e9, 400e9 / 8, 800e9 / 8


def prose() -> str:
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def outputs() -> str:
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(o.get("text", "")) for c in cells if c["cell_type"] == "code" for o in c.get("outputs", []))


def test_wire_format_bytes_per_token():
    """DeepEP: FP8 dispatch + BF16 combine: 172,032 B per token per MoE layer, not 229,376 (all BF16)."""
    assert checks.A2A_BYTES_PER_TOKEN.expected() == V3_WIRE == 172_032
    assert ALL_BF16 == 229_376 and ALL_BF16 / V3_WIRE == pytest.approx(4 / 3)
    text = prose()
    assert "about 172 KB" in text and "229 KB" in text and "overstates V3's traffic by a third" in text
    assert "172,032 B" in outputs() and "229,376 B" in outputs()


def test_node_limited_routing_bounds():
    """At most 4 nodes per token, one InfiniBand crossing per remote node: <= 4 (N-1)/N / 8 of the copies."""
    ep144_nodes, ep320_nodes = 144 // GPUS_PER_NODE, 320 // GPUS_PER_NODE
    bound_144 = MAX_NODES * (ep144_nodes - 1) / ep144_nodes / TOP_K
    bound_320 = MAX_NODES * (ep320_nodes - 1) / ep320_nodes / TOP_K
    assert checks.IB_SHARE_NODE_LIMITED.expected() == pytest.approx(bound_144)
    assert round(bound_144 * 100, 1) == 47.2 and round(bound_320 * 100, 1) == 48.8
    out = outputs()
    assert "94.4% without limits; with at most 4 nodes per token <= 47.2%" in out
    assert "97.5% without limits; with at most 4 nodes per token <= 48.8%" in out
    assert "at most 47% of its copies ride InfiniBand instead of 94%" in prose()


def test_thirteen_experts_at_equal_cost():
    """V3 report: with NVLink 3.2x InfiniBand, 4 nodes x 3.2 = 12.8, 'about 13' experts per token."""
    assert MAX_NODES * NVLINK_H800 / IB_H800 == pytest.approx(12.8)
    assert "4 x 3.2 = 12.8" in outputs() and r"\approx 13$ experts" in prose()


def test_two_generations_of_the_72_gpu_rack():
    """GB200 NVL72 with 400 Gb/s NICs: ~18x; GB300 NVL72 with 800 Gb/s: 9x, the lecture's ~8x."""
    gb300 = fabrics()["gb300"]
    assert gb300.scale_up_bandwidth / gb300.scale_out_bandwidth == pytest.approx(NVLINK5 / NIC_800G) == 9.0
    assert NVLINK5 / NIC_400G == 18.0
    # one rack -> two: D / (2 (D - 1)) x ratio, "about 4.6x" in exercise 8's right option
    step = 72 / (2 * 71) * 9.0
    assert round(step, 1) == 4.6 and "about 4.6x" in checks.GB300_ARGUMENT.options[checks.GB300_ARGUMENT.correct]
    out = outputs()
    assert re.search(r"GB300 NVL72 \(800 Gb/s ConnectX-8\)\s+NVLink\s+900 GB/s / scale-out 100 GB/s =\s+9.0x", out)
    text = prose()
    assert "about 9x" in text and "about 18x" in text


def test_recap_steps_at_the_boundary():
    """Recap: 'about 5x from one H100 server to two, about 9x from one GB200 NVL72 rack to two'."""
    h100 = 8 / (2 * 7) * (450e9 / NIC_400G)
    nvl72 = 72 / (2 * 71) * ((130e12 / 72 / 2) / NIC_400G)
    assert round(h100) == 5 and round(nvl72) == 9
    assert "about 5x from one H100 server to two, about 9x from one GB200 NVL72 rack to two" in prose()


def test_deepseek_measured_ratio_and_the_disagreeing_deployments_are_stated():
    """The report's measured 160 vs 50 GB/s (3.2x), and EP144 (overview) vs EP320 (report): the notebook says the
    sources disagree."""
    assert NVLINK_H800 / IB_H800 == pytest.approx(3.2)
    text = prose()
    assert "the sources disagree" in text and "EP320" in text and "EP144" in text
    assert "3.2x" in text


def test_rack_exercises_use_the_v3_wire_format():
    """Exercises 2 and 3 move exercise 1's 172,032 B per token: 128 tokens, NVL72 (130 TB/s / 72 / 2), 50 GB/s NIC."""
    sent = 128 * V3_WIRE
    assert checks.ONE_RACK_TIME_US.expected() == pytest.approx(sent * 71 / 72 / (130e12 / 72 / 2) * 1e6)
    assert checks.TWO_RACK_TIME_US.expected() == pytest.approx(sent * 72 / 144 / NIC_400G * 1e6)
    assert checks.TWO_RACK_TIME_US.verdict(128 * ALL_BF16 * 0.5 / NIC_400G * 1e6).count("all-bf16") == 1


@pytest.mark.parametrize("exercise", [checks.RATIO_GAP, checks.GB300_ARGUMENT], ids=lambda e: e.variable)
def test_right_option_is_not_the_longest(exercise):
    """Options comparable in length: the right one is not the longest, and none is twice another."""
    lengths = {letter: len(text) for letter, text in exercise.options.items()}
    assert lengths[exercise.correct] < max(lengths.values())
    assert max(lengths.values()) < 1.5 * min(lengths.values())


def test_wrong_options_of_exercise_8_get_their_own_hint():
    for letter in "acd":
        assert checks.GB300_ARGUMENT.hints[letter] in checks.GB300_ARGUMENT.verdict(letter)


LEARNERS = [f"student{i:02d}" for i in range(25)]


def test_bytes_family_against_hand_arithmetic():
    """k h (s_d + s_c) from the drawn numbers, computed here without the course's functions."""
    formats = set()
    for learner in LEARNERS:
        p = checks.MY_A2A_BYTES.params(learner)
        hand = p["experts_per_token"] * p["hidden_size"] * (p["dispatch_bytes"] + p["combine_bytes"])
        assert checks.MY_A2A_BYTES.verdict(hand, learner=learner) is None
        assert checks.MY_A2A_BYTES.verdict(p["experts_per_token"] * p["hidden_size"] * p["dispatch_bytes"],
                                           learner=learner) is not None
        formats.add(p["dispatch"])
        assert f"**{p['hidden_size']:,}**" in checks.MY_A2A_BYTES.render(p)
    assert formats == {"FP8", "BF16"}


def test_layer_time_family_against_hand_arithmetic():
    """max(NVLink share / BW_up, scale-out share / BW_out) x tokens x bytes, from the statement's own numbers."""
    seen = set()
    for learner in LEARNERS:
        p = checks.MY_LAYER_TIME_US.params(learner)
        sent = p["tokens_per_chip"] * p["bytes_per_token"]
        g, d = p["ep_degree"], p["domain_size"]
        hand = max(sent * (min(g, d) - 1) / g / (p["nvlink_gb_s"] * 1e9),
                   sent * max(g - d, 0) / g / (p["scale_out_gb_s"] * 1e9)) * 1e6
        assert checks.MY_LAYER_TIME_US.verdict(hand, learner=learner) is None, p
        seen.add(p["domains"])
    assert seen == {1, 2, 3, 4}


def test_explorer_offers_gb300_and_the_wire_formats():
    """GB300 NVL72 is a fabric choice; 'bf16 both ways' raises every time by 4/3 over V3's format."""
    assert "gb300" in fabrics()
    shape = dict(fabric=fabrics()["gb300"], tokens_per_chip=128, hidden_size=HIDDEN, experts_per_token=TOP_K)
    v3 = moe_view(**shape)
    bf16 = moe_view(**shape, wire_format="bf16")
    assert np.allclose(bf16.total_us, v3.total_us * 4 / 3)
    assert v3.two_domains_us == pytest.approx(128 * V3_WIRE * 0.5 / NIC_800G * 1e6)
