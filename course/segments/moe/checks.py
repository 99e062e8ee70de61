"""Exercises of segment 2, "How MoE models are laid out across GPU racks"."""

from __future__ import annotations

from course.exercise import HINT_UNIT_1000, ChoiceExercise, Exercise, Mistake, off_by
from course.models import moe
from course.presets import chips, llms
from course.units import BYTES_BF16, BYTES_FP8
from course.variants import Family

HINT_MICROSECONDS = "Give the time in microseconds: 1 s is 1,000,000 µs."
HINT_PER_TOKEN = ("That is the time for a single token: every GPU routes all of its tokens through the layer, "
                  "so multiply by the tokens per GPU.")
HINT_HALF_TRAFFIC = ("Exactly half: count the dispatch *and* the combine (the expert outputs come back), and use one "
                     "GPU's bandwidth in one direction.")
HINT_DOUBLE_TRAFFIC = ("Exactly twice: count the dispatch and the combine once each, and check which share of the "
                       "experts sits outside the rack.")
HINT_ALL_BF16 = ("That is the all-bf16 figure: DeepSeek-V3 dispatches in FP8 (1 byte per value) and only the combine "
                 "comes back in BF16 (2 bytes per value).")
HINT_ALL_FP8 = "The combine comes back in BF16, 2 bytes per value; only the dispatch travels in FP8."

DEEPSEEK = llms.DEEPSEEK_V3
NVL72 = chips.GB200_NVL72_GPU

V3_BYTES_PER_TOKEN = moe.dispatch_combine_bytes_per_token(DEEPSEEK.hidden_size, DEEPSEEK.experts_per_token,
                                                        dispatch_bytes_per_value=BYTES_FP8,
                                                        combine_bytes_per_value=BYTES_BF16)
"""DeepSeek-V3's all-to-all per token per MoE layer: FP8 dispatch + BF16 combine (DeepEP), no scales [bytes]."""

RACK_EXERCISE = dict(fabric=moe.fabric_of(NVL72), tokens_per_chip=128, hidden_size=DEEPSEEK.hidden_size,
                     experts_per_token=DEEPSEEK.experts_per_token, bytes_per_token=V3_BYTES_PER_TOKEN)
"""Scenario of exercises 2 and 3: DeepSeek-V3's shape and wire format, 128 tokens per GPU, GB200 NVL72 racks."""


def _bytes_per_token(*, dispatch: float = BYTES_FP8, combine: float = BYTES_BF16, include_combine: bool = True,
                     experts: int = DEEPSEEK.experts_per_token) -> float:
    return moe.dispatch_combine_bytes_per_token(DEEPSEEK.hidden_size, experts, dispatch_bytes_per_value=dispatch,
                                                combine_bytes_per_value=combine if include_combine else 0.0)


A2A_BYTES_PER_TOKEN = Exercise(
    variable="a2a_bytes_per_token",
    unit="bytes per token per MoE layer",
    expected=_bytes_per_token,
    mistakes=(
        Mistake(lambda e: _bytes_per_token(dispatch=BYTES_BF16), HINT_ALL_BF16),
        Mistake(lambda e: _bytes_per_token(combine=BYTES_FP8), HINT_ALL_FP8),
        Mistake(lambda e: _bytes_per_token(include_combine=False),
                "You counted the dispatch only: each expert's output travels back to the token's GPU (the "
                "combine), in BF16."),
        Mistake(lambda e: _bytes_per_token(experts=DEEPSEEK.experts_per_token + DEEPSEEK.shared_experts),
                "The shared expert runs on every GPU, next to the token: it sends nothing. Count the routed "
                "experts only."),
        Mistake(lambda e: _bytes_per_token(experts=1),
                "Each of the token's routed experts needs its own copy of the hidden vector: multiply by the "
                "experts per token."),
        Mistake(lambda e: _bytes_per_token(experts=DEEPSEEK.routed_experts),
                "Only the experts the router picks receive the token, not all the routed experts."),
        Mistake(lambda e: e * 8, "That is in bits: the question asks for bytes."),
        *off_by(2.0, "You are off by exactly a factor of 2: count each direction once, the dispatch out and the "
                     "combine back, each in its own format."),
        *off_by(1000.0, HINT_UNIT_1000),
    ),
    magnitude=(1, 1e11),
)
"""DeepSeek-V3: bytes one token sends per MoE layer, FP8 dispatch + BF16 combine [bytes]."""


def _rack_time_us(ep_degree: int, **overrides) -> float:
    scenario = {**RACK_EXERCISE, **overrides}
    time = moe.all_to_all_time(scenario["tokens_per_chip"], ep_degree, scenario["fabric"],
                               hidden_size=scenario["hidden_size"], experts_per_token=scenario["experts_per_token"],
                               bytes_per_token=scenario["bytes_per_token"])
    return float(time.total_s) * 1e6


