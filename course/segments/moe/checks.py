"""Exercises of segment 2, "How MoE models are laid out across GPU racks"."""

from __future__ import annotations

from course.exercise import HINT_UNIT_1000, ChoiceExercise, Exercise, Mistake, off_by
from course.models import moe
from course.presets import chips, llms
from course.units import BYTES_BF16

HINT_MICROSECONDS = "Give the time in microseconds: 1 s is 1,000,000 µs."
HINT_PER_TOKEN = ("That is the time for a single token: every GPU routes all of its tokens through the layer, "
                  "so multiply by the tokens per GPU.")
HINT_HALF_TRAFFIC = ("Exactly half: count the dispatch *and* the combine (the expert outputs come back), at 2 bytes "
                     "per bf16 value, and use one GPU's bandwidth in one direction.")
HINT_DOUBLE_TRAFFIC = ("Exactly twice: count the dispatch and the combine once each, at 2 bytes per bf16 value, and "
                       "check which share of the experts sits outside the rack.")

DEEPSEEK = llms.DEEPSEEK_V3
NVL72 = chips.GB200_NVL72_GPU

RACK_EXERCISE = dict(fabric=moe.fabric_of(NVL72), tokens_per_chip=128, hidden_size=DEEPSEEK.hidden_size,
                     experts_per_token=DEEPSEEK.experts_per_token, bytes_per_value=BYTES_BF16)
"""Scenario of exercises 2 and 3: DeepSeek-V3's shape in bf16, 128 tokens per GPU, GB200 NVL72 racks."""


def _bytes_per_token(include_combine: bool = True, bytes_per_value: float = BYTES_BF16,
                     experts: int = DEEPSEEK.experts_per_token) -> float:
    return moe.all_to_all_bytes_per_token(DEEPSEEK.hidden_size, experts, bytes_per_value, include_combine)


A2A_BYTES_PER_TOKEN = Exercise(
    variable="a2a_bytes_per_token",
    unit="bytes per token per MoE layer",
    expected=_bytes_per_token,
    mistakes=(
        Mistake(lambda e: _bytes_per_token(include_combine=False),
                "You counted the dispatch only: each expert's output travels back to the token's GPU (the "
                "combine), the same number of bytes again."),
        Mistake(lambda e: _bytes_per_token(bytes_per_value=4),
                "That is 4 bytes per value: the activations travel in bf16, 2 bytes each."),
        Mistake(lambda e: _bytes_per_token(experts=DEEPSEEK.experts_per_token + DEEPSEEK.shared_experts),
                "The shared expert runs on every GPU, next to the token: it sends nothing. Count the routed "
                "experts only."),
        Mistake(lambda e: _bytes_per_token(experts=1),
                "Each of the token's routed experts needs its own copy of the hidden vector: multiply by the "
                "experts per token."),
        Mistake(lambda e: _bytes_per_token(experts=DEEPSEEK.routed_experts),
                "Only the experts the router picks receive the token, not all the routed experts."),
        Mistake(lambda e: e * 8, "That is in bits: the question asks for bytes."),
        *off_by(1000.0, HINT_UNIT_1000),
    ),
    magnitude=(1, 1e11),
)
"""DeepSeek-V3: bytes one token sends per MoE layer, dispatch + combine, bf16 [bytes]."""


def _rack_time_us(ep_degree: int, **overrides) -> float:
    scenario = {**RACK_EXERCISE, **overrides}
    time = moe.all_to_all_time(scenario["tokens_per_chip"], ep_degree, scenario["fabric"],
                               hidden_size=scenario["hidden_size"], experts_per_token=scenario["experts_per_token"],
                               bytes_per_value=scenario["bytes_per_value"])
    return float(time.total_s) * 1e6


def _one_rack_us() -> float:
    return _rack_time_us(RACK_EXERCISE["fabric"].domain_size)


