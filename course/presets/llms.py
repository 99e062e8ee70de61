"""Language-model presets: parameter counts and the shapes that set KV-cache size.

Counts are in parameters, sizes in bytes. The KV bytes per token are derived
from each model's published configuration by ``course.models.kv_cache``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SOURCES = {
    "deepseek-v3-config": "deepseek-ai/DeepSeek-V3, inference/configs/config_671B.json",
    "deepseek-v3-readme": "deepseek-ai/DeepSeek-V3 README: 671B total, 37B activated parameters",
    "llama-3-70b-config": "meta-llama/Meta-Llama-3-70B config.json and model card (70.6B parameters)",
    "lecture": "Reiner Pope's lecture on the Dwarkesh Podcast (course seed flashcards)",
}


@dataclass(frozen=True)
class LLM:
    """A transformer's size and attention shape.

    Attributes:
        name: display name.
        total_params: all parameters [count].
        active_params: parameters used per token [count] (== total for a dense model).
        layers: transformer blocks [count], or None if the lecture leaves it open.
        hidden_size: residual width [values], or None.
        attention: "mla" (latent KV), "gqa" (grouped query) or None (unspecified).
        kv_heads, head_dim: for GQA [count, values].
        kv_lora_rank, qk_rope_head_dim: for MLA [values].
        routed_experts, shared_experts, experts_per_token, dense_layers: MoE layout [count].
        attention_heads: query heads per layer [count], or None.
        qk_head_dim, v_head_dim: per-head query/key and value widths [values] (MLA: the
            uncompressed widths used in prefill), or None.
        moe_intermediate_size: hidden width of one routed expert's MLP [values], or None.
        expert_groups, limited_groups: node-limited routing, experts split into groups of
            which a token may use at most ``limited_groups`` [count], or None.
        weight_bytes_per_param: storage per weight [bytes]; 2 for bf16.
        sources: tag in ``SOURCES`` per field.
    """

    name: str
    total_params: float
    active_params: float
    layers: int | None = None
    hidden_size: int | None = None
    attention: str | None = None
    kv_heads: int | None = None
    head_dim: int | None = None
    kv_lora_rank: int | None = None
    qk_rope_head_dim: int | None = None
    routed_experts: int | None = None
    shared_experts: int | None = None
    experts_per_token: int | None = None
    dense_layers: int | None = None
    attention_heads: int | None = None
    qk_head_dim: int | None = None
    v_head_dim: int | None = None
    moe_intermediate_size: int | None = None
    expert_groups: int | None = None
    limited_groups: int | None = None
    weight_bytes_per_param: float = 2.0
    sources: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def sparsity(self) -> float:
        """Share of parameters active per token, N_active / N_total [dimensionless]."""
        return self.active_params / self.total_params


DEEPSEEK_V3 = LLM(
    name="DeepSeek-V3",
    total_params=671e9,
    active_params=37e9,
    layers=61,
    hidden_size=7168,
    attention="mla",
    kv_lora_rank=512,
    qk_rope_head_dim=64,
    routed_experts=256,
    shared_experts=1,
    experts_per_token=8,
    dense_layers=3,
    attention_heads=128,
    qk_head_dim=128 + 64,  # qk_nope_head_dim + qk_rope_head_dim
    v_head_dim=128,
    moe_intermediate_size=2048,
    expert_groups=8,
    limited_groups=4,
    sources={
        "total_params": "deepseek-v3-readme", "active_params": "deepseek-v3-readme",
        "layers": "deepseek-v3-config", "hidden_size": "deepseek-v3-config",
        "kv_lora_rank": "deepseek-v3-config", "qk_rope_head_dim": "deepseek-v3-config",
        "routed_experts": "deepseek-v3-config", "shared_experts": "deepseek-v3-config",
        "experts_per_token": "deepseek-v3-config", "dense_layers": "deepseek-v3-config",
        "attention_heads": "deepseek-v3-config", "qk_head_dim": "deepseek-v3-config",
        "v_head_dim": "deepseek-v3-config", "moe_intermediate_size": "deepseek-v3-config",
        "expert_groups": "deepseek-v3-config", "limited_groups": "deepseek-v3-config",
    },
)
"""DeepSeek-V3 as published: 128 heads, 61 layers of which the first 3 are dense; config keys
n_heads, qk_nope_head_dim 128 + qk_rope_head_dim 64, v_head_dim, moe_inter_dim, n_expert_groups,
n_limited_groups."""

DEEPSEEK_V3_HEADS = 128
"""Attention heads of DeepSeek-V3 (config ``n_heads``) [count]."""

LLAMA_3_70B = LLM(
    name="Llama-3-70B",
    total_params=70.6e9,
    active_params=70.6e9,
    layers=80,
    hidden_size=8192,
    attention="gqa",
    kv_heads=8,
    head_dim=128,
    attention_heads=64,
    qk_head_dim=128,
    v_head_dim=128,
    sources={
        "total_params": "llama-3-70b-config", "active_params": "llama-3-70b-config",
        "layers": "llama-3-70b-config", "hidden_size": "llama-3-70b-config",
        "kv_heads": "llama-3-70b-config", "head_dim": "llama-3-70b-config",
        "attention_heads": "llama-3-70b-config", "qk_head_dim": "llama-3-70b-config",
        "v_head_dim": "llama-3-70b-config",
    },
)

LECTURE_100B = LLM(
    name="Lecture's 100B-active model",
    total_params=100e9,
    active_params=100e9,
    sources={"total_params": "lecture", "active_params": "lecture"},
)
"""The lecture's round 'N_active ~ 100B' frontier model; treated as dense, attention unspecified."""

LECTURE_DEEPSEEK_ACTIVE_FRACTION = 32 / 256
"""The lecture's '32/256 active' for DeepSeek-V3 [dimensionless] (source tag ``lecture``)."""

LLMS: dict[str, LLM] = {
    "deepseek-v3": DEEPSEEK_V3,
    "llama-3-70b": LLAMA_3_70B,
    "lecture-100b": LECTURE_100B,
}
"""All model presets by short key."""
