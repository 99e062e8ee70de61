"""Behaviour of the decode-step roofline model."""

from __future__ import annotations

import numpy as np
import pytest

from course.models import roofline
from course.presets import chips

SHAPE = dict(active_params=37e9, total_params=671e9, context_tokens=1024, kv_bytes_per_token=70_272,
             chip=chips.H100_SXM, n_chips=16)


def test_step_time_is_the_max_of_compute_and_memory():
    """T = max(t_compute, t_mem) at every batch."""
    step = roofline.decode_step(np.array([1, 100, 10_000, 100_000]), **SHAPE)
    assert np.allclose(step.step_s, np.maximum(step.compute_s, step.weights_s + step.kv_s))


def test_critical_batch_balances_compute_and_memory():
    """At the critical batch compute time equals memory time."""
    shape = {k: v for k, v in SHAPE.items() if k != "n_chips"}
    batch = roofline.critical_batch(**shape)
    step = roofline.decode_step(batch, **SHAPE)
    assert float(step.compute_s) == pytest.approx(float(step.memory_s))


def test_no_critical_batch_when_kv_reads_outgrow_compute():
    """A long enough context makes every batch memory-bound."""
    shape = {k: v for k, v in SHAPE.items() if k != "n_chips"} | {"context_tokens": 1_000_000}
    assert roofline.critical_batch(**shape) == float("inf")


def test_latency_flat_then_rising_and_cost_falling_then_flat():
    """Below B* latency barely moves and cost falls ~1/B; above it cost per token is flat."""
    batches = np.array([1.0, 2.0, 1e5, 2e5])
    shape = SHAPE | {"context_tokens": 0, "kv_bytes_per_token": 0}
    step = roofline.decode_step(batches, **shape)
    cost = roofline.cost_per_million_tokens(step, 2.0)
    assert step.step_s[1] == pytest.approx(step.step_s[0], rel=1e-3)
    assert cost[1] == pytest.approx(cost[0] / 2, rel=1e-3)
    assert cost[3] == pytest.approx(cost[2], rel=1e-9)
    assert step.mfu[3] == pytest.approx(1.0)


def test_cost_does_not_depend_on_chip_count():
    """Twice the chips halve the step but double the price per second."""
    one = roofline.cost_per_million_tokens(roofline.decode_step(512, **SHAPE | {"n_chips": 8}), 2.0)
    two = roofline.cost_per_million_tokens(roofline.decode_step(512, **SHAPE | {"n_chips": 16}), 2.0)
    assert float(one) == pytest.approx(float(two))


def test_missing_chip_figures_are_reported():
    """A chip without published dense FLOP/s raises a clear error instead of computing nonsense."""
    with pytest.raises(ValueError, match="Rubin"):
        roofline.machine_balance(chips.RUBIN)
    with pytest.raises(ValueError, match="active_fraction"):
        roofline.critical_batch_from_balance(300, 0)
