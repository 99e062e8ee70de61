"""DeepSeek-V3's all-to-all as deployed: fp8 dispatch, bf16 combine, node-limited routing; NIC generations."""

from __future__ import annotations

import pytest

from course.models import moe
from course.presets import llms

V3 = llms.DEEPSEEK_V3


def test_fp8_dispatch_bf16_combine_is_172_kb():
    """facts.md (DeepEP README): 8 x 7168 x (1 + 2) = 172,032 B per token per layer, not 8 x 7168 x 4 = 229,376 B."""
    mixed = moe.dispatch_combine_bytes_per_token(V3.hidden_size, V3.experts_per_token)
    assert mixed == 8 * 7168 * 3 == 172_032
    assert moe.all_to_all_bytes_per_token(V3.hidden_size, V3.experts_per_token) == 8 * 7168 * 4
    with_scales = moe.dispatch_combine_bytes_per_token(V3.hidden_size, V3.experts_per_token, scale_block=128)
    assert with_scales == 172_032 + 8 * (7168 // 128) * 4


def test_mixed_bytes_feed_the_all_to_all_time():
    """Passing the 172 KB per token scales the layer time by 3/4 against all-bf16."""
    args = dict(hidden_size=7168, experts_per_token=8)
    bf16 = moe.all_to_all_time(64, 144, moe.DEEPSEEK_H800, **args)
    mixed = moe.all_to_all_time(64, 144, moe.DEEPSEEK_H800, **args,
                                bytes_per_token=moe.dispatch_combine_bytes_per_token(7168, 8))
    assert float(mixed.total_s) == pytest.approx(0.75 * float(bf16.total_s))


@pytest.mark.parametrize("ep, share", [(144, 136 / 144), (320, 312 / 320)])
def test_infiniband_share_without_node_limits(ep, share):
    """The notebook's 94-97.5%: (G - 8) / G of a token's expert copies leave the node."""
    route = moe.token_route(8, ep, 8)
    assert route.infiniband_share == pytest.approx(share)


def test_node_limited_routing_halves_infiniband():
    """At most 4 nodes: at most 4 x 17/18 = 3.78 crossings of 8 copies at EP144 (<= 47%), not 7.56 (94%)."""
    limited = moe.token_route(8, 144, 8, routed_experts=256, max_nodes=4)
    bound = moe.max_remote_node_share(4, 8, 18)
    assert bound == pytest.approx(4 * 17 / 18 / 8)
    assert limited.infiniband_share <= bound
    assert limited.infiniband_share == pytest.approx(0.433, abs=0.002)  # uniform routing inside the 4 nodes
    assert limited.nvlink_copies == pytest.approx(8 * 7 / 8)


def test_expected_nodes_by_hand():
    """8 nodes of 32 experts, k = 8: P(node missed) = prod (224 - i)/(256 - i); limited to 4: prod (96 - i)/(128 - i)."""
    def miss(pool, per_node):
        p = 1.0
        for i in range(8):
            p *= (pool - per_node - i) / (pool - i)
        return p
    assert moe.expected_nodes_reached(8, 256, 8) == pytest.approx(8 * (1 - miss(256, 32)))
    assert moe.expected_nodes_reached(8, 256, 8, max_nodes=4) == pytest.approx(4 * (1 - miss(128, 32)))
    assert moe.expected_nodes_reached(8, 256, 8, max_nodes=4) <= 4


def test_thirteen_experts_at_the_same_cost():
    """V3 report: NVLink 160 vs IB 50 GB/s lets a token use 3.2 experts per node, 4 x 3.2 ~ 13 experts."""
    assert moe.experts_per_token_at_equal_cost(moe.DEEPSEEK_V3_MAX_NODES, moe.DEEPSEEK_H800) == pytest.approx(12.8)
    assert round(moe.experts_per_token_at_equal_cost(4, moe.DEEPSEEK_H800)) == 13


def test_two_nic_generations():
    """facts.md: NVLink 5 900 GB/s over 400 Gb/s (50 GB/s) = 18x; over 800 Gb/s ConnectX-8 (100 GB/s) = 9x."""
    gens = moe.scale_out_generations()
    assert moe.scale_up_to_out_ratio(gens["gb200-nvl72"]) == pytest.approx(900e9 / 50e9, rel=0.01)
    assert moe.scale_up_to_out_ratio(gens["gb300-nvl72"]) == pytest.approx(900e9 / 100e9)
    for tag in moe.GB300_NVL72.sources.values():
        assert tag in moe.SOURCES
