"""Prefill against decode: arithmetic intensity, time to first token, MFU, input-token cost, and
the two serving tricks that follow (continuous batching, prefix caching).

**Why prefill is compute-bound.** Prefilling B prompts of L tokens multiplies
every weight by B*L token vectors in one pass; decode multiplies it by B. Per
byte of weights read the work is

    intensity = 2 * N_active * B * L / (N_total * w)    [FLOP/byte]

(plus attention FLOPs, minus nothing). A prompt is a decode batch of L tokens:
it is compute-bound once B*L passes the decode critical batch (295 / sparsity on
an H100, ~5,400 tokens for DeepSeek-V3), which a single 8K-token prompt of a
dense model already does.

**Attention FLOPs grow with context.** Each query-key pair costs
a = 2 * heads * (d_qk + d_v) FLOPs per layer (QK^T dot product plus the
weighted sum of values). A causal prompt of L tokens has L(L+1)/2 pairs, so

    FLOPs(L) = 2 N_active L + a_total L (L+1) / 2,

and the cost of an *input* token grows linearly with prompt length, reaching
twice the parameter FLOPs at L = 4 N_active / a_total (Llama-3-70B: 108K
tokens; DeepSeek-V3 in its prefill form: 29.6K). This is the input price's
reason to step up with context; the decode KV-fetch ramp explains the
*output* price (``course.models.context_cost``).

**Time to first token vs time per output token.** TTFT is the prefill step of
the prompt (compute-bound: FLOPs / F); the time per output token is the decode
step (memory-bound below the critical batch: weights + KV over bandwidth).

**Decode MFU ~ 1/5 of prefill** (the lecture, 01:33). Prefill runs near its
roofline (Pope et al. 2022 measured 76%). A decode step below the critical
batch B* with no KV has MFU = B / B*: the lecture's 1/5 is decoding at a fifth
of the critical batch. The same 1/5 appears with weights amortised at a
context 5x the KV crossover, and in DeepSeek's published serving: 14.8k output
vs 73.7k input tokens/s per H800 node is 0.20 (both cost ~2 N_active FLOPs per
token). Pope et al. measured 0.43 (33% vs 76%) and 0.33 (14% vs 43%).

**Disaggregation.** Prefill wants big token blocks and is compute-bound;
decode wants many sequences resident and is bandwidth- and memory-bound. Run
on the same chips, a long prompt stalls every decoding sequence for its whole
prefill, so serving systems split them onto separate chip groups (DeepSeek:
prefill units of 32 GPUs, decode units of 144-320).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course.models import roofline
from course.models.roofline import FLOPS_PER_PARAM_TOKEN, Precision
from course.presets.chips import Chip
from course.presets.llms import LLM
from course.units import SECONDS_PER_HOUR, TOKENS_PER_MILLION

SOURCES = {
    "deepseek-infra": "deepseek-ai/open-infra-index, 2025-02 Open Source Week day 6: per H800 node ~73.7k input "
                      "tokens/s in prefill or ~14.8k output tokens/s in decode (shared/reference/facts.md)",
    "pope-2022": "Pope et al. 2022, 'Efficiently Scaling Transformer Inference' (shared/reference/facts.md)",
}

DEEPSEEK_PREFILL_TOKENS_PER_S_PER_NODE = 73.7e3
"""DeepSeek's measured prefill throughput per H800 node [input tokens/s] (source tag ``deepseek-infra``)."""

DEEPSEEK_DECODE_TOKENS_PER_S_PER_NODE = 14.8e3
"""DeepSeek's measured decode throughput per H800 node [output tokens/s] (source tag ``deepseek-infra``)."""


def attention_flops_per_query_key(llm: LLM) -> float:
    """FLOPs of one query-key pair over all layers, 2 * heads * (d_qk + d_v) * layers [FLOP].

    Llama-3-70B: 2 * 64 * 256 * 80 = 2.62M. DeepSeek-V3 in the form prefill
    uses (keys and values decompressed): 2 * 128 * (192 + 128) * 61 = 5.00M.
    """
    missing = [name for name in ("attention_heads", "qk_head_dim", "v_head_dim", "layers")
               if getattr(llm, name) is None]
    if missing:
        raise ValueError(f"{llm.name} has no {', '.join(missing)} in course/presets/llms.py; "
                         "pass attention_flops_per_pair explicitly")
    return 2.0 * llm.attention_heads * (llm.qk_head_dim + llm.v_head_dim) * llm.layers


