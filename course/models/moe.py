"""All-to-all traffic of a mixture-of-experts layer, inside vs across a scale-up domain.

Each token is sent to ``experts_per_token`` routed experts (dispatch) and their
outputs come back (combine): ``hidden_size`` values each way per chosen expert.

With expert parallelism (EP) over G chips, the experts spread evenly and tokens
routed uniformly, a chosen expert sits

* on the token's own chip with probability 1/G (no traffic),
* on another chip of the same scale-up domain (an NVLink domain of D chips)
  with probability (min(G, D) - 1) / G,
* on a chip of another domain with probability max(G - D, 0) / G.

A switched scale-up fabric (NVLink with NVSwitch) gives every chip its full
per-chip bandwidth to any other chip of the domain, which is why it suits an
all-to-all. Beyond one domain the model assumes whole domains (G a multiple of
D). Both networks carry their share at the same time, so a layer's all-to-all
takes the longer of the two transfers. TPU tori are not modelled: their
all-to-all is limited by bisection bandwidth, not by per-chip link speed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from course.presets import chips as chip_presets
from course.presets.chips import Chip
from course.units import GIGA

SOURCES = {
    "lecture": "Reiner Pope's lecture on the Dwarkesh Podcast (course seed flashcards), 00:32:09",
    "deepseek-v3-report": "DeepSeek-V3 technical report: H800 cluster, NVLink 160 GB/s vs InfiniBand 50 GB/s "
                          "(3.2x); prefill units of 32 GPUs (EP32), decode units of 320 GPUs (EP320)",
    "deepseek-infra": "deepseek-ai/open-infra-index, 2025-02 Open Source Week day 6: decode runs expert "
                      "parallelism over 18 nodes (EP144)",
    "deepep": "deepseek-ai/DeepEP README, 'Performance': DeepSeek-V3/R1 setting, 7168 hidden, top-4 groups, "
              "top-8 experts, FP8 dispatching and BF16 combining; FP8 dispatch input carries one float32 scale "
              "per 128 values (shared/reference/facts.md)",
    "deepseek-v3-routing": "DeepSeek-V3 technical report, node-limited routing: each token is sent to at most 4 "
                           "nodes, crosses InfiniBand once per node and is forwarded over NVLink; with NVLink "
                           "3.2x InfiniBand, up to 3.2 experts per node and 13 experts (4 nodes x 3.2) per token "
                           "at the same communication cost",
    "nvidia-gb300": "NVIDIA GB300 NVL72 enterprise reference architecture: each compute tray holds 4 Blackwell "
                    "Ultra GPUs and 4 ConnectX-8 SuperNICs; 72 GPUs on NVLink 5 (1.8 TB/s per GPU, 900 GB/s "
                    "each way)",
    "nic-800g": "ConnectX-8 SuperNIC, 800 Gb/s (InfiniBand XDR) per GPU: 800e9 / 8 = 100 GB/s each way",
}

LECTURE_SCALE_OUT_SLOWDOWN = 8.0
"""The lecture's "scale-out is ~8x slower" than NVLink [x] (source tag ``lecture``)."""

DEEPSEEK_DECODE_NODES = 18
"""Nodes DeepSeek's online decode spans [count] (source tag ``deepseek-infra``)."""

DEEPSEEK_DECODE_EP = 144
"""Expert-parallel degree of DeepSeek's online decode, EP144 [chips] (source tag ``deepseek-infra``)."""

DEEPSEEK_REPORT_DECODE_EP = 320
"""Decode deployment unit of the DeepSeek-V3 report, EP320 [chips] (source tag ``deepseek-v3-report``)."""

DEEPSEEK_REPORT_PREFILL_EP = 32
"""Prefill deployment unit of the DeepSeek-V3 report, EP32 [chips] (source tag ``deepseek-v3-report``)."""


