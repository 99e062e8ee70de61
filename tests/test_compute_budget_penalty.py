"""Segment 5: the decode inefficiency on all RL FLOPs (the lecture's formula) or on decoded FLOPs only (its prose)."""

from __future__ import annotations

import pytest

from course.models import compute_budget as cb


def test_lecture_default_is_unchanged():
    """Lecture: 6 D_pre = 3 x 3 D_RL, so D_RL = 6/9 D_pre (D_pre = 1.5 D_RL)."""
    assert cb.equal_cost_tokens().rl == pytest.approx(6 / 9)
    assert cb.rl_flops(1.0, 1.0) == pytest.approx(9.0)


def test_penalty_on_decoded_flops_only():
    """r = 3, inefficiency 3: 2 x 3 decoded + 1 trained = 7 FLOPs per param-token; D_RL = 6/7 D_pre."""
    assert cb.rl_flops(1.0, 1.0, 3.0, 3.0, penalty_on="decode") == pytest.approx(2 * 3 + 1)
    assert cb.equal_cost_tokens(3.0, 3.0, penalty_on="decode").rl == pytest.approx(6 / 7)
    # forward-only rollouts (r = 2) are decoded entirely: both readings agree
    assert cb.rl_flops(1.0, 1.0, 2.0, 3.0, penalty_on="decode") == cb.rl_flops(1.0, 1.0, 2.0, 3.0)
    budget = cb.equal_cost_budget(50e6, 60, 100e9, penalty_on="decode")
    assert budget.rl_flops == pytest.approx(budget.pretrain_flops)
    assert budget.rl_tokens == pytest.approx(budget.pretrain_tokens * 6 / 7)


def test_unknown_target_is_refused():
    with pytest.raises(ValueError, match="all, decode"):
        cb.rl_flops(1.0, 1.0, penalty_on="backward")
