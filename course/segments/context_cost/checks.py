"""Exercises of segment 6, "Deducing inference memory costs from API pricing"."""

from __future__ import annotations

from course.exercise import COMMON_MISTAKES, HINT_UNIT_1E6, ChoiceExercise, Exercise, Mistake, off_by
from course.models import context_cost, kv_cache, prefill, roofline
from course.models.roofline import FLOPS_PER_PARAM_TOKEN, LECTURE_FLOPS_PER_BYTE
from course.presets import chips, llms, prices
from course.variants import Family

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
        Mistake(lambda e: prices.CLAUDE_SONNET_4.output_long / prices.CLAUDE_SONNET_4.output_short,
                "That is the published output price step. The question asks what the roofline model says the "
                "cost is."),
        Mistake(lambda e: prices.CLAUDE_SONNET_4.input_long / prices.CLAUDE_SONNET_4.input_short,
                "That is the published input price step, and input tokens are prefill, not decode. The question "
                "asks what the decode roofline says an output token costs."),
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
        "a": "Decode spends more FLOPs per token than prefill does, so the same chip finishes fewer tokens each second.",
        "b": "Prefill runs on the fp8 tensor cores, while decode has to fall back to bf16 arithmetic on the same chip.",
        "c": "Prefill uses each weight it reads for a whole prompt; decode reads them all for one token per sequence.",
        "d": "Decode MFU is lower because each sequence's KV cache has to be recomputed at every single decoding step.",
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

INPUT_STEP_ARGUMENT = ChoiceExercise(
    variable="input_step_argument",
    options={
        "a": "Input tokens are cached after the first request, so what they cost can never depend on the context.",
        "b": "The ramp prices output (decode) tokens; input tokens are prefill, whose cost grows via attention.",
        "c": "KV reads grow with the square of the context, so at 400K the ramp is four times its floor, not twice.",
        "d": "Prices are charged per token but costs arise per request, so the two can never be compared at all.",
    },
    correct="b",
    hints={
        "a": "Only a prefix seen before can be cached; a new 400K-token prompt still has to be prefilled once.",
        "c": "Each output token reads the cache once: its KV time grows linearly with the context, not with its "
             "square (the square appears summed over a whole prompt's attention).",
        "d": "Both are per token here: cost per output token from the decode roofline, price per million tokens.",
    },
)
"""Find the error in 'the input price step is the KV-fetch ramp' (choice)."""

LLAMA = llms.LLAMA_3_70B
PREFILL_SCENARIO = dict(llm=LLAMA, short_prompt=8_192, long_prompt=131_072, chip=chips.H100_SXM,
                        price_usd_per_chip_hour=chips.DEFAULT_PRICE_USD_PER_CHIP_HOUR)
"""Exercises 9-10: Llama-3-70B prompts of 8K and 128K tokens, prefilled on one H100 SXM in fp8 at 100% MFU."""


def _attention(llm=LLAMA) -> float:
    return prefill.attention_flops_per_query_key(llm)


def _ttft_ratio(attention_flops_per_pair: float | None = None) -> float:
    s = PREFILL_SCENARIO
    pair = _attention() if attention_flops_per_pair is None else attention_flops_per_pair
    flops = [prefill.prefill_flops(length, active_params=s["llm"].active_params, attention_flops_per_pair=pair)
             for length in (s["long_prompt"], s["short_prompt"])]
    return flops[0] / flops[1]


TTFT_RATIO = Exercise(
    variable="ttft_ratio_128k_vs_8k",
    unit="times the 8K prompt's time to first token (dimensionless)",
    expected=_ttft_ratio,
    mistakes=(
        Mistake(lambda e: _ttft_ratio(0.0),
                "That leaves out attention: every prompt token also attends to all the tokens before it, so the "
                "FLOPs grow faster than the prompt."),
        Mistake(lambda e: (PREFILL_SCENARIO["long_prompt"] / PREFILL_SCENARIO["short_prompt"]) ** 2,
                "That counts attention alone. The weights' 2 N FLOPs per token dominate at 8K and still matter "
                "at 128K."),
        Mistake(lambda e: 1 / e, "You inverted the ratio: the longer prompt takes longer to prefill."),
        Mistake(lambda e: _ttft_ratio(2 * _attention()),
                "You counted every query-key pair twice: causal attention has L(L+1)/2 pairs, not L^2."),
        *COMMON_MISTAKES,
    ),
    magnitude=(1e-4, 1e6),
)
"""TTFT of a 128K-token Llama-3-70B prompt over an 8K one, compute-bound, attention included [x]."""


