"""Exercises of segment 1, "How batch size affects token cost and speed"."""

from __future__ import annotations

from course.exercise import (
    COMMON_MISTAKES,
    HINT_UNIT_1E6,
    ChoiceExercise,
    Exercise,
    Mistake,
)
from course.models import kv_cache, roofline
from course.presets import chips, llms

HINT_INVERTED_SPARSITY = ("You multiplied by the active fraction. A sparser model uses fewer of its weights per "
                          "token, so it needs a *larger* batch to pay for loading them: divide by the fraction.")
HINT_ROUTED_ONLY = ("That uses routed experts alone (256/8). Count what is active per token: the shared expert, "
                    "the dense layers and attention run for every token too.")


def _critical_batch_quarter() -> float:
    return roofline.critical_batch_from_balance(roofline.LECTURE_FLOPS_PER_BYTE, 1 / 4)


CRITICAL_BATCH_QUARTER = Exercise(
    variable="critical_batch_quarter",
    unit="sequences",
    expected=_critical_batch_quarter,
    mistakes=(Mistake(lambda e: roofline.LECTURE_FLOPS_PER_BYTE * (1 / 4), HINT_INVERTED_SPARSITY),
              *COMMON_MISTAKES),
    magnitude=(1e-3, 1e8),
)
"""Critical batch at 300 FLOPs/byte for a model with 1/4 of its parameters active [sequences]."""


def _deepseek_lecture() -> float:
    return roofline.critical_batch_from_balance(roofline.LECTURE_FLOPS_PER_BYTE, llms.LECTURE_DEEPSEEK_ACTIVE_FRACTION)


DEEPSEEK_LECTURE_CRITICAL_BATCH = Exercise(
    variable="deepseek_lecture_critical_batch",
    unit="sequences",
    expected=_deepseek_lecture,
    mistakes=(Mistake(lambda e: roofline.LECTURE_FLOPS_PER_BYTE * llms.LECTURE_DEEPSEEK_ACTIVE_FRACTION,
                      HINT_INVERTED_SPARSITY),
              *COMMON_MISTAKES),
    magnitude=(1e-3, 1e8),
)
"""The lecture's DeepSeek-V3 critical batch with 32/256 active [sequences]."""


def _rubin_drain() -> float:
    return roofline.drain_time_s(chips.RUBIN)


RUBIN_DRAIN_TIME_S = Exercise(
    variable="rubin_drain_time_s",
    unit="seconds",
    expected=_rubin_drain,
    mistakes=(Mistake(lambda e: 1 / e, "You divided bandwidth by capacity; the drain time is bytes / (bytes/s)."),
              *COMMON_MISTAKES),
    magnitude=(1e-6, 1e3),
)
"""Rubin's HBM drain time, 288 GB at 20 TB/s [s]."""

COST_EXERCISE = dict(
    llm=llms.LLAMA_3_70B,
    chip=chips.H100_SXM,
    n_chips=8,
    batch=64,
    context_tokens=4096,
    price_usd_per_chip_hour=chips.DEFAULT_PRICE_USD_PER_CHIP_HOUR,
    precision=roofline.BF16,
)
"""Scenario of the cost exercise: Llama-3-70B in bf16 on 8 H100 SXM at $2/GPU-hour, batch 64, 4,096-token context."""


def cost_exercise_step(include_kv: bool = True) -> roofline.DecodeStep:
    """The cost exercise's decode step (optionally without KV reads, a common slip)."""
    s = COST_EXERCISE
    return roofline.decode_step(
        s["batch"],
        active_params=s["llm"].active_params,
        total_params=s["llm"].total_params,
        context_tokens=s["context_tokens"],
        kv_bytes_per_token=kv_cache.kv_bytes_per_token(s["llm"]) if include_kv else 0.0,
        chip=s["chip"],
        n_chips=s["n_chips"],
        precision=s["precision"],
    )


def _cost(include_kv: bool = True) -> float:
    return float(roofline.cost_per_million_tokens(cost_exercise_step(include_kv), COST_EXERCISE["price_usd_per_chip_hour"]))


COST_PER_MILLION_TOKENS = Exercise(
    variable="cost_per_million_tokens_usd",
    unit="USD per million output tokens",
    expected=_cost,
    rel_tol=0.03,
    mistakes=(
        Mistake(lambda e: _cost(include_kv=False),
                "You left out the KV-cache reads: every sequence streams its whole context each step."),
        Mistake(lambda e: e / COST_EXERCISE["n_chips"],
                "That is the cost on one GPU: all 8 GPUs are rented for every step."),
        Mistake(lambda e: e / 1e6, HINT_UNIT_1E6),
        *COMMON_MISTAKES,
    ),
    magnitude=(1e-9, 1e6),
)
"""Cost per million output tokens in the cost exercise's scenario [USD]."""


def _deepseek_published() -> float:
    return roofline.critical_batch_from_balance(roofline.LECTURE_FLOPS_PER_BYTE, llms.DEEPSEEK_V3.sparsity)


DEEPSEEK_PUBLISHED_CRITICAL_BATCH = Exercise(
    variable="deepseek_published_critical_batch",
    unit="sequences",
    expected=_deepseek_published,
    rel_tol=0.03,
    mistakes=(
        Mistake(lambda e: _deepseek_lecture(), "That is the lecture's 32/256 figure; use the published 37B of 671B."),
        Mistake(lambda e: roofline.LECTURE_FLOPS_PER_BYTE * 256 / 8, HINT_ROUTED_ONLY),
        Mistake(lambda e: roofline.LECTURE_FLOPS_PER_BYTE * llms.DEEPSEEK_V3.sparsity, HINT_INVERTED_SPARSITY),
        *COMMON_MISTAKES,
    ),
    magnitude=(1e-3, 1e8),
)
"""Critical batch of DeepSeek-V3 from its published 37B active of 671B, at 300 FLOPs/byte [sequences]."""

GAP_EXPLANATION = ChoiceExercise(
    variable="gap_explanation",
    options={
        "a": "The lecture assumed a faster chip than DeepSeek serves on.",
        "b": "Only the routed experts are sparse: attention, the dense first layers and the shared expert "
             "run for every token, and the experts are narrow, so 37B of 671B parameters (about 5.5%) are "
             "active per token, not 32/256 (12.5%).",
        "c": "DeepSeek stores weights in fp8, which halves the critical batch.",
        "d": "The KV cache of MLA is so small that it changes the critical batch by 2x.",
    },
    correct="b",
    hints={
        "a": "The critical batch depends on the chip only through FLOP/s per byte, and both figures use ~300.",
        "c": "fp8 halves the bytes per weight but doubles the FLOP/s: the ratio, and the critical batch, stay put.",
        "d": "Both figures ignore the KV cache: they compare weight loading with compute only.",
    },
)
"""Why the published config gives a larger critical batch than the lecture's 2,400."""

EXERCISES = (
    CRITICAL_BATCH_QUARTER,
    DEEPSEEK_LECTURE_CRITICAL_BATCH,
    RUBIN_DRAIN_TIME_S,
    COST_PER_MILLION_TOKENS,
    DEEPSEEK_PUBLISHED_CRITICAL_BATCH,
    GAP_EXPLANATION,
)
"""Every exercise of the segment, in notebook order."""