def _one_rack_us() -> float:
    return _rack_time_us(RACK_EXERCISE["fabric"].domain_size)


def _two_rack_parts_us() -> tuple[float, float]:
    scenario = RACK_EXERCISE
    time = moe.all_to_all_time(scenario["tokens_per_chip"], 2 * scenario["fabric"].domain_size, scenario["fabric"],
                               hidden_size=scenario["hidden_size"], experts_per_token=scenario["experts_per_token"],
                               bytes_per_token=scenario["bytes_per_token"])
    return float(time.scale_up_s) * 1e6, float(time.scale_out_s) * 1e6


def _two_rack_us() -> float:
    return max(_two_rack_parts_us())


def _all_remote_over(bandwidth: float) -> float:
    """Time if every remote destination of EP144 went over one network of ``bandwidth`` [µs]."""
    scenario = RACK_EXERCISE
    degree = 2 * scenario["fabric"].domain_size
    sent = scenario["tokens_per_chip"] * scenario["bytes_per_token"]
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
        Mistake(lambda e: e * 2, "Exactly twice: count the dispatch and the combine once each."),
        Mistake(lambda e: e * _bytes_per_token(dispatch=BYTES_BF16) / V3_BYTES_PER_TOKEN, HINT_ALL_BF16),
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
        Mistake(lambda e: e * _bytes_per_token(dispatch=BYTES_BF16) / V3_BYTES_PER_TOKEN, HINT_ALL_BF16),
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
        "a": "Their InfiniBand gives each GPU more than 50 GB/s, which narrows the gap.",
        "b": "The H100's 450 GB/s counts both directions, so 9x is really about 4.5x.",
        "c": "H800s are export H100s with cut-down NVLink; their InfiniBand is the same.",
        "d": "They send activations in fp8, which halves the NVLink traffic and the ratio.",
    },
    correct="c",
    hints={
        "a": "Both figures use the same scale-out bandwidth per GPU: 50 GB/s, a 400 Gb/s NIC.",
        "b": "450 GB/s is one direction; the 900 GB/s on the datasheet is both directions added.",
        "d": "Fewer bytes speed up both networks alike: a bandwidth ratio does not depend on what is sent.",
    },
)
"""Why DeepSeek's NVLink / InfiniBand ratio (3.2x) is far below the H100 datasheet's 9x."""


# --------------------------------------------------------------------------------------------------
# Exercise 7: node-limited routing (DeepSeek-V3 sends a token to at most 4 nodes)
# --------------------------------------------------------------------------------------------------

NODE_LIMIT_EXERCISE = dict(ep_degree=moe.DEEPSEEK_DECODE_EP, domain_size=moe.DEEPSEEK_H800.domain_size,
                           max_nodes=moe.DEEPSEEK_V3_MAX_NODES, experts_per_token=DEEPSEEK.experts_per_token)
"""Exercise 7: EP144 over 8-GPU nodes, at most 4 nodes per token, 8 routed experts."""


def _node_limited_share(max_nodes: int = NODE_LIMIT_EXERCISE["max_nodes"], remote_only: bool = True) -> float:
    scenario = NODE_LIMIT_EXERCISE
    nodes = scenario["ep_degree"] // scenario["domain_size"]
    share = moe.max_remote_node_share(max_nodes, scenario["experts_per_token"], nodes)
    return share if remote_only else share * nodes / (nodes - 1)


def _unlimited_share() -> float:
    return float(moe.traffic_shares(NODE_LIMIT_EXERCISE["ep_degree"], NODE_LIMIT_EXERCISE["domain_size"]).scale_out)


IB_SHARE_NODE_LIMITED = Exercise(
    variable="ib_share_node_limited",
    unit="fraction of a token's expert copies (0 to 1)",
    expected=_node_limited_share,
    rel_tol=0.01,
    mistakes=(
        Mistake(lambda e: _unlimited_share(),
                "That is the share without node limits, one InfiniBand copy per remote expert. With node-limited "
                "routing a token crosses InfiniBand once per remote node and NVLink forwards it from there."),
        Mistake(lambda e: _node_limited_share(remote_only=False),
                "One of the token's nodes may be its own, reached without InfiniBand: a chosen node is remote "
                "with probability (N - 1)/N."),
        Mistake(lambda e: 1 - e, "That is the share that does *not* cross InfiniBand; the question asks for the "
                                 "share that does."),
        Mistake(lambda e: e * 100, "Give a fraction between 0 and 1, not a percentage."),
        Mistake(lambda e: e * NODE_LIMIT_EXERCISE["experts_per_token"],
                "That is InfiniBand copies per token; divide by the token's expert copies for the share."),
    ),
    magnitude=(1e-4, 1e3),
)
"""Upper bound of the InfiniBand share of a token's dispatch at EP144 with routing limited to 4 nodes [fraction]."""