@dataclass(frozen=True)
class Fabric:
    """The two networks one chip sends its all-to-all traffic over.

    Attributes (SI units):
        name: display name.
        domain_size: chips in one scale-up (NVLink) domain [count].
        scale_up_bandwidth: what one chip can send into the scale-up fabric, each way [bytes/s].
        scale_out_bandwidth: what one chip can send over the scale-out network, each way [bytes/s].
        sources: source tag per field.
    """

    name: str
    domain_size: int
    scale_up_bandwidth: float
    scale_out_bandwidth: float
    sources: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


def fabric_of(chip: Chip) -> Fabric:
    """The fabric of a chip preset; raises if the presets lack one of its three figures."""
    missing = [name for name in ("scale_up_domain", "scale_up_bandwidth", "scale_out_bandwidth")
               if getattr(chip, name) is None]
    if missing:
        raise ValueError(f"{chip.name} lacks {', '.join(missing)} in the chip presets")
    return Fabric(name=chip.name, domain_size=chip.scale_up_domain, scale_up_bandwidth=chip.scale_up_bandwidth,
                  scale_out_bandwidth=chip.scale_out_bandwidth,
                  sources={"domain_size": chip.sources.get("scale_up_domain"),
                           "scale_up_bandwidth": chip.sources.get("scale_up_bandwidth"),
                           "scale_out_bandwidth": chip.sources.get("scale_out_bandwidth")})


def as_fabric(chip_or_fabric: Chip | Fabric) -> Fabric:
    """Accept a Fabric as is, or a Chip preset converted by ``fabric_of``."""
    return chip_or_fabric if isinstance(chip_or_fabric, Fabric) else fabric_of(chip_or_fabric)


DEEPSEEK_H800 = Fabric(
    name="H800 (DeepSeek's figures)",
    domain_size=DEEPSEEK_DECODE_EP // DEEPSEEK_DECODE_NODES,  # EP144 over 18 nodes: 8 GPUs per node
    scale_up_bandwidth=160 * GIGA,
    scale_out_bandwidth=50 * GIGA,
    sources={"domain_size": "deepseek-infra", "scale_up_bandwidth": "deepseek-v3-report",
             "scale_out_bandwidth": "deepseek-v3-report"},
)
"""DeepSeek's H800 servers as their report gives them: 8 GPUs on NVLink at 160 GB/s, 50 GB/s InfiniBand."""

SWITCHED_CHIP_KEYS = ("h100", "h200", "b200", "gb200")
"""Chip presets with a switched NVLink domain and a known scale-out bandwidth (the ones this model fits)."""


def switched_fabrics() -> dict[str, Fabric]:
    """Fabrics the explorer offers, by key: the NVLink chip presets plus DeepSeek's reported H800 figures."""
    fabrics = {key: fabric_of(chip_presets.CHIPS[key]) for key in SWITCHED_CHIP_KEYS}
    fabrics["deepseek-h800"] = DEEPSEEK_H800
    return fabrics


def all_to_all_bytes_per_token(hidden_size: int, experts_per_token: int, bytes_per_value: float = 2.0,
                               include_combine: bool = True) -> float:
    """Bytes one token sends per MoE layer: h x bytes x k for dispatch, the same again for combine [bytes]."""
    one_way = hidden_size * bytes_per_value * experts_per_token
    return 2 * one_way if include_combine else one_way


@dataclass(frozen=True)
class TrafficShares:
    """Where a token's chosen experts sit [fractions summing to 1]."""

    local: np.ndarray | float
    scale_up: np.ndarray | float
    scale_out: np.ndarray | float


