"""Exercises of segment 6, "Deducing inference memory costs from API pricing"."""

from __future__ import annotations

from course.exercise import COMMON_MISTAKES, ChoiceExercise, Exercise, Mistake, off_by
from course.models import context_cost, kv_cache
from course.models.roofline import FLOPS_PER_PARAM_TOKEN, LECTURE_FLOPS_PER_BYTE
from course.presets import chips, llms, prices

HINT_FOLDED_TWO = ("You are off by exactly a factor of 2. The lecture's 300 already counts one multiply-add per "
                   "parameter per token against one byte (fp8 serving): don't add a second factor of 2 on top of it, "
                   "and keep KV values at 2 bytes (bf16).")
HINT_INVERTED = "Your answer is upside down: check which quantity goes in the numerator."

IMPLIED_KV_SCENARIO = dict(active_params=llms.LECTURE_100B.active_params,
                           kink_tokens=prices.GEMINI_2_5_PRO.threshold_tokens)
"""Exercise 1: the lecture's 100B-active model with a price kink at Gemini 2.5 Pro's 200K threshold."""


def _implied_kv() -> float:
    s = IMPLIED_KV_SCENARIO
    return context_cost.implied_kv_bytes_per_token(s["active_params"], s["kink_tokens"])


IMPLIED_KV_BYTES = Exercise(
    variable="implied_kv_bytes",
    unit="bytes per token",
    expected=_implied_kv,
    mistakes=(
        Mistake(lambda e: 1 / e, HINT_INVERTED),
        Mistake(lambda e: IMPLIED_KV_SCENARIO["active_params"] / IMPLIED_KV_SCENARIO["kink_tokens"],
                "You left out the machine balance: at the crossover, compute time N_active/FLOPs equals KV time "
                "ctx·kv/bandwidth, so bandwidth/FLOPs (1/300) stays in the answer."),
        Mistake(lambda e: LECTURE_FLOPS_PER_BYTE * IMPLIED_KV_SCENARIO["active_params"]
                / IMPLIED_KV_SCENARIO["kink_tokens"],
                "You multiplied by 300 instead of dividing: a chip does ~300 operations per byte it reads, so the KV "
                "bytes it can afford per token are few."),
        *off_by(2.0, HINT_FOLDED_TWO),
        *COMMON_MISTAKES,
    ),
    magnitude=(1e-6, 1e12),
)
"""KV bytes/token implied by a kink at 200K for 100B active, at 300 FLOPs/byte [bytes/token]."""

DEEPSEEK = llms.DEEPSEEK_V3


def _deepseek_kv() -> float:
    return kv_cache.kv_bytes_per_token(DEEPSEEK)


def _deepseek_crossover() -> float:
    return context_cost.crossover_context(DEEPSEEK.active_params, _deepseek_kv())


DEEPSEEK_CROSSOVER_TOKENS = Exercise(
    variable="deepseek_crossover_tokens",
    unit="tokens",
    expected=_deepseek_crossover,
    mistakes=(
        Mistake(lambda e: context_cost.crossover_context(DEEPSEEK.total_params, _deepseek_kv()),
                "You used all 671B parameters. A token's compute only touches the active ones (37B)."),
        Mistake(lambda e: context_cost.crossover_context(DEEPSEEK.active_params, _implied_kv()),
                "That uses the ~1.7 KB the price kink implies; use DeepSeek-V3's own KV bytes per token from its "
                "config."),
        Mistake(lambda e: context_cost.crossover_context(
                    DEEPSEEK.active_params, DEEPSEEK.kv_lora_rank * DEEPSEEK.layers * 2),
                "You left out the RoPE key: each layer caches the 512-wide latent *and* a 64-wide RoPE key."),
        Mistake(lambda e: context_cost.crossover_context(
                    DEEPSEEK.active_params, (DEEPSEEK.kv_lora_rank + DEEPSEEK.qk_rope_head_dim) * 2),
                "That is one layer's KV cache: every one of the 61 layers caches its own."),
        Mistake(lambda e: 1 / e, HINT_INVERTED),
        *off_by(2.0, HINT_FOLDED_TWO),
        *COMMON_MISTAKES,
    ),
    magnitude=(1e-6, 1e12),
)
"""DeepSeek-V3's crossover context with its real 70,272 bytes/token and 37B active, at 300 [tokens]."""

RELATIVE_COST_SCENARIO = dict(context_tokens=1_000_000)
"""Exercise 3: the exercise 1 model (1,667 B/token) at a 1M-token context, Claude Sonnet's largest window."""


def _relative_cost() -> float:
    return float(context_cost.relative_cost_per_token(
        RELATIVE_COST_SCENARIO["context_tokens"], IMPLIED_KV_SCENARIO["active_params"], _implied_kv()))


RELATIVE_COST_1M = Exercise(
    variable="relative_cost_1m",
    unit="times the short-context cost per token",
    expected=_relative_cost,
    mistakes=(
        Mistake(lambda e: prices.CLAUDE_SONNET_4.input_long / prices.CLAUDE_SONNET_4.input_short,
                "That is the published price step. The question asks what the roofline model says the cost is."),
        Mistake(lambda e: 1.0, "Past the crossover the KV fetch, not compute, sets the time per token: the cost "
                               "grows in proportion to the context."),
        Mistake(lambda e: 1 / e, HINT_INVERTED),
        *COMMON_MISTAKES,
    ),
    magnitude=(1e-6, 1e9),
)
"""Cost per token at 1M context relative to the floor, for 100B active and 1,667 B/token [x]."""

