"""KV-cache size per token from an attention layout [bytes/token]."""

from __future__ import annotations

from course.presets.llms import LLM


def gqa_kv_bytes_per_token(kv_heads: int, head_dim: int, layers: int, bytes_per_value: float = 2.0) -> float:
    """Grouped-query attention: a K and a V vector per KV head per layer [bytes/token]."""
    return 2 * kv_heads * head_dim * layers * bytes_per_value


def mla_kv_bytes_per_token(kv_lora_rank: int, rope_head_dim: int, layers: int, bytes_per_value: float = 2.0) -> float:
    """Multi-head latent attention: one compressed latent plus the shared RoPE key per layer [bytes/token]."""
    return (kv_lora_rank + rope_head_dim) * layers * bytes_per_value


def kv_bytes_per_token(llm: LLM, bytes_per_value: float = 2.0) -> float:
    """KV bytes per token of a preset [bytes/token]; bf16 values unless told otherwise."""
    if llm.attention == "mla":
        return mla_kv_bytes_per_token(llm.kv_lora_rank, llm.qk_rope_head_dim, llm.layers, bytes_per_value)
    if llm.attention == "gqa":
        return gqa_kv_bytes_per_token(llm.kv_heads, llm.head_dim, llm.layers, bytes_per_value)
    raise ValueError(
        f"{llm.name} has no attention layout in its preset; pass kv_bytes_per_token explicitly "
        "(segment 6 shows how to infer it from API prices)."
    )