def traffic_shares(ep_degree, domain_size: int) -> TrafficShares:
    """Shares of expert traffic that stay on chip, cross the scale-up fabric, or go scale-out [fractions].

    ``ep_degree`` (scalar or array) is the number of chips the experts are spread
    over; beyond one domain it must be a whole number of domains.
    """
    degree = np.asarray(ep_degree, dtype=float)
    if np.any(degree < 1):
        raise ValueError("the expert-parallel degree is at least 1 chip")
    beyond = degree > domain_size
    if np.any(beyond & (np.mod(degree, domain_size) != 0)):
        raise ValueError(f"beyond one domain, the expert-parallel degree must be a multiple of {domain_size}")
    inside = np.minimum(degree, domain_size)
    shares = TrafficShares(local=1.0 / degree, scale_up=(inside - 1.0) / degree,
                           scale_out=np.maximum(degree - domain_size, 0.0) / degree)
    if np.ndim(ep_degree) == 0:
        return TrafficShares(float(shares.local), float(shares.scale_up), float(shares.scale_out))
    return shares


@dataclass(frozen=True)
class AllToAllTime:
    """One MoE layer's dispatch + combine for the tokens on one chip (scalars or arrays over EP degree).

    Attributes:
        tokens_per_chip: tokens each chip routes in this layer [tokens].
        scale_up_s: time of the traffic that stays in the NVLink domain [s].
        scale_out_s: time of the traffic that leaves it [s].
    """

    tokens_per_chip: float
    scale_up_s: np.ndarray | float
    scale_out_s: np.ndarray | float

    @property
    def total_s(self):
        """The two networks run at once, so the layer waits for the slower one [s]."""
        return np.maximum(self.scale_up_s, self.scale_out_s)

    @property
    def per_token_s(self):
        """Layer time divided by the tokens it moved: does not shrink with batch [s/token]."""
        return self.total_s / self.tokens_per_chip


def all_to_all_time(tokens_per_chip: float, ep_degree, fabric: Fabric | Chip, *, hidden_size: int,
                    experts_per_token: int, bytes_per_value: float = 2.0,
                    bytes_per_token: float | None = None) -> AllToAllTime:
    """Time for one MoE layer's dispatch + combine of ``tokens_per_chip`` tokens on every chip [s].

    Args:
        tokens_per_chip: tokens each chip holds in this step [tokens].
        ep_degree: chips the experts are spread over [count], scalar or array.
        fabric: a ``Fabric`` or a chip preset with scale-up/out figures.
        hidden_size: residual width [values]; experts_per_token: routed experts per token [count].
        bytes_per_value: 2 for bf16 activations, 1 for fp8 [bytes].
        bytes_per_token: overrides the per-token bytes, e.g. ``dispatch_combine_bytes_per_token``
            for DeepSeek-V3's fp8 dispatch + bf16 combine [bytes].
    """
    fabric = as_fabric(fabric)
    if tokens_per_chip <= 0:
        raise ValueError("tokens_per_chip must be positive")
    if bytes_per_token is None:
        bytes_per_token = all_to_all_bytes_per_token(hidden_size, experts_per_token, bytes_per_value)
    sent = tokens_per_chip * bytes_per_token
    shares = traffic_shares(ep_degree, fabric.domain_size)
    return AllToAllTime(tokens_per_chip=float(tokens_per_chip),
                        scale_up_s=sent * shares.scale_up / fabric.scale_up_bandwidth,
                        scale_out_s=sent * shares.scale_out / fabric.scale_out_bandwidth)


def crossing_slowdown(fabric: Fabric | Chip) -> float:
    """How many times longer a layer's all-to-all takes over two domains than inside one [x].

    time(2D) / time(D) = (1/2 / BW_out) / ((D - 1)/D / BW_up), independent of batch, width and k.
    """
    fabric = as_fabric(fabric)
    domain = fabric.domain_size
    one = all_to_all_time(1.0, domain, fabric, hidden_size=1, experts_per_token=1)
    two = all_to_all_time(1.0, 2 * domain, fabric, hidden_size=1, experts_per_token=1)
    return float(two.total_s / one.total_s)


def scale_up_to_out_ratio(fabric: Fabric | Chip) -> float:
    """How many times faster the scale-up fabric is than scale-out, per chip [x]."""
    fabric = as_fabric(fabric)
    return fabric.scale_up_bandwidth / fabric.scale_out_bandwidth