# --------------------------------------------------------------------------------------------------
# Exercise 8: find the error in an argument about the 800 Gb/s generation
# --------------------------------------------------------------------------------------------------

GB300_ARGUMENT = ChoiceExercise(
    variable="gb300_argument",
    options={
        "a": "GB300 also doubles NVLink per GPU, so the ratio stays near 18x.",
        "b": "Half the copies still cross a NIC 9x slower: about 4.6x, not 1x.",
        "c": "The 800 Gb/s counts both directions, so each GPU still gets 50 GB/s.",
        "d": "Two racks hold twice the experts, so each token needs twice the copies.",
    },
    correct="b",
    hints={
        "a": "GB300 NVL72 keeps NVLink 5, 900 GB/s each way per GPU, as on GB200: only the NIC doubled.",
        "c": "800 Gb/s is the NIC's rate each way, 100 GB/s: twice the 400 Gb/s NIC's 50 GB/s.",
        "d": "A token sends one copy per chosen expert, k of them, however many experts the racks hold.",
    },
)
"""A colleague: "GB300's 800 Gb/s NICs make two racks as fast as one for the MoE all-to-all." What is wrong?"""


# --------------------------------------------------------------------------------------------------
# Families (issue 12): the same skills on the learner's own numbers
# --------------------------------------------------------------------------------------------------

FORMATS = {"FP8": BYTES_FP8, "BF16": BYTES_BF16}
"""Activation formats a family may draw, with their bytes per value [bytes]."""


HIDDEN_SIZES = tuple(range(2048, 16384 + 1, 512))
"""Hidden sizes a family may draw, 2,048 to 16,384 in steps of 512 [values]."""

EXPERTS_PER_TOKEN = (1, 2, 3, 4, 6, 8, 10, 12, 16)
"""Routed experts per token a family may draw [count]."""


def _draw_bytes(rng) -> dict:
    dispatch, combine = rng.choice(sorted(FORMATS)), rng.choice(sorted(FORMATS))
    return {"hidden_size": rng.choice(HIDDEN_SIZES), "experts_per_token": rng.choice(EXPERTS_PER_TOKEN),
            "dispatch": dispatch, "dispatch_bytes": FORMATS[dispatch],
            "dispatch_unit": "byte" if FORMATS[dispatch] == 1 else "bytes", "combine": combine,
            "combine_bytes": FORMATS[combine], "combine_unit": "byte" if FORMATS[combine] == 1 else "bytes"}


def _family_bytes(params, *, dispatch=None, combine=None, experts=None) -> float:
    return moe.dispatch_combine_bytes_per_token(
        params["hidden_size"], params["experts_per_token"] if experts is None else experts,
        dispatch_bytes_per_value=params["dispatch_bytes"] if dispatch is None else dispatch,
        combine_bytes_per_value=params["combine_bytes"] if combine is None else combine)


def _bytes_mistakes(params) -> tuple[Mistake, ...]:
    return (
        Mistake(lambda e: _family_bytes(params, combine=0.0),
                "You counted the dispatch only: each expert's output comes back to the token's GPU (the combine)."),
        Mistake(lambda e: _family_bytes(params, dispatch=params["combine_bytes"]),
                "Use each direction's own format: the dispatch and the combine need not use the same bytes per "
                "value."),
        Mistake(lambda e: _family_bytes(params, experts=1),
                "Each chosen expert needs its own copy of the hidden vector: multiply by the experts per token."),
        Mistake(lambda e: e * 8, "That is in bits: the question asks for bytes."),
        *off_by(1000.0, HINT_UNIT_1000),
    )


MY_A2A_BYTES = Family(
    key="02-a2a-bytes",
    variable="my_a2a_bytes_per_token",
    unit="bytes per token per MoE layer",
    draw=_draw_bytes,
    statement=("An MoE model with hidden size **{hidden_size:,}** sends each token to **{experts_per_token}** routed "
               "experts. It dispatches in **{dispatch}** ({dispatch_bytes} {dispatch_unit} per value) and combines in "
               "**{combine}** ({combine_bytes} {combine_unit} per value). How many bytes does one token move in one MoE "
               "layer, dispatch plus combine? Set `my_a2a_bytes_per_token` (bytes)."),
    answer=lambda params: _family_bytes(params),
    mistakes=_bytes_mistakes,
    magnitude=(1, 1e11),
)
"""Exercise 1b: bytes per token per MoE layer for the learner's own width, experts and formats [bytes]."""


def family_fabrics() -> dict[str, moe.Fabric]:
    """Fabrics the layer-time family draws from, by key: the switched NVLink presets, DeepSeek's H800 and GB300."""
    return {**moe.switched_fabrics(), "gb300": moe.GB300_NVL72}