def prefill_flops(prompt_tokens, *, active_params: float, attention_flops_per_pair: float = 0.0,
                  cached_tokens=0, flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN):
    """FLOPs to prefill one prompt, tokens cached_tokens+1 .. L of it [FLOP].

    2 N (L - P) for the weights plus a * (L(L+1) - P(P+1)) / 2 for causal
    attention: token i attends to i keys, including the P cached ones.
    """
    length = np.asarray(prompt_tokens, dtype=float)
    cached = np.asarray(cached_tokens, dtype=float)
    if np.any(cached < 0) or np.any(cached > length):
        raise ValueError("cached_tokens must lie between 0 and the prompt length")
    pairs = (length * (length + 1) - cached * (cached + 1)) / 2
    flops = flops_per_param_token * active_params * (length - cached) + attention_flops_per_pair * pairs
    return float(flops) if flops.ndim == 0 else flops


def prefill_flops_per_token(prompt_tokens, *, active_params: float, attention_flops_per_pair: float = 0.0):
    """Mean FLOPs per input token of an L-token prompt, 2N + a (L+1)/2 [FLOP/token]."""
    return prefill_flops(prompt_tokens, active_params=active_params,
                         attention_flops_per_pair=attention_flops_per_pair) / np.asarray(prompt_tokens, dtype=float)


def attention_doubling_length(active_params: float, attention_flops_per_pair: float) -> float:
    """Prompt length at which attention adds as many FLOPs as the weights, 4 N / a [tokens]."""
    return 4.0 * active_params / attention_flops_per_pair


def prefill_arithmetic_intensity(prompt_tokens, batch: float = 1, *, active_params: float, total_params: float,
                                 precision: Precision, kv_bytes_per_token: float = 0.0,
                                 attention_flops_per_pair: float = 0.0):
    """FLOPs per HBM byte of one prefill step: weights read once, KV written once [FLOP/byte]."""
    flops = batch * np.asarray(prefill_flops(prompt_tokens, active_params=active_params,
                                             attention_flops_per_pair=attention_flops_per_pair))
    moved = total_params * precision.weight_bytes_per_param + batch * np.asarray(prompt_tokens) * kv_bytes_per_token
    return flops / moved


@dataclass(frozen=True)
class PrefillStep:
    """One prefill step of ``batch`` prompts of ``prompt_tokens`` each (scalars or arrays) [s].

    Attributes:
        batch: prompts prefilled together [count]; prompt_tokens: their length [tokens].
        compute_s: FLOPs / tensor throughput [s]; memory_s: (weights + KV written) / bandwidth [s].
        n_chips: chips sharing the step [count].
    """

    batch: float
    prompt_tokens: np.ndarray | float
    compute_s: np.ndarray | float
    memory_s: np.ndarray | float
    n_chips: int

    @property
    def step_s(self):
        """max(compute, memory): the time to first token of every prompt in the step [s]."""
        return np.maximum(self.compute_s, self.memory_s)

    @property
    def mfu(self):
        """compute / step [fraction of peak] (roofline: 1 once compute-bound)."""
        return self.compute_s / self.step_s

    @property
    def compute_bound(self):
        """True where compute time is at least memory time."""
        return self.compute_s >= self.memory_s

    @property
    def tokens_per_s(self):
        """Input tokens per second of the group [tokens/s]."""
        return self.batch * self.prompt_tokens / self.step_s


def prefill_step(prompt_tokens, batch: float = 1, *, active_params: float, total_params: float,
                 kv_bytes_per_token: float, chip: Chip, n_chips: int = 1, precision: Precision | None = None,
                 attention_flops_per_pair: float = 0.0) -> PrefillStep:
    """Roofline of one prefill step on ``n_chips`` chips sharing it evenly [s].

    Args:
        prompt_tokens: prompt length L [tokens]; batch: prompts together [count].
        active_params, total_params: [count]; kv_bytes_per_token: [bytes/token].
        chip, n_chips, precision: as in ``roofline.decode_step``.
        attention_flops_per_pair: see ``attention_flops_per_query_key`` [FLOP]; 0 ignores attention.
    """
    precision = precision or roofline.serving_precision(chip)
    flops = batch * np.asarray(prefill_flops(prompt_tokens, active_params=active_params,
                                             attention_flops_per_pair=attention_flops_per_pair))
    moved = total_params * precision.weight_bytes_per_param + batch * np.asarray(prompt_tokens) * kv_bytes_per_token
    compute_s = flops / (precision.flops_per_s(chip) * n_chips)
    memory_s = moved / (chip.hbm_bandwidth * n_chips)
    prompt = np.asarray(prompt_tokens, dtype=float)
    if prompt.ndim == 0:
        prompt, compute_s, memory_s = float(prompt), float(compute_s), float(memory_s)
    return PrefillStep(batch=batch, prompt_tokens=prompt, compute_s=compute_s, memory_s=memory_s, n_chips=n_chips)