def moe_layers(llm) -> int:
    """Layers with routed experts: all layers minus the dense ones [count] (58 for DeepSeek-V3)."""
    if llm.layers is None or llm.routed_experts is None:
        raise ValueError(f"{llm.name} is not an MoE preset with a layer count")
    return llm.layers - (llm.dense_layers or 0)


def ep_degrees(domain_size: int, max_chips: int) -> np.ndarray:
    """EP degrees the model covers up to ``max_chips``: powers of two inside a domain, the domain, then
    whole domains [chips]."""
    inside = [2 ** n for n in range(int(np.log2(domain_size)) + 1) if 2 ** n < domain_size]
    whole = list(range(domain_size, max_chips + 1, domain_size))
    return np.array(sorted(set(inside + whole)), dtype=float)


# --- DeepSeek-V3's wire format and node-limited routing (segment 2) -----------------------------------------

DEEPEP_SCALE_BLOCK = 128
"""Values sharing one fp8 scale in DeepEP's dispatch [values] (source tag ``deepep``)."""

DEEPEP_SCALE_BYTES = 4
"""Bytes of one dispatch scale, float32 [bytes] (source tag ``deepep``)."""

DEEPSEEK_V3_MAX_NODES = 4
"""Nodes one DeepSeek-V3 token may be dispatched to [count] (source tags ``deepseek-v3-routing``, ``deepep``)."""


def dispatch_combine_bytes_per_token(hidden_size: int, experts_per_token: int, *,
                                     dispatch_bytes_per_value: float = 1.0, combine_bytes_per_value: float = 2.0,
                                     scale_block: int | None = None, scale_bytes: float = DEEPEP_SCALE_BYTES) -> float:
    """Bytes one token moves per MoE layer, dispatch in one format and combine in another [bytes].

    k copies of h values go out (dispatch) and k come back (combine):
    k * h * (b_dispatch + b_combine), plus, if ``scale_block`` is given, one
    scale of ``scale_bytes`` per block of dispatched values. DeepSeek-V3
    (fp8 out, bf16 back): 8 * 7168 * (1 + 2) = 172,032 B (~172 KB), or 173,824 B
    with DeepEP's float32 scale per 128 values (8 * 56 * 4 = 1,792 B more);
    all-bf16 would be 8 * 7168 * 4 = 229,376 B. Assumes every chosen expert sits
    on a different chip (no two copies share a destination), an upper bound.
    """
    scales = 0.0 if scale_block is None else np.ceil(hidden_size / scale_block) * scale_bytes
    return experts_per_token * (hidden_size * (dispatch_bytes_per_value + combine_bytes_per_value) + scales)


def _miss_probability(experts_per_token: int, pool: float, per_node: float) -> float:
    """Chance that none of k distinct experts drawn uniformly from ``pool`` lies on one node holding ``per_node``."""
    miss = 1.0
    for i in range(experts_per_token):
        miss *= max(pool - per_node - i, 0.0) / (pool - i)
    return miss


def expected_nodes_reached(experts_per_token: int, routed_experts: int, nodes: int,
                           max_nodes: int | None = None) -> float:
    """Distinct nodes a token's k experts lie on, uniform routing, experts spread evenly over nodes [count].

    Unlimited: N * (1 - P(miss)), P(miss) = prod_{i<k} (E - E/N - i) / (E - i).
    Node-limited to M < N nodes: the token first picks M nodes (DeepSeek-V3
    picks 4 expert groups), then its k experts among their M*E/N experts, so
    at most M nodes.
    """
    if nodes < 1 or not 0 < experts_per_token <= routed_experts:
        raise ValueError("need nodes >= 1 and 0 < experts_per_token <= routed_experts")
    per_node = routed_experts / nodes
    chosen = nodes if max_nodes is None or max_nodes >= nodes else max_nodes
    pool = chosen * per_node
    if experts_per_token > pool:
        raise ValueError(f"{experts_per_token} experts do not fit in {chosen} nodes of {per_node:g} experts")
    return chosen * (1.0 - _miss_probability(experts_per_token, pool, per_node))


