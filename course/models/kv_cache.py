"""KV-cache size per token from an attention layout [bytes/token].

Per layer and token, attention stores:

* MHA (multi-head): a key and a value vector per query head,
  heads * (d_k + d_v) values;
* GQA (grouped-query): the same per KV head, shared by a group of query heads,
  2 * kv_heads * head_dim values (Llama-3-70B: 8 KV heads for 64 query heads,
  8x less than MHA);
* MLA (multi-head latent, DeepSeek-V2/V3): one compressed latent plus one
  shared RoPE key, kv_lora_rank + rope_dim values (DeepSeek-V3: 576 values, 71x
  less than its MHA equivalent of 128 * (192 + 128)).

Times layers and bytes per value: 2 for bf16, 1 for an 8-bit (fp8/int8) KV cache.
"""

from __future__ import annotations

from course.presets.llms import LLM

LAYOUTS = ("mha", "gqa", "mla")
"""Attention layouts ``kv_bytes_per_token_as`` knows."""


def mha_kv_bytes_per_token(heads: int, key_dim: int, layers: int, bytes_per_value: float = 2.0,
                           value_dim: int | None = None) -> float:
    """Multi-head attention: a key and a value per head per layer [bytes/token].

    Args:
        heads: attention heads [count]; key_dim, value_dim: per-head widths [values]
            (value_dim defaults to key_dim); layers [count]; bytes_per_value [bytes].
    """
    value_dim = key_dim if value_dim is None else value_dim
    return heads * (key_dim + value_dim) * layers * bytes_per_value


def gqa_kv_bytes_per_token(kv_heads: int, head_dim: int, layers: int, bytes_per_value: float = 2.0) -> float:
    """Grouped-query attention: a K and a V vector per KV head per layer [bytes/token]."""
    return 2 * kv_heads * head_dim * layers * bytes_per_value


def mla_kv_bytes_per_token(kv_lora_rank: int, rope_head_dim: int, layers: int, bytes_per_value: float = 2.0) -> float:
    """Multi-head latent attention: one compressed latent plus the shared RoPE key per layer [bytes/token]."""
    return (kv_lora_rank + rope_head_dim) * layers * bytes_per_value


def kv_bytes_per_token(llm: LLM, bytes_per_value: float = 2.0) -> float:
    """KV bytes per token of a preset in its own layout [bytes/token]; bf16 values unless told otherwise."""
    if llm.attention in ("mla", "gqa"):
        return kv_bytes_per_token_as(llm, llm.attention, bytes_per_value)
    raise ValueError(
        f"{llm.name} has no attention layout in its preset; pass kv_bytes_per_token explicitly "
        "(segment 6 shows how to infer it from API prices)."
    )


def kv_bytes_per_token_as(llm: LLM, layout: str, bytes_per_value: float = 2.0) -> float:
    """KV bytes per token the preset would store under ``layout`` ("mha", "gqa" or "mla") [bytes/token].

    "mha" uses the preset's query heads and per-head key/value widths (what
    the model would cache without GQA or MLA); "gqa" and "mla" need the
    preset to have that layout's fields.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown attention layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    if not bytes_per_value > 0:
        raise ValueError("bytes_per_value must be positive (2 for bf16, 1 for an 8-bit KV cache)")
    needs = {"mha": ("attention_heads", "qk_head_dim", "v_head_dim", "layers"),
             "gqa": ("kv_heads", "head_dim", "layers"),
             "mla": ("kv_lora_rank", "qk_rope_head_dim", "layers")}[layout]
    missing = [name for name in needs if getattr(llm, name) is None]
    if missing:
        raise ValueError(f"{llm.name} has no {', '.join(missing)} in course/presets/llms.py, "
                         f"so its {layout.upper()} KV size is unknown")
    if layout == "mha":
        return mha_kv_bytes_per_token(llm.attention_heads, llm.qk_head_dim, llm.layers, bytes_per_value,
                                      value_dim=llm.v_head_dim)
    if layout == "gqa":
        return gqa_kv_bytes_per_token(llm.kv_heads, llm.head_dim, llm.layers, bytes_per_value)
    return mla_kv_bytes_per_token(llm.kv_lora_rank, llm.qk_rope_head_dim, llm.layers, bytes_per_value)