def _input_cost(attention_flops_per_pair: float | None = None, precision=roofline.FP8) -> float:
    s = PREFILL_SCENARIO
    return float(prefill.prefill_cost_per_million_input_tokens(
        s["long_prompt"], active_params=s["llm"].active_params, chip=s["chip"],
        price_usd_per_chip_hour=s["price_usd_per_chip_hour"], precision=precision,
        attention_flops_per_pair=_attention() if attention_flops_per_pair is None else attention_flops_per_pair))


LLAMA_INPUT_COST = Exercise(
    variable="llama_input_cost_128k",
    unit="USD per million input tokens",
    expected=_input_cost,
    mistakes=(
        Mistake(lambda e: _input_cost(0.0),
                "You left out attention: at 128K each input token also attends to about 64K earlier ones on "
                "average, which costs more than its weights do here."),
        Mistake(lambda e: _input_cost(precision=roofline.BF16),
                "That is the bf16 throughput; the model is prefilled in fp8 (1.979e15 FLOP/s dense)."),
        Mistake(lambda e: _input_cost(2 * _attention()),
                "You counted every query-key pair twice: a causal prompt of L tokens has L(L+1)/2 pairs, so an "
                "input token attends to (L+1)/2 keys on average."),
        Mistake(lambda e: e / 1e6, HINT_UNIT_1E6),
        Mistake(lambda e: e * 3600, "You are off by a factor of 3600: the price is per chip-hour and the time in "
                                    "seconds."),
        *COMMON_MISTAKES,
    ),
    magnitude=(1e-11, 1e6),
)
"""Chip cost of a million input tokens of 128K-token Llama-3-70B prompts, one H100, fp8, 100% MFU, $2/h [USD]."""


# --- families: the same skills on each learner's own numbers ----------------------------------------------

KINK_ACTIVE_B = (3, 5, 8, 12, 17, 22, 32, 37, 45, 50, 70, 100, 200, 400)
"""Active parameters the price-kink family may guess [billions]."""

KINK_THRESHOLDS_K = (32, 64, 100, 128, 200, 256, 272, 500, 1000)
"""Prompt lengths above which the price-kink family's provider charges more [thousands of tokens]."""

KINK_BALANCES = (150, 200, 250, 300, 350, 400, 450, 500, 600)
"""Machine balances the price-kink family may draw [FLOPs per byte]."""

HINT_FOLDED_TWO_OWN = ("You are off by exactly a factor of 2. The machine balance already counts one multiply-add per "
                       "parameter per token against one byte: don't add a second factor of 2 on top of it, and keep "
                       "KV values at 2 bytes (bf16).")


KINK_KV_RANGE = (100.0, 100_000.0)
"""KV bytes per token a price-kink variant may imply; draws outside are redrawn [bytes/token]."""


def _draw_kink(rng) -> dict:
    while True:
        params = {"active_b": rng.choice(KINK_ACTIVE_B), "kink_k": rng.choice(KINK_THRESHOLDS_K),
                  "balance": rng.choice(KINK_BALANCES)}
        if KINK_KV_RANGE[0] <= _my_implied_kv(params) <= KINK_KV_RANGE[1]:
            return params


def _my_implied_kv(p) -> float:
    return context_cost.implied_kv_bytes_per_token(p["active_b"] * 1e9, p["kink_k"] * 1e3, p["balance"])


MY_IMPLIED_KV = Family(
    key="06-implied-kv",
    variable="my_implied_kv_bytes",
    unit="bytes per token",
    draw=_draw_kink,
    statement=("A provider raises its **output** price for prompts above **{kink_k}K tokens**, and you guess its "
               "model activates **{active_b}B parameters** per token. If the step sits exactly at the decode cost "
               "crossover, on chips with a machine balance of **{balance} FLOPs per byte** (the lecture uses 300), how many KV bytes per token does its model keep? "
               "Set `my_implied_kv_bytes` (bytes per token)."),
    answer=_my_implied_kv,
    mistakes=lambda p: (
        Mistake(lambda e: 1 / e, HINT_INVERTED),
        Mistake(lambda e: e * p["balance"],
                "You left out the machine balance: bandwidth/FLOPs (1 over the FLOPs per byte) stays in the "
                "answer."),
        Mistake(lambda e: e * p["balance"] ** 2,
                "You multiplied by the machine balance instead of dividing."),
        *off_by(2.0, HINT_FOLDED_TWO_OWN),
        *COMMON_MISTAKES,
    ),
    magnitude=(1e-6, 1e12),
)
"""Exercise 1b: KV bytes per token implied by the learner's own price kink, model size and balance [bytes/token]."""