DOMAIN_WORDS = {1: "one NVLink domain", 2: "two NVLink domains", 3: "three NVLink domains",
                4: "four NVLink domains"}
"""NVLink domains the layer-time family may spread the experts over, in words."""

TOKENS_PER_CHIP = (32, 48, 64, 96, 128, 192, 256, 384, 512)
"""Tokens each GPU routes in the layer-time family [tokens]."""

LAYER_HIDDEN_SIZES = tuple(range(3072, 8192 + 1, 512))
"""Hidden sizes of the layer-time family's model, 3,072 to 8,192 in steps of 512 (FP8 dispatch, BF16 combine) [values]."""

LAYER_EXPERTS = (4, 6, 8)
"""Routed experts per token of the layer-time family's model [count]."""


def _draw_layer(rng) -> dict:
    key = rng.choice(sorted(family_fabrics()))
    fabric = family_fabrics()[key]
    domains = rng.choice([1, 2, 3, 4])
    return {"fabric": key, "name": fabric.name, "domain_size": fabric.domain_size,
            "nvlink_gb_s": round(fabric.scale_up_bandwidth / 1e9, 1),
            "scale_out_gb_s": round(fabric.scale_out_bandwidth / 1e9, 1),
            "domains": domains, "domains_text": DOMAIN_WORDS[domains],
            "ep_degree": domains * fabric.domain_size,
            "tokens_per_chip": rng.choice(TOKENS_PER_CHIP),
            "bytes_per_token": int(moe.dispatch_combine_bytes_per_token(rng.choice(LAYER_HIDDEN_SIZES),
                                                                        rng.choice(LAYER_EXPERTS)))}


def _layer_parts_us(params) -> tuple[float, float]:
    time = moe.all_to_all_time(params["tokens_per_chip"], params["ep_degree"], family_fabrics()[params["fabric"]],
                               hidden_size=DEEPSEEK.hidden_size, experts_per_token=DEEPSEEK.experts_per_token,
                               bytes_per_token=params["bytes_per_token"])
    return float(time.scale_up_s) * 1e6, float(time.scale_out_s) * 1e6


def _layer_mistakes(params) -> tuple[Mistake, ...]:
    fabric = family_fabrics()[params["fabric"]]
    sent = params["tokens_per_chip"] * params["bytes_per_token"]
    remote = (params["ep_degree"] - 1) / params["ep_degree"]
    return (
        Mistake(lambda e: sum(_layer_parts_us(params)),
                "The NVLink and scale-out transfers run at the same time: the layer waits for the longer one, not "
                "for their sum."),
        Mistake(lambda e: sent * remote / fabric.scale_out_bandwidth * 1e6,
                "Only the experts in *other* domains are reached over scale-out; those in the token's own domain "
                "still go over NVLink."),
        Mistake(lambda e: sent / fabric.scale_up_bandwidth * 1e6 if params["domains"] == 1 else e,
                "One expert copy in G stays on the token's own GPU and needs no transfer."),
        Mistake(lambda e: e / params["tokens_per_chip"], HINT_PER_TOKEN),
        Mistake(lambda e: e / 1e6, HINT_MICROSECONDS),
        *off_by(1000.0, HINT_UNIT_1000),
    )


MY_LAYER_TIME_US = Family(
    key="02-layer-time",
    variable="my_layer_time_us",
    unit="microseconds",
    draw=_draw_layer,
    statement=("Your fabric: **{name}**, {domain_size} GPUs per NVLink domain, NVLink **{nvlink_gb_s:g} GB/s** and "
               "scale-out **{scale_out_gb_s:g} GB/s** per GPU, each way. An MoE model's experts are spread over "
               "**{domains_text}** (EP{ep_degree}), each GPU routes **{tokens_per_chip}** tokens, and each token "
               "moves **{bytes_per_token:,} bytes** per MoE layer (FP8 dispatch + BF16 combine, as in exercise 1). "
               "How long does one MoE layer's all-to-all take? Set `my_layer_time_us` (microseconds)."),
    answer=lambda params: max(_layer_parts_us(params)),
    mistakes=_layer_mistakes,
    magnitude=(1e-9, 1e12),
)
"""Exercise 2b: one MoE layer's all-to-all on the learner's own fabric, EP degree, tokens per GPU and bytes per token [µs]."""

EXERCISES = (
    A2A_BYTES_PER_TOKEN,
    MY_A2A_BYTES,
    ONE_RACK_TIME_US,
    MY_LAYER_TIME_US,
    TWO_RACK_TIME_US,
    NVL72_LINK_RATIO,
    DEEPSEEK_CROSSING_SLOWDOWN,
    RATIO_GAP,
    IB_SHARE_NODE_LIMITED,
    GB300_ARGUMENT,
)
"""Every exercise of the segment, in notebook order."""