@dataclass(frozen=True)
class TokenRoute:
    """Where one token's dispatch goes, in expert copies (multiply by h * bytes for bytes).

    Attributes:
        infiniband_copies: copies that cross the scale-out network [count].
        nvlink_copies: copies that move inside a node (direct, or forwarded after crossing InfiniBand) [count].
        experts_per_token: k [count].
    """

    infiniband_copies: float
    nvlink_copies: float
    experts_per_token: int

    @property
    def infiniband_share(self) -> float:
        """InfiniBand copies per expert copy [fraction]: (G - D)/G without node limits (94.4% at EP144)."""
        return self.infiniband_copies / self.experts_per_token


def token_route(experts_per_token: int, ep_degree: int, domain_size: int, *, routed_experts: int | None = None,
                max_nodes: int | None = None) -> TokenRoute:
    """InfiniBand and NVLink copies of one token's dispatch over EP ``ep_degree`` in nodes of ``domain_size``.

    Without ``max_nodes`` (the course's first model): every expert on another
    node gets its own copy over InfiniBand, k (G - D) / G; the rest,
    k (D - 1) / G, cross NVLink. With node-limited routing (DeepSeek-V3, M = 4,
    ``routed_experts`` needed): a token crosses InfiniBand once per remote node
    it reaches, E[nodes] (N - 1) / N, and each copy is then forwarded over
    NVLink to its expert's GPU, k (D - 1) / D copies on NVLink in all.
    """
    shares = traffic_shares(ep_degree, domain_size)
    if max_nodes is None:
        return TokenRoute(experts_per_token * shares.scale_out, experts_per_token * shares.scale_up,
                          experts_per_token)
    if routed_experts is None:
        raise ValueError("node-limited routing needs routed_experts")
    nodes = max(1, int(ep_degree) // domain_size)
    remote = expected_nodes_reached(experts_per_token, routed_experts, nodes, max_nodes) * (nodes - 1) / nodes
    return TokenRoute(remote, experts_per_token * (domain_size - 1) / domain_size, experts_per_token)


def max_remote_node_share(max_nodes: int, experts_per_token: int, nodes: int) -> float:
    """Upper bound of the InfiniBand share with node-limited routing, M (N - 1) / N / k [fraction]."""
    return max_nodes * (nodes - 1) / nodes / experts_per_token


def experts_per_token_at_equal_cost(max_nodes: int, fabric: Fabric | Chip) -> float:
    """Experts a token can use before NVLink forwarding, not InfiniBand, sets the pace [count].

    Crossing InfiniBand once per node costs 1/BW_out per node; forwarding costs
    1/BW_up per expert, so a node can take BW_up / BW_out experts for the price
    of one crossing: M * BW_up / BW_out in all (DeepSeek's H800: 4 * 3.2 = 12.8,
    the report's "13 experts").
    """
    return max_nodes * scale_up_to_out_ratio(fabric)


GB300_NVL72 = Fabric(
    name="GB300 NVL72 (800 Gb/s ConnectX-8)",
    domain_size=72,
    scale_up_bandwidth=900 * GIGA,
    scale_out_bandwidth=100 * GIGA,
    sources={"domain_size": "nvidia-gb300", "scale_up_bandwidth": "nvidia-gb300", "scale_out_bandwidth": "nic-800g"},
)
"""Blackwell Ultra rack: the same NVLink 5 as GB200 NVL72, twice the scale-out per GPU: 9x instead of 18x."""


def scale_out_generations() -> dict[str, Fabric]:
    """The NVL72 rack with 400 Gb/s NICs (GB200 preset) beside the 800 Gb/s generation (GB300), by key."""
    return {"gb200-nvl72": fabric_of(chip_presets.GB200_NVL72_GPU), "gb300-nvl72": GB300_NVL72}