def _two_rack_parts_us() -> tuple[float, float]:
    scenario = RACK_EXERCISE
    time = moe.all_to_all_time(scenario["tokens_per_chip"], 2 * scenario["fabric"].domain_size, scenario["fabric"],
                               hidden_size=scenario["hidden_size"], experts_per_token=scenario["experts_per_token"],
                               bytes_per_value=scenario["bytes_per_value"])
    return float(time.scale_up_s) * 1e6, float(time.scale_out_s) * 1e6


def _two_rack_us() -> float:
    return max(_two_rack_parts_us())


def _all_remote_over(bandwidth: float) -> float:
    """Time if every remote destination of EP144 went over one network of ``bandwidth`` [µs]."""
    scenario = RACK_EXERCISE
    degree = 2 * scenario["fabric"].domain_size
    sent = scenario["tokens_per_chip"] * _bytes_per_token()
    return sent * (degree - 1) / degree / bandwidth * 1e6


ONE_RACK_TIME_US = Exercise(
    variable="one_rack_time_us",
    unit="microseconds",
    expected=_one_rack_us,
    mistakes=(
        Mistake(lambda e: e * moe.scale_up_to_out_ratio(RACK_EXERCISE["fabric"]),
                "That is the time over the scale-out network. Inside one rack every expert is reached over "
                "NVLink."),
        Mistake(lambda e: e / RACK_EXERCISE["tokens_per_chip"], HINT_PER_TOKEN),
        Mistake(lambda e: e / 2, HINT_HALF_TRAFFIC),
        Mistake(lambda e: e * 2, "Exactly twice: count the dispatch and the combine once each, at 2 bytes per "
                                 "bf16 value."),
        Mistake(lambda e: e / 1e6, HINT_MICROSECONDS),
        *off_by(1000.0, HINT_UNIT_1000),
    ),
    magnitude=(1e-9, 1e12),
)
"""One MoE layer's all-to-all inside one GB200 NVL72 rack (EP72), 128 tokens per GPU [µs]."""

TWO_RACK_TIME_US = Exercise(
    variable="two_rack_time_us",
    unit="microseconds",
    expected=_two_rack_us,
    mistakes=(
        Mistake(lambda e: _all_remote_over(RACK_EXERCISE["fabric"].scale_out_bandwidth),
                "Only the experts in the *other* rack are reached over scale-out; the ones in your own rack still "
                "go over NVLink."),
        Mistake(lambda e: sum(_two_rack_parts_us()),
                "The NVLink and scale-out transfers run at the same time: the layer waits for the longer one, "
                "not for their sum."),
        Mistake(lambda e: _all_remote_over(RACK_EXERCISE["fabric"].scale_up_bandwidth),
                "Half of the experts now sit in the other rack, reached over the much slower scale-out network, "
                "not over NVLink."),
        Mistake(lambda e: e / RACK_EXERCISE["tokens_per_chip"], HINT_PER_TOKEN),
        Mistake(lambda e: e / 2, HINT_HALF_TRAFFIC),
        Mistake(lambda e: e * 2, HINT_DOUBLE_TRAFFIC),
        Mistake(lambda e: e / 1e6, HINT_MICROSECONDS),
        *off_by(1000.0, HINT_UNIT_1000),
    ),
    magnitude=(1e-9, 1e12),
)
"""One MoE layer's all-to-all over two GB200 NVL72 racks (EP144), 128 tokens per GPU [µs]."""


def _nvl72_ratio() -> float:
    return moe.scale_up_to_out_ratio(NVL72)


NVL72_LINK_RATIO = Exercise(
    variable="nvl72_link_ratio",
    unit="times (NVLink bandwidth / scale-out bandwidth, per GPU)",
    expected=_nvl72_ratio,
    mistakes=(
        Mistake(lambda e: e * 2,
                "The rack's NVLink figure counts both directions, while the NIC's 400 Gb/s is one direction: "
                "compare like with like."),
        Mistake(lambda e: e / 8, "400 Gb/s is in bits per second: divide by 8 for bytes per second."),
        Mistake(lambda e: e / 4,
                "Two slips that do not cancel: the NIC's 400 Gb/s is in bits (divide by 8), and the rack's NVLink "
                "figure counts both directions (halve it)."),
        Mistake(lambda e: 1 / e,
                "You divided scale-out by NVLink: the question asks how many times faster NVLink is."),
        Mistake(lambda e: e * NVL72.scale_up_domain,
                "The NVLink figure is for the whole rack: divide by its GPUs for one GPU's share."),
        *off_by(1000.0, HINT_UNIT_1000),
    ),
    magnitude=(1e-4, 1e7),
)
"""GB200 NVL72: one GPU's NVLink bandwidth (each way) over its scale-out bandwidth [x]."""


