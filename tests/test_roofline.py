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


# --- precision as a value --------------------------------------------------------------------------------

def test_precision_lookup_is_exact_and_case_insensitive():
    """'FP8' is fp8 (it used to fall through to bf16 FLOP/s); a near miss is an error naming the choices."""
    assert roofline.precision_named("FP8") is roofline.FP8
    assert roofline.precision_named("Bf16") is roofline.BF16
    for wrong in ("fp-8", "fp8 ", "int8", "float8"):
        with pytest.raises(ValueError, match="fp8, bf16"):
            roofline.precision_named(wrong)


def test_upper_case_name_gets_fp8_flops():
    """A Precision built from the name 'FP8' runs at the H100's dense fp8 rate, 1,979 TFLOP/s."""
    assert roofline.Precision("FP8", 1.0).flops_per_s(chips.H100_SXM) == pytest.approx(1.979e15)
    with pytest.raises(ValueError, match="compute"):
        roofline.Precision("int8", 1.0)


def test_missing_fp8_figure_is_an_error_not_bf16():
    """TPU v5e has no fp8 figure in the presets: asking for fp8 FLOP/s says so."""
    with pytest.raises(ValueError, match="TPU v5e.*fp8"):
        roofline.FP8.flops_per_s(chips.TPU_V5E)


def test_same_critical_batch_for_bf16_and_fp8_half_for_8bit_weights_on_bf16():
    """B* = (F/bw)(w/2): bf16+bf16 = 989e12/3.35e12 = 295.2; fp8+fp8 = 1979e12/3.35e12/2 = 295.4; w8+bf16 = 147.6."""
    h100 = chips.H100_SXM
    assert roofline.critical_batch_dense(h100, roofline.BF16) == pytest.approx(989e12 / 3.35e12)
    assert roofline.critical_batch_dense(h100, roofline.FP8) == pytest.approx(1.979e15 / 3.35e12 / 2)
    assert roofline.critical_batch_dense(h100, roofline.W8_BF16) == pytest.approx(989e12 / 3.35e12 / 2)
    shape = dict(active_params=37e9, total_params=671e9, context_tokens=0, kv_bytes_per_token=0, chip=h100)
    half = roofline.critical_batch(**shape, precision=roofline.W8_BF16)
    assert half == pytest.approx(roofline.critical_batch(**shape, precision=roofline.BF16) / 2)


# --- step-time models ------------------------------------------------------------------------------------

def test_additive_step_adds_kv_on_top():
    """scaling-book: T = KV + max(compute, weights); never shorter than the lecture's overlap step."""
    batches = np.array([1, 100, 10_000, 100_000])
    lecture = roofline.decode_step(batches, **SHAPE)
    book = roofline.decode_step(batches, **SHAPE, step_model="additive")
    assert np.allclose(book.step_s, book.kv_s + np.maximum(book.compute_s, book.weights_s))
    assert np.all(book.step_s >= lecture.step_s)
    with pytest.raises(ValueError, match="overlap, additive"):
        roofline.decode_step(1, **SHAPE, step_model="sum")


def test_additive_critical_batch_ignores_context():
    """In the additive model the matmuls turn compute-bound at N_t w/bw / (N_a f/F) at any context."""
    shape = {k: v for k, v in SHAPE.items() if k != "n_chips"} | {"context_tokens": 1_000_000}
    assert roofline.critical_batch(**shape) == float("inf")
    book = roofline.critical_batch(**shape, step_model="additive")
    assert book == pytest.approx((671e9 * 1 / 3.35e12) / (37e9 * 2 / 1.979e15))
    step = roofline.decode_step(book, **SHAPE | {"context_tokens": 1_000_000}, step_model="additive")
    assert float(step.compute_s) == pytest.approx(float(step.weights_s))
    assert float(step.mfu) < 0.2  # KV time still dominates the step


def test_weight_bytes_read_override():
    """A smaller weight read shortens the memory time in proportion."""
    full = roofline.decode_step(1, **SHAPE)
    part = roofline.decode_step(1, **SHAPE, weight_bytes_read=37e9)
    assert float(part.weights_s) == pytest.approx(float(full.weights_s) * 37 / 671)