FAMILY_LLMS = {"llama-3-70b": llms.LLAMA_3_70B, "deepseek-v3": llms.DEEPSEEK_V3}
"""Models with a published attention shape, for the prefill-cost family."""

FAMILY_CHIPS = ("h100", "h200", "b200")
"""Chips with fp8 tensor cores, for the prefill-cost family (keys of ``chips.roofline_chips()``)."""


PREFILL_PROMPTS_K = (4, 8, 16, 32, 64, 128, 200, 256)
"""Prompt lengths the prefill-cost family may draw [units of 1,024 tokens]."""

PREFILL_PRICES = tuple(round(1.50 + 0.05 * step, 2) for step in range(51))
"""Chip-hour prices the prefill-cost family may draw, $1.50 to $4.00 in $0.05 steps [USD per chip-hour]."""


def _draw_prefill(rng) -> dict:
    llm_key, chip_key = rng.choice(sorted(FAMILY_LLMS)), rng.choice(FAMILY_CHIPS)
    llm, chip = FAMILY_LLMS[llm_key], chips.roofline_chips()[chip_key]
    return {"llm_key": llm_key, "model": llm.name, "active_b": llm.active_params / 1e9,
            "attention_mflop": round(prefill.attention_flops_per_query_key(llm) / 1e6, 4),
            "chip_key": chip_key, "chip": chip.name, "fp8_pflops": chip.dense_fp8_flops / 1e15,
            "prompt_k": rng.choice(PREFILL_PROMPTS_K), "price": rng.choice(PREFILL_PRICES)}


def _my_prefill_cost(p, attention_scale: float = 1.0, precision=roofline.FP8) -> float:
    llm, chip = FAMILY_LLMS[p["llm_key"]], chips.roofline_chips()[p["chip_key"]]
    return float(prefill.prefill_cost_per_million_input_tokens(
        p["prompt_k"] * 1024, active_params=llm.active_params, chip=chip, price_usd_per_chip_hour=p["price"],
        precision=precision, attention_flops_per_pair=attention_scale * prefill.attention_flops_per_query_key(llm)))


MY_PREFILL_COST = Family(
    key="06-prefill-cost",
    variable="my_input_cost",
    unit="USD per million input tokens",
    draw=_draw_prefill,
    statement=("You serve **{model}** ({active_b:g}B active parameters; attention costs **{attention_mflop:g} "
               "MFLOP** per query-key pair over all layers) on **{chip}** chips at **${price:.2f} per chip-hour**. "
               "Prompts are **{prompt_k}K tokens** ({prompt_k} x 1,024). Prefilled in fp8 "
               "({fp8_pflops:g}e15 FLOP/s dense) at 100% MFU, what does a million input tokens cost in chip time? "
               "Set `my_input_cost` (USD per million input tokens)."),
    answer=_my_prefill_cost,
    mistakes=lambda p: (
        Mistake(lambda e: _my_prefill_cost(p, attention_scale=0.0),
                "You left out attention: each input token also attends to the (L+1)/2 tokens before it on average."),
        Mistake(lambda e: _my_prefill_cost(p, attention_scale=2.0),
                "You counted every query-key pair twice: a causal prompt has L(L+1)/2 pairs."),
        Mistake(lambda e: _my_prefill_cost(p, precision=roofline.BF16),
                "That is the bf16 throughput; prefill runs in fp8 here."),
        Mistake(lambda e: e / 1e6, HINT_UNIT_1E6),
        Mistake(lambda e: e * 3600, "You are off by a factor of 3600: the price is per chip-hour and the time in "
                                    "seconds."),
        *COMMON_MISTAKES,
    ),
    magnitude=(1e-11, 1e6),
)
"""Exercise 10b: prefill cost per million input tokens for the learner's own model, chip, prompt and price [USD]."""

EXERCISES = (
    IMPLIED_KV_BYTES,
    MY_IMPLIED_KV,
    DEEPSEEK_CROSSOVER_TOKENS,
    RELATIVE_COST_1M,
    KV_LOAD_TIME_S,
    KV_RECOMPUTE_TIME_S,
    POPE_MFU_RATIO,
    DECODE_MFU_REASON,
    INPUT_STEP_ARGUMENT,
    TTFT_RATIO,
    LLAMA_INPUT_COST,
    MY_PREFILL_COST,
)
"""Every exercise of the segment, in notebook order."""
