"""Segment 3's lesson content: every figure its prose states, against its source, by hand arithmetic.

Sources (shared/reference/facts.md): DeepSeek-V3 config (671B parameters, 37B active, MLA KV (512 + 64) x 61
values); DeepSeek's inference overview (average KV length 4,989 tokens; EP144) and the V3 report (EP320);
GB200 NVL72 (72 B200 GPUs, 8 TB/s HBM bandwidth each; fp8 4.5e15 FLOP/s; 187.5 GB per GPU in the course's
preset, 13.4-13.8 TB per rack in facts.md); the lecture's critical batch 300 / (32/256) = 2,400; GPipe bubble
(p - 1) / (m + p - 1).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from course.segments.pipeline import checks

NOTEBOOK = Path(__file__).resolve().parent.parent / "source" / "03-pipeline" / "03-pipeline.ipynb"

WEIGHTS = 671e9 * 1                      # fp8
ACTIVE = 37e9
KV = (512 + 64) * 61 * 2                 # bytes per token, bf16
B = 300 / (32 / 256)                     # lecture's critical batch
CTX = 4_989
P = 8
RACK_BW = 72 * 8e12
RACK_FLOPS_FP8 = 72 * 4.5e15
RACK_HBM = 72 * 187.5e9


def _cells():
    return json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]


def prose() -> str:
    return "\n".join("".join(c["source"]) for c in _cells() if c["cell_type"] == "markdown")


def outputs() -> str:
    return "\n".join("".join(o.get("text", "")) for c in _cells() if c["cell_type"] == "code"
                     for o in c.get("outputs", []))


def test_pipelined_token_interval_equals_one_rack():
    """p stages x (W/p + b ctx kv / p) / BW = (W + b ctx kv) / BW: the p cancels."""
    stage = (WEIGHTS / P + B * CTX * KV / P) / RACK_BW
    assert checks.TOKEN_INTERVAL_MS.expected() == pytest.approx(P * stage * 1e3)
    assert checks.one_rack_step_ms() == pytest.approx((WEIGHTS + B * CTX * KV) / RACK_BW * 1e3)
    for stages in (4, 16):
        assert checks.token_interval_ms(stages=stages) == pytest.approx(P * stage * 1e3)
    out = outputs()
    assert f"{P * stage * 1e3:.3f} ms between two tokens" in out and f"{P * stage * 1e3:.3f} ms per step" in out


def test_stages_are_memory_bound_by_about_five():
    """Prose: each stage is memory-bound 'by about 5x': memory time over compute time per stage."""
    memory_s = (WEIGHTS + B * CTX * KV) / P / RACK_BW
    compute_s = B * 2 * ACTIVE / P / RACK_FLOPS_FP8
    assert round(memory_s / compute_s) == 5
    assert "memory-bound (it is, by about 5x here)" in prose()


def test_no_faster_per_token_is_said_in_prose_and_recap():
    text = prose()
    assert "Pipelining does not make any token faster" in text
    assert "Pipelined decode is no faster per token than one rack" in text


def test_max_microbatch_at_long_context():
    """floor((M - W/p) / (ctx kv)) at 131,072 tokens: below the 2,400 of the critical batch."""
    hand = math.floor((RACK_HBM - WEIGHTS / P) / (131_072 * KV))
    assert checks.MAX_MICROBATCH_LONG_CONTEXT.expected() == hand == 1456
    assert hand < B
    assert "about 1,450 sequences per micro-batch" in prose()
    freed = WEIGHTS * (1 - 1 / P)
    assert f"free {freed / 1e9:,.0f} GB per rack: {freed / (131_072 * KV):,.0f} more sequences" in outputs()
    for context in (4_989, 32_768):
        assert math.floor((RACK_HBM - WEIGHTS / P) / (context * KV)) > B


def test_exercise_7_statement_figures():
    """'576 TB/s per rack' and '70,272 bytes of KV per token' in the exercise preamble."""
    assert RACK_BW == 576e12 and KV == 70_272
    text = prose()
    assert "576 TB/s per rack" in text and "70,272 bytes of KV" in text


@pytest.mark.parametrize("exercise", [checks.PIPELINING_VALUE, checks.MORE_STAGES], ids=lambda e: e.variable)
def test_right_option_is_not_the_longest(exercise):
    lengths = {letter: len(text) for letter, text in exercise.options.items()}
    assert lengths[exercise.correct] < max(lengths.values())
    assert max(lengths.values()) < 1.5 * min(lengths.values())


LEARNERS = [f"student{i:02d}" for i in range(25)]


FAMILY_LEARNERS = [f"student{i:03d}" for i in range(200)]


def test_bubble_family_against_hand_arithmetic():
    """GPipe: each stage idles p - 1 of the m + p - 1 slots; the busy share m / (m + p - 1) is the slip,
    harmless only where it equals the bubble (m = p - 1)."""
    checked_slips = 0
    for learner in FAMILY_LEARNERS:
        params = checks.MY_BUBBLE.params(learner)
        p, m = params["stages"], params["microbatches"]
        statement = checks.MY_BUBBLE.render(params)
        assert f"**p = {p}**" in statement and f"**m = {m}**" in statement
        bubble = (p - 1) / (m + p - 1)
        assert checks.MY_BUBBLE.verdict(bubble, learner=learner) is None, params
        busy = m / (m + p - 1)
        if abs(busy - bubble) <= checks.MY_BUBBLE.rel_tol * bubble:
            continue
        assert "busy" in checks.MY_BUBBLE.verdict(busy, learner=learner), params
        checked_slips += 1
    assert checked_slips > len(FAMILY_LEARNERS) // 2


def test_crossover_family_against_hand_arithmetic():
    """W / (p b kv) from the statement's own numbers. Values per token from the configs (Llama-3-70B:
    K and V x 8 KV heads x 128 x 80 layers = 163,840; DeepSeek-V3: (512 + 64) x 61 = 35,136), times 2 bytes
    in bf16 or 1 in 8-bit; weights 671B (DeepSeek-V3) or 70.6B (Llama-3-70B) x 1 byte (fp8) or 2 (bf16)."""
    values_per_token = {"Llama-3-70B": 2 * 8 * 128 * 80, "DeepSeek-V3": (512 + 64) * 61}
    total_params = {"Llama-3-70B": 70.6e9, "DeepSeek-V3": 671e9}
    kv_bytes_per_value = {"bf16": 2, "8-bit": 1}
    weight_bytes_per_param = {"bf16": 2, "fp8": 1}
    seen = set()
    for learner in FAMILY_LEARNERS:
        params = checks.MY_CROSSOVER.params(learner)
        name, kv_format, weights = params["name"], params["kv_format"], params["format"]
        kv = values_per_token[name] * kv_bytes_per_value[kv_format]
        weight_bytes = total_params[name] * weight_bytes_per_param[weights]
        assert params["kv_bytes_per_token"] == kv, params
        assert params["weight_gb"] * 1e9 == pytest.approx(weight_bytes, rel=1e-3), params
        statement = checks.MY_CROSSOVER.render(params)
        assert f"{weights} weights (**{weight_bytes / 1e9:,.1f} GB**" in statement
        assert f"{kv_format} KV cache of **{kv:,} bytes per token**" in statement
        assert f"**p = {params['stages']}**" in statement and f"**b = {params['sequences']:,}**" in statement
        hand = weight_bytes / (params["stages"] * params["sequences"] * kv)
        assert checks.MY_CROSSOVER.verdict(hand, learner=learner) is None, params
        assert checks.MY_CROSSOVER.verdict(hand * params["stages"], learner=learner) is not None, params
        seen.add((name, weights, kv_format))
    assert len(seen) == 6  # both models, both weight formats of Llama, both KV formats
