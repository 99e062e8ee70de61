"""Exercises of segment 1, "How batch size affects token cost and speed"."""

from __future__ import annotations

import math

from course.exercise import (
    COMMON_MISTAKES,
    HINT_UNIT_1E6,
    ChoiceExercise,
    Exercise,
    Mistake,
)
from course.models import kv_cache, memory, roofline
from course.presets import chips, llms
from course.variants import Family

HINT_INVERTED_SPARSITY = ("You multiplied by the active fraction. A sparser model uses fewer of its weights per "
                          "token, so it needs a *larger* batch to pay for loading them: divide by the fraction.")
HINT_ROUTED_ONLY = ("That uses routed experts alone (256/8). Count what is active per token: the shared expert, "
                    "the dense layers and attention run for every token too.")
HINT_W8_SAME = ("Only if the matmuls ran in fp8 as well. Here the 8-bit weights are upcast and multiplied on bf16 "
                "tensor cores: the weight read stays the same size but compute runs at half the rate.")
HINT_W8_INVERTED = ("Wrong way round: the weight read is as small as with fp8, but each sequence now needs twice the "
                    "compute time, so compute catches up with the read at a smaller batch.")
HINT_FORGOT_WEIGHTS = ("You gave all of HBM to the KV cache: the weights are stored on the same chips and come "
                       "first.")


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
        "a": "The lecture used a faster chip, and more FLOPs per byte raise the critical batch.",
        "b": "V3 routes 8 of its 256 experts, not 32; its always-on weights lift the share to 5.5%.",
        "c": "DeepSeek serves in fp8, and fp8 weights halve the critical batch relative to bf16.",
        "d": "Attention, dense layers and the shared expert make V3 sparser than 32 of 256 suggests.",
    },
    correct="b",
    hints={
        "a": "The critical batch depends on the chip only through FLOP/s per byte, and both figures use ~300.",
        "c": "fp8 halves the bytes per weight but doubles the FLOP/s: the ratio, and the critical batch, stay put.",
        "d": ("Backwards: weights that run for every token make a model *less* sparse than its expert ratio. "
              "They pull the critical batch down from the routed-only figure, not up from the lecture's."),
    },
)
"""Why the published config gives a larger critical batch than the lecture's 2,400.

V3 routes 8 of 256 experts (3.1%), sparser than the lecture's "32 of 256"; ~16.5B always-on parameters
(``expert_reads.always_on_params``) lift the active share to 37/671 = 5.5%, so the published critical batch
(~5,400) lies between the lecture's 2,400 and the routed-only 9,600.
"""

# --- HBM capacity (issue 11, 1.3) -------------------------------------------------------------------------

MEMORY_EXERCISE = dict(llm=llms.DEEPSEEK_V3, chip=chips.H100_SXM, n_chips=16, context_tokens=1024,
                       precision=roofline.FP8)
"""Scenario of the memory exercises: DeepSeek-V3, fp8 weights, bf16 MLA KV cache, H100 SXM, 1,024-token context."""


def _memory_kwargs() -> dict:
    s = MEMORY_EXERCISE
    return dict(total_params=s["llm"].total_params, context_tokens=s["context_tokens"],
                kv_bytes_per_token=kv_cache.kv_bytes_per_token(s["llm"]), chip=s["chip"], precision=s["precision"])


def memory_exercise_critical_batch() -> float:
    """The memory scenario's critical batch (lecture's overlap step model) [sequences]."""
    s = MEMORY_EXERCISE
    return roofline.critical_batch(active_params=s["llm"].active_params, total_params=s["llm"].total_params,
                                   context_tokens=s["context_tokens"],
                                   kv_bytes_per_token=kv_cache.kv_bytes_per_token(s["llm"]), chip=s["chip"],
                                   precision=s["precision"])


def _max_batch_16() -> float:
    return memory.max_batch_that_fits(n_chips=MEMORY_EXERCISE["n_chips"], **_memory_kwargs())


def _kv_only(n_chips: int, per_sequence: float) -> float:
    return math.floor(n_chips * MEMORY_EXERCISE["chip"].hbm_bytes / per_sequence)