LOAD_SCENARIO = dict(llm=DEEPSEEK, context_tokens=100_000, chip=chips.H100_SXM)
"""Exercises 4-5: one DeepSeek-V3 sequence of 100,000 tokens on one H100 SXM (fp8 compute, HBM reads)."""


def _load_time(kv_bytes_per_token: float | None = None) -> float:
    s = LOAD_SCENARIO
    kv = _deepseek_kv() if kv_bytes_per_token is None else kv_bytes_per_token
    return context_cost.kv_load_time_s(s["context_tokens"], kv, s["chip"].hbm_bandwidth)


KV_LOAD_TIME_S = Exercise(
    variable="kv_load_time_s",
    unit="seconds",
    expected=_load_time,
    mistakes=(
        Mistake(lambda e: 1 / e, "You divided bandwidth by bytes; a time is bytes / (bytes/s)."),
        *off_by(2.0, "You are off by exactly a factor of 2: KV values are kept in bf16 (2 bytes each), and the "
                     "bandwidth is one H100's 3.35 TB/s."),
        *COMMON_MISTAKES,
    ),
    magnitude=(1e-9, 1e6),
)
"""Time to read 100,000 tokens of DeepSeek-V3 KV cache from one H100's HBM [s]."""


def _recompute_time(active_params: float | None = None, flops_per_s: float | None = None) -> float:
    s = LOAD_SCENARIO
    return context_cost.kv_recompute_time_s(
        s["context_tokens"], s["llm"].active_params if active_params is None else active_params,
        s["chip"].dense_fp8_flops if flops_per_s is None else flops_per_s)


KV_RECOMPUTE_TIME_S = Exercise(
    variable="kv_recompute_time_s",
    unit="seconds",
    expected=_recompute_time,
    mistakes=(
        Mistake(lambda e: _recompute_time(active_params=DEEPSEEK.total_params),
                "You used all 671B parameters; prefill, like decode, only runs the active 37B per token."),
        Mistake(lambda e: _recompute_time(flops_per_s=LOAD_SCENARIO["chip"].dense_bf16_flops),
                "That is the bf16 throughput; the model is served in fp8 (1.979e15 FLOP/s dense)."),
        Mistake(lambda e: e / FLOPS_PER_PARAM_TOKEN,
                "You are off by exactly a factor of 2: count 2 FLOPs per active parameter per token (a multiply "
                "and an add), and use the dense FLOP/s figure, not the datasheet's 'with sparsity' one."),
        Mistake(lambda e: _load_time(), "That is the load time; recomputing means running prefill over the context."),
        *COMMON_MISTAKES,
    ),
    magnitude=(1e-9, 1e7),
)
"""Time to rebuild the same KV cache by prefill at 100% of one H100's dense fp8 peak [s]."""


def _pope_ratio() -> float:
    return context_cost.mfu_ratio(context_cost.POPE_DECODE_MFU_LARGE_BATCH, context_cost.POPE_PREFILL_MFU_LARGE_BATCH)


POPE_MFU_RATIO = Exercise(
    variable="pope_decode_to_prefill_mfu",
    unit="a fraction (decode MFU / prefill MFU)",
    expected=_pope_ratio,
    mistakes=(
        Mistake(lambda e: 1 / e, "Upside down: divide decode MFU by prefill MFU."),
        Mistake(lambda e: context_cost.mfu_ratio(context_cost.POPE_DECODE_MFU_LOW_LATENCY,
                                                 context_cost.POPE_PREFILL_MFU_LOW_LATENCY),
                "Those are the low-latency measurements; the question asks about batch 512."),
        Mistake(lambda e: context_cost.LECTURE_DECODE_TO_PREFILL_MFU,
                "That is the lecture's rule of thumb; compute the ratio Pope et al. measured."),
        Mistake(lambda e: e * 100, "Give a fraction (e.g. 0.5), not a percentage."),
        *COMMON_MISTAKES,
    ),
    magnitude=(1e-4, 1e3),
)
"""Pope et al.'s measured decode/prefill MFU ratio at batch 512: 33% / 76% [fraction]."""

DECODE_MFU_REASON = ChoiceExercise(
    variable="decode_mfu_reason",
    options={
        "a": "Decode spends more FLOPs per token than prefill, so the same chip finishes fewer tokens.",
        "b": "Prefill runs in fp8 while decode has to run in bf16.",
        "c": "Prefill pushes a whole prompt through each weight it reads, so compute dominates; decode reads "
             "every weight (and each sequence's KV cache) to produce one token per sequence, so the chip waits on "
             "memory. A bigger decode batch shares the weight read and narrows the gap.",
        "d": "Decode MFU is lower because the KV cache has to be recomputed at every step.",
    },
    correct="c",
    hints={
        "a": "Both phases spend the same 2 FLOPs per active parameter per token; what differs is the bytes read "
             "per FLOP.",
        "b": "Both phases can use the same precision; the gap is about memory reads, not number formats.",
        "d": "The KV cache is written once and then read at every step; recomputing it would be far slower "
             "(see exercises 4 and 5).",
    },
)
"""Why decode MFU sits below prefill MFU, and why large batches narrow the gap."""

EXERCISES = (
    IMPLIED_KV_BYTES,
    DEEPSEEK_CROSSOVER_TOKENS,
    RELATIVE_COST_1M,
    KV_LOAD_TIME_S,
    KV_RECOMPUTE_TIME_S,
    POPE_MFU_RATIO,
    DECODE_MFU_REASON,
)
"""Every exercise of the segment, in notebook order."""
