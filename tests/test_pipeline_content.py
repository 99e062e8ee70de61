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


def test_bubble_family_against_hand_arithmetic():
    for learner in LEARNERS:
        params = checks.MY_BUBBLE.params(learner)
        p, m = params["stages"], params["microbatches"]
        assert checks.MY_BUBBLE.verdict((p - 1) / (m + p - 1), learner=learner) is None
        assert checks.MY_BUBBLE.verdict(m / (m + p - 1), learner=learner) is not None


def test_crossover_family_against_hand_arithmetic():
    """W / (p b kv) from the statement's own numbers; KV sizes from the configs (Llama-3-70B: 2 x 8 x 128 x 80
    x 2 bytes = 327,680; DeepSeek-V3: 70,272)."""
    models = set()
    for learner in LEARNERS:
        params = checks.MY_CROSSOVER.params(learner)
        assert params["kv_bytes_per_token"] in (2 * 8 * 128 * 80 * 2, KV)
        hand = params["weight_gb"] * 1e9 / (params["stages"] * params["sequences"] * params["kv_bytes_per_token"])
        assert checks.MY_CROSSOVER.verdict(hand, learner=learner) is None
        models.add(params["name"])
    assert len(models) == 2
