"""Segment 4's lesson content: every figure its prose states, by hand arithmetic from its sources.

Sources: DeepSeek-V3 config (61 layers, hidden 7168) for the stack's shape; the notebook's illustrative
5 local : 1 global interleave (layer i, counted from 1, global when i is a multiple of 6); scale-out per GPU
from facts.md (400 Gb/s NIC = 50 GB/s; GB300 NVL72 800 Gb/s = 100 GB/s; NVLink 5 900 GB/s each way).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course.models import imbalance
from course.segments.imbalance import checks

NOTEBOOK = Path(__file__).resolve().parent.parent / "source" / "04-pipelining-not-wise" / \
    "04-pipelining-not-wise.ipynb"


def _cells():
    return json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]


def prose() -> str:
    return "\n".join("".join(c["source"]) for c in _cells() if c["cell_type"] == "markdown")


def outputs() -> str:
    return "\n".join("".join(o.get("text", "")) for c in _cells() if c["cell_type"] == "code"
                     for o in c.get("outputs", []))


def hand_globals(layers: int, period: int, split: list[int]) -> list[int]:
    """Global layers per stage, counted here from the rule 'layer i (from 1) is global when period divides i'."""
    counts, first = [], 1
    for size in split:
        counts.append(sum(1 for i in range(first, first + size) if i % period == 0))
        first += size
    return counts


def test_long_context_limit_of_eight_even_stages():
    """61 layers split 8,8,8,8,8,7,7,7; globals at 6, 12, ..., 60: per stage 1,1,2,1,1,1,2,1 -> 10/8 / 2 = 0.625."""
    split = [8, 8, 8, 8, 8, 7, 7, 7]
    counts = hand_globals(61, 6, split)
    assert counts == [1, 1, 2, 1, 1, 1, 2, 1]
    assert checks.LONG_CONTEXT_LIMIT.expected() == pytest.approx(sum(counts) / 8 / max(counts)) == 0.625
    assert "62.5%" in prose() and "62.5%" in checks.LAYER_COUNT_ARGUMENT.options[checks.LAYER_COUNT_ARGUMENT.correct]
    # the colleague's 7/8 holds below the window only, where layer counts rule: mean 61/8 over 8
    assert 61 / 8 / 8 == pytest.approx(0.953, abs=5e-4)
    assert "context         4,096: even 8-stage efficiency 95.3%" in outputs()
    assert "context 1,073,741,824: even 8-stage efficiency 62.5%" in outputs()


def test_eta_is_called_an_efficiency_and_kept_apart_from_segment_5():
    text = prose()
    assert r"$\eta$ is an **efficiency**: it lies between 0 and 1" in text
    assert "inefficiency" in text and "own symbol" in text


def test_scale_out_generations_in_the_reality_check():
    """H100 450/50 = 9x, B200 900/50 = 18x, GB300 NVL72 900/100 = 9x."""
    assert (450e9 / 50e9, 900e9 / 50e9, 900e9 / 100e9) == (9.0, 18.0, 9.0)
    out = outputs()
    assert "(9x slower" in out and "(18x slower" in out
    assert "GB300 NVL72 (800 Gb/s ConnectX-8)" in out
    assert "bring it back to 9x" in prose()


@pytest.mark.parametrize("exercise", [checks.NOT_WISE_REASON, checks.LAYER_COUNT_ARGUMENT], ids=lambda e: e.variable)
def test_right_option_is_not_the_longest(exercise):
    lengths = {letter: len(text) for letter, text in exercise.options.items()}
    assert lengths[exercise.correct] < max(lengths.values())
    assert max(lengths.values()) < 1.5 * min(lengths.values())


LEARNERS = [f"student{i:02d}" for i in range(30)]


def test_layer_mix_family_against_hand_arithmetic():
    """The statement's rule and split, counted here; the shown layout agrees with the rule. A stage's time is
    its KV tokens read: the window per local layer, the context per global one (in thousands of tokens);
    efficiency = mean stage / slowest. The global-layers-only limit is the slip, harmless only where the
    local layers spread evenly."""
    family = checks.MY_LONG_CONTEXT_EFFICIENCY
    answers, slips = set(), 0
    for learner in [f"student{i:03d}" for i in range(200)]:
        p = family.params(learner)
        statement = family.render(p)
        assert f"**{p['context_k']}K** tokens" in statement and f"window **{p['window_k']}K**" in statement
        split = [int(n) for n in p["split"].split(", ")]
        assert sum(split) == p["layers"] and len(split) == p["stages"] and max(split) - min(split) <= 1
        period = p["local_per_global"] + 1
        globals_ = hand_globals(p["layers"], period, split)
        layout = p["layout"].split(" | ")
        assert [stage.count("G") for stage in layout] == globals_ and [len(s) for s in layout] == split
        local_tokens = min(p["window_k"], p["context_k"])
        stage_times = [g * p["context_k"] + (size - g) * local_tokens for g, size in zip(globals_, split)]
        hand = sum(stage_times) / len(stage_times) / max(stage_times)
        assert hand < 1
        assert family.verdict(hand, learner=learner) is None, p
        limit = sum(globals_) / len(globals_) / max(globals_)
        if abs(limit - hand) > family.rel_tol * hand:
            assert "far past the window" in family.verdict(limit, learner=learner), p
            slips += 1
        answers.add(round(hand, 3))
    assert len(answers) > 50 and slips > 100


def test_residual_family_against_hand_arithmetic():
    """(L - layers on the last stage) x d x 2 bytes; the even split gives the first stages the extra layers."""
    for learner in LEARNERS:
        p = checks.MY_RESIDUAL_BYTES.params(learner)
        base, extra = divmod(p["layers"], p["stages"])
        assert p["split"] == ", ".join(str(base + (s < extra)) for s in range(p["stages"]))
        hand = (p["layers"] - base) * p["hidden_size"] * 2
        assert checks.MY_RESIDUAL_BYTES.verdict(hand, learner=learner) is None, p
        assert checks.MY_RESIDUAL_BYTES.verdict((p["layers"] - 1) * p["hidden_size"] * 2, learner=learner)


def test_model_agrees_with_the_limit_at_huge_context():
    """The stage-time model itself reaches the limit: at 2^30 tokens, the even split's efficiency is 0.625."""
    stack = imbalance.deepseek_shaped_stack()
    assert imbalance.stage_loads(stack, 2 ** 30, 8).efficiency == pytest.approx(0.625, abs=1e-4)