def _deepseek_slowdown() -> float:
    return moe.crossing_slowdown(moe.DEEPSEEK_H800)


def _deepseek_slowdown_variant(*, local_counts: bool = True, all_remote_out: bool = False) -> float:
    fabric = moe.DEEPSEEK_H800
    domain = fabric.domain_size
    inside_share = (domain - 1) / domain if local_counts else 1.0
    out_share = (2 * domain - 1) / (2 * domain) if all_remote_out else 0.5
    return (out_share / fabric.scale_out_bandwidth) / (inside_share / fabric.scale_up_bandwidth)


DEEPSEEK_CROSSING_SLOWDOWN = Exercise(
    variable="deepseek_crossing_slowdown",
    unit="times (layer time over two nodes / inside one)",
    expected=_deepseek_slowdown,
    rel_tol=0.02,
    mistakes=(
        Mistake(lambda e: moe.scale_up_to_out_ratio(moe.DEEPSEEK_H800),
                "That is the bandwidth ratio alone. Only half of each token's experts sit in the other node, and "
                "inside one node not every destination needed a transfer: compare the two layer times."),
        Mistake(lambda e: moe.crossing_slowdown(chips.H100_SXM),
                "That uses the H100 datasheet's NVLink figure; use the bandwidths DeepSeek report."),
        Mistake(lambda e: _deepseek_slowdown_variant(local_counts=False),
                "Inside one 8-GPU node, one expert in eight sits on the token's own GPU and needs no transfer."),
        Mistake(lambda e: _deepseek_slowdown_variant(all_remote_out=True),
                "Only the experts in the *other* node are reached over InfiniBand; it holds half of them."),
        Mistake(lambda e: 1 / e, "You divided the one-node time by the two-node time: invert it."),
        *off_by(2.0, "You are off by exactly a factor of 2: check which share of each token's experts lies in "
                     "the other node."),
    ),
    magnitude=(1e-3, 1e4),
)
"""DeepSeek's H800 figures: the all-to-all slowdown from EP8 in one node to EP16 over two [x]."""

RATIO_GAP = ChoiceExercise(
    variable="ratio_gap",
    options={
        "a": "DeepSeek's InfiniBand gives each GPU more than 50 GB/s, which narrows the gap.",
        "b": "The H100's 450 GB/s already counts both directions, so the datasheet ratio is really half of 9x.",
        "c": "DeepSeek serve on H800s, an export version of the H100 with a cut-down NVLink, and quote the "
             "bandwidth they get; the InfiniBand side is the same 50 GB/s per GPU, so only the NVLink side "
             "shrank.",
        "d": "DeepSeek send activations in fp8, which halves the NVLink traffic and so the ratio.",
    },
    correct="c",
    hints={
        "a": "Both figures use the same scale-out bandwidth per GPU: 50 GB/s, a 400 Gb/s NIC.",
        "b": "450 GB/s is one direction; the 900 GB/s on the datasheet is both directions added.",
        "d": "Fewer bytes speed up both networks alike: a bandwidth ratio does not depend on what is sent.",
    },
)
"""Why DeepSeek's NVLink / InfiniBand ratio (3.2x) is far below the H100 datasheet's 9x."""

EXERCISES = (
    A2A_BYTES_PER_TOKEN,
    ONE_RACK_TIME_US,
    TWO_RACK_TIME_US,
    NVL72_LINK_RATIO,
    DEEPSEEK_CROSSING_SLOWDOWN,
    RATIO_GAP,
)
"""Every exercise of the segment, in notebook order."""