def prefill_cost_per_million_input_tokens(prompt_tokens, *, active_params: float, chip: Chip,
                                          price_usd_per_chip_hour: float, precision: Precision | None = None,
                                          attention_flops_per_pair: float = 0.0, mfu: float = 1.0):
    """Chip cost of a million input tokens of L-token prompts, compute-bound at ``mfu`` [USD / 1e6 tokens].

    (2N + a (L+1)/2) / (F * mfu) seconds of one chip per token: flat while the
    weights dominate, rising linearly once attention does.
    """
    if not 0 < mfu <= 1:
        raise ValueError("mfu is a fraction in (0, 1]")
    precision = precision or roofline.serving_precision(chip)
    per_token_s = prefill_flops_per_token(prompt_tokens, active_params=active_params,
                                          attention_flops_per_pair=attention_flops_per_pair) / (
        precision.flops_per_s(chip) * mfu)
    return price_usd_per_chip_hour / SECONDS_PER_HOUR * per_token_s * TOKENS_PER_MILLION


def decode_mfu_below_critical(batch, critical_batch: float):
    """Decode MFU with no KV read, min(1, B / B*) [fraction of peak]."""
    return np.minimum(1.0, np.asarray(batch, dtype=float) / critical_batch)


def decode_to_prefill_mfu(decode_mfu, prefill_mfu: float = 1.0):
    """Decode MFU as a share of prefill MFU [fraction]; the lecture says ~1/5."""
    if not 0 < prefill_mfu <= 1:
        raise ValueError("prefill_mfu is a fraction in (0, 1]")
    return np.asarray(decode_mfu) / prefill_mfu


def throughput_mfu_ratio(decode_tokens_per_s: float, prefill_tokens_per_s: float,
                         decode_flops_per_token: float = 1.0, prefill_flops_per_token: float = 1.0) -> float:
    """Decode MFU over prefill MFU from measured token rates on the same hardware [fraction].

    MFU is rate * FLOPs per token / peak, so the peak cancels. With ~2 N FLOPs
    per token in both (attention ignored), DeepSeek's 14.8k / 73.7k = 0.20.
    """
    return decode_tokens_per_s * decode_flops_per_token / (prefill_tokens_per_s * prefill_flops_per_token)


# --- continuous batching ---------------------------------------------------------------------------------

def sequences_in_flight(arrival_rate, output_tokens: float, step_s: float):
    """Little's law: sequences decoding at once = arrivals/s * output tokens * step time [sequences]."""
    return np.asarray(arrival_rate, dtype=float) * output_tokens * step_s


def arrival_rate_for_batch(batch: float, output_tokens: float, step_s: float) -> float:
    """Requests per second that keep ``batch`` sequences decoding (e.g. the critical batch) [1/s]."""
    if not output_tokens > 0 or not step_s > 0:
        raise ValueError("output_tokens and step_s must be positive")
    return batch / (output_tokens * step_s)


def static_batch_occupancy(output_lengths) -> float:
    """Share of batch slots doing useful work when a static batch waits for its longest sequence, mean/max [fraction].

    Continuous batching refills a slot the step its sequence ends, so its
    occupancy stays near 1 and the batch stays near its target (the critical
    batch) while requests keep arriving.
    """
    lengths = np.asarray(output_lengths, dtype=float)
    if lengths.size == 0 or np.any(lengths <= 0):
        raise ValueError("output_lengths must be positive token counts")
    return float(lengths.mean() / lengths.max())


# --- prefix caching --------------------------------------------------------------------------------------

def prefix_cache_saved_fraction(prompt_tokens: float, cached_tokens: float, *, active_params: float,
                                attention_flops_per_pair: float = 0.0) -> float:
    """Share of a prompt's prefill FLOPs a cached prefix of ``cached_tokens`` saves [fraction].

    Without attention it is P / L; with attention less, because the new tokens
    still attend to every cached key (cheaper to load than recompute, see
    ``context_cost.recompute_to_load_ratio``).
    """
    full = prefill_flops(prompt_tokens, active_params=active_params, attention_flops_per_pair=attention_flops_per_pair)
    rest = prefill_flops(prompt_tokens, active_params=active_params, attention_flops_per_pair=attention_flops_per_pair,
                         cached_tokens=cached_tokens)
    return 1.0 - rest / full