MAX_BATCH_16_H100 = Exercise(
    variable="max_batch_16_h100",
    unit="sequences",
    expected=_max_batch_16,
    mistakes=(Mistake(lambda e: _kv_only(MEMORY_EXERCISE["n_chips"], MEMORY_EXERCISE["context_tokens"]
                                         * kv_cache.kv_bytes_per_token(MEMORY_EXERCISE["llm"])),
                      HINT_FORGOT_WEIGHTS),
              *COMMON_MISTAKES),
    magnitude=(1e-4, 1e9),
)
"""Largest batch of 1,024-token sequences DeepSeek-V3 (fp8 weights, bf16 MLA KV) fits on 16 H100s [sequences]."""


def _chips_for_critical(weights: bool = True, kv: bool = True) -> float:
    s = MEMORY_EXERCISE
    critical = memory_exercise_critical_batch()
    needed = ((memory.weight_bytes(s["llm"].total_params, s["precision"]) if weights else 0.0)
              + (critical * s["context_tokens"] * kv_cache.kv_bytes_per_token(s["llm"]) if kv else 0.0))
    return float(math.ceil(needed / s["chip"].hbm_bytes))


def _chips_for_critical_exact() -> float:
    return float(memory.min_chips_to_serve(memory_exercise_critical_batch(), **_memory_kwargs()))


H100S_FOR_CRITICAL_BATCH = Exercise(
    variable="h100s_for_critical_batch",
    unit="chips",
    expected=_chips_for_critical_exact,
    mistakes=(
        Mistake(lambda e: _chips_for_critical(kv=False),
                "That holds the weights only; the critical batch also needs its KV caches resident."),
        Mistake(lambda e: _chips_for_critical(weights=False),
                "That holds the KV caches only; the weights need their own share of HBM."),
        Mistake(lambda e: e - 1, "Round up: with one chip fewer the bytes do not fit."),
        Mistake(lambda e: 2 ** math.ceil(math.log2(e)),
                "Nothing forces a power of two here: give the fewest chips whose HBM holds the bytes."),
        *COMMON_MISTAKES[:2],
    ),
    magnitude=(1, 1e5),
)
"""Fewest H100s whose HBM holds DeepSeek-V3 and its critical batch at 1,024 tokens of context [chips]."""


# --- precision (issue 11, 1.7) -----------------------------------------------------------------------------

def _w8_ratio() -> float:
    return (roofline.critical_batch_dense(chips.H100_SXM, roofline.W8_BF16)
            / roofline.critical_batch_dense(chips.H100_SXM, roofline.FP8))


W8_CRITICAL_BATCH_RATIO = Exercise(
    variable="w8_critical_batch_ratio",
    unit="new critical batch / old critical batch",
    expected=_w8_ratio,
    mistakes=(Mistake(lambda e: 2 * e, HINT_W8_SAME), Mistake(lambda e: 4 * e, HINT_W8_INVERTED),
              *COMMON_MISTAKES),
    magnitude=(1e-6, 1e6),
)
"""Critical batch with 8-bit weights on bf16 compute over fp8 weights on fp8 compute, KV ignored, H100 [ratio]."""


# --- drain time (issue 11, 1.2) ----------------------------------------------------------------------------

DRAIN_ARGUMENT = ChoiceExercise(
    variable="drain_argument",
    options={
        "a": "Nothing: any step slower than the drain time is limited by the HBM bandwidth.",
        "b": "The drain time bounds only Rubin-class chips; an H100's step can read HBM twice.",
        "c": "Reading all 80 GB takes 23.9 ms; a 40 ms step is compute-bound and HBM sits idle.",
        "d": "Every layer re-reads the whole KV cache, so a single step drains HBM dozens of times.",
    },
    correct="c",
    hints={
        "a": ("A step reads each byte it needs once: all of HBM takes one drain time and no longer. "
              "Ask what fills the rest of the step."),
        "b": "Capacity / bandwidth bounds every chip's memory time: H100, B200 and Rubin alike.",
        "d": "Each layer reads its own slice of the KV cache; across the step every byte is still read once.",
    },
)
"""Find the error: a 40 ms step on a full H100 blamed on HBM bandwidth."""


# --- families (issue 12): the same skills on the learner's own numbers --------------------------------------

FAMILY_CHIPS = ("h100", "h200", "b200", "gb200", "tpu-v5e", "tpu-v5p")
"""Chips the critical-batch family draws from (all have dense bf16 FLOP/s and bandwidth)."""

PRECISION_WORDS = {
    "fp8": "fp8 weights (1 byte) multiplied on fp8 tensor cores",
    "bf16": "bf16 weights (2 bytes) multiplied on bf16 tensor cores",
    "w8-bf16": "8-bit weights (1 byte) upcast and multiplied on bf16 tensor cores",
}


TOTAL_PARAMS_B = (100, 200, 300, 400, 500, 600, 700, 800, 1000, 1200)
"""Total parameters an MoE of the critical-batch family may have [billions]."""

ACTIVE_PARAMS_B = (3, 5, 8, 12, 17, 22, 32, 37, 45)
"""Active parameters per token the critical-batch family may draw [billions]."""


def _draw_critical(rng) -> dict:
    key = rng.choice(FAMILY_CHIPS)
    chip = chips.CHIPS[key]
    names = [name for name in roofline.PRECISIONS if name != "fp8" or chip.dense_fp8_flops is not None]
    precision = rng.choice(names)
    fp8 = (f"{chip.dense_fp8_flops / 1e12:,.0f} TFLOP/s dense fp8" if chip.dense_fp8_flops is not None
           else "no fp8 tensor cores")
    return {"chip": key, "chip_name": chip.name, "precision": precision, "precision_words": PRECISION_WORDS[precision],
            "total_b": rng.choice(TOTAL_PARAMS_B), "active_b": rng.choice(ACTIVE_PARAMS_B),
            "bf16_tflops": f"{chip.dense_bf16_flops / 1e12:,.0f}",
            "fp8": fp8, "bandwidth_tbs": f"{chip.hbm_bandwidth / 1e12:g}"}


def _active_fraction(params) -> float:
    return params["active_b"] / params["total_b"]


def _critical_own(params) -> float:
    chip = chips.CHIPS[params["chip"]]
    return roofline.critical_batch_dense(chip, roofline.precision_named(params["precision"])) / _active_fraction(params)


def _critical_mistakes(params) -> tuple[Mistake, ...]:
    found = []
    found.append(Mistake(lambda e: e * _active_fraction(params) ** 2, HINT_INVERTED_SPARSITY))
    if params["precision"] == "w8-bf16":
        found.append(Mistake(lambda e: 2 * e, HINT_W8_SAME))
    if params["precision"] == "fp8":
        found.append(Mistake(lambda e: e / 2, "fp8 tensor cores run at twice the bf16 rate: use the fp8 FLOP/s "
                                              "with the 1-byte weights."))
    if params["precision"] == "bf16":
        found.append(Mistake(lambda e: e / 2, "A bf16 weight is 2 bytes: the weight read takes twice as long."))
    return (*found, *COMMON_MISTAKES)


CRITICAL_BATCH_OWN = Family(
    key="01-critical-batch",
    variable="critical_batch_own",
    unit="sequences",
    draw=_draw_critical,
    statement=("An MoE model has **{total_b}B** parameters, of which **{active_b}B** are active per token. It is "
               "served with {precision_words} on a "
               "**{chip_name}** ({bf16_tflops} TFLOP/s dense bf16, {fp8}, {bandwidth_tbs} TB/s of HBM). "
               "Each parameter costs 2 FLOPs per token. Ignoring the KV cache, at what batch does compute time "
               "equal weight-loading time? Set `critical_batch_own` (sequences)."),
    answer=_critical_own,
    mistakes=_critical_mistakes,
    magnitude=(1e-4, 1e9),
)
"""Critical batch (KV ignored) for a drawn chip, precision and MoE shape (total and active parameters) [sequences]."""

RESERVE_PERCENTS = (0, 5, 10, 15, 20)
"""Shares of HBM the max-batch family may keep back for activations and fragmentation [percent]."""


def _draw_memory(rng) -> dict:
    model = rng.choice(["deepseek-v3", "llama-3-70b", "llama-3-70b-fp8"])
    llm = llms.LLMS[model.removesuffix("-fp8")]
    weight_format = "fp8" if model != "llama-3-70b" else "bf16"
    precision = roofline.precision_named(weight_format)
    chip_key = rng.choice(["h100", "h200", "b200"])
    chip = chips.CHIPS[chip_key]
    weights = memory.weight_bytes(llm.total_params, precision)
    n_chips = rng.choice([n for n in (2, 4, 6, 8, 12, 16, 24, 32) if n * chip.hbm_bytes >= 1.5 * weights][:4])
    kv_value_bytes = rng.choice([2, 1])
    reserve_percent = rng.choice(RESERVE_PERCENTS)
    return {"model": model, "llm_name": llm.name, "weight_format": weight_format,
            "weight_gb": f"{weights / 1e9:,.1f}", "chip": chip_key, "chip_name": chip.name,
            "hbm_gb": f"{chip.hbm_bytes / 1e9:g}", "n_chips": n_chips,
            "kv_format": "bf16" if kv_value_bytes == 2 else "8-bit",
            "kv_bytes": int(kv_cache.kv_bytes_per_token(llm, kv_value_bytes)),
            "reserve_percent": reserve_percent,
            "context": rng.choice([1024, 2048, 4096, 8192, 16384, 32768])}


def _max_batch_own(params, *, with_weights: bool = True, n_chips: int | None = None,
                   reserve_percent: float | None = None) -> float:
    chip = chips.CHIPS[params["chip"]]
    llm = llms.LLMS[params["model"].removesuffix("-fp8")]
    return memory.max_batch_that_fits(total_params=llm.total_params if with_weights else 0.0,
                                      context_tokens=params["context"], kv_bytes_per_token=params["kv_bytes"],
                                      chip=chip, n_chips=n_chips or params["n_chips"],
                                      precision=roofline.precision_named(params["weight_format"]),
                                      reserved_fraction=(params["reserve_percent"] if reserve_percent is None
                                                         else reserve_percent) / 100)


def _max_batch_mistakes(params) -> tuple[Mistake, ...]:
    found = [Mistake(lambda e: _max_batch_own(params, with_weights=False), HINT_FORGOT_WEIGHTS)]
    one_chip = _max_batch_own(params, n_chips=1)
    if one_chip >= 1:
        found.append(Mistake(lambda e: one_chip, "That fits on one chip: the group has more HBM than that."))
    if params["reserve_percent"] > 0:
        found.append(Mistake(lambda e: _max_batch_own(params, reserve_percent=0),
                             "You used all of HBM: keep the reserve back first, then subtract the weights."))
        reserve_on_free = _max_batch_own(params, reserve_percent=0) * (1 - params["reserve_percent"] / 100)
        found.append(Mistake(lambda e: reserve_on_free,
                             "The reserve is a share of all the HBM, not of what the weights leave free."))
    return (*found, *COMMON_MISTAKES)


MAX_BATCH_OWN = Family(
    key="01-max-batch",
    variable="max_batch_own",
    unit="sequences",
    draw=_draw_memory,
    statement=("**{llm_name}** is served from {weight_gb} GB of {weight_format} weights on **{n_chips} × "
               "{chip_name}** ({hbm_gb} GB of HBM each, 1 GB = 10⁹ bytes). Its {kv_format} KV cache takes "
               "{kv_bytes:,} bytes per token, and every sequence holds {context:,} tokens of context. Keeping "
               "**{reserve_percent}%** of the HBM in reserve (for activations and fragmentation), what is the "
               "largest batch (whole sequences, round down) whose KV caches fit beside the weights? Set "
               "`max_batch_own` (sequences)."),
    answer=_max_batch_own,
    mistakes=_max_batch_mistakes,
    magnitude=(1e-4, 1e9),
)
"""Largest batch that fits for a drawn model, chip count, context, KV width and HBM reserve [sequences]."""

EXERCISES = (
    CRITICAL_BATCH_QUARTER,
    DEEPSEEK_LECTURE_CRITICAL_BATCH,
    RUBIN_DRAIN_TIME_S,
    COST_PER_MILLION_TOKENS,
    DEEPSEEK_PUBLISHED_CRITICAL_BATCH,
    GAP_EXPLANATION,
    CRITICAL_BATCH_OWN,
    MAX_BATCH_16_H100,
    MAX_BATCH_OWN,
    H100S_FOR_CRITICAL_BATCH,
    W8_CRITICAL_BATCH_RATIO,
    DRAIN_ARGUMENT,
)
"""Every exercise of the segment, in notebook order."""
