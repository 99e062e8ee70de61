"""``python -m course.calc`` run as a learner runs it, checked against hand arithmetic from the published figures.

References are written out from the datasheet and config numbers (facts.md), not computed by course code.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

H100_HBM, H100_BW, H100_BF16, H100_FP8 = 80e9, 3.35e12, 989e12, 1.979e15
B200_HBM, B200_BW = 192e9, 8e12
V3_KV = (512 + 64) * 61 * 2  # MLA, bf16: 70,272 B/token
LLAMA_KV = 2 * 8 * 128 * 80 * 2  # GQA, bf16: 327,680 B/token


def calc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "course.calc", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def calc_json(*args: str) -> dict:
    done = calc(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_decode_deepseek_on_16_h100_explorer_defaults():
    """Segment 1 defaults: 16 x H100, fp8, batch 256, 1,024 tokens; issue 11: critical 12,588, ~8,460 fit."""
    out = calc_json("decode", "--chip", "h100", "--chips", "16", "--model", "deepseek-v3", "--batch", "256",
                    "--context", "1024", "--price", "2")
    compute = 256 * 2 * 37e9 / (16 * H100_FP8)
    weights = 671e9 * 1 / (16 * H100_BW)
    kv = 256 * 1024 * V3_KV / (16 * H100_BW)
    step = max(compute, weights + kv)
    assert out["compute_s"] == pytest.approx(compute)
    assert out["weights_s"] == pytest.approx(weights)
    assert out["kv_s"] == pytest.approx(kv)
    assert out["step_s"] == pytest.approx(step)
    assert out["bound"] == "memory"
    assert out["tokens_per_s"] == pytest.approx(256 / step)
    assert out["mfu"] == pytest.approx(compute / step)
    assert out["cost_usd_per_mtok"] == pytest.approx(16 * 2 / 3600 * step / 256 * 1e6)
    critical = (671e9 / H100_BW) / (2 * 37e9 / H100_FP8 - 1024 * V3_KV / H100_BW)
    assert out["critical_batch"] == pytest.approx(critical) and round(critical) == 12_588
    assert out["max_batch_that_fits"] == math.floor((16 * H100_HBM - 671e9) / (1024 * V3_KV)) == 8_463
    assert out["hbm_bytes_needed"] == pytest.approx(671e9 + 256 * 1024 * V3_KV)
    assert out["drain_s"] == pytest.approx(H100_HBM / H100_BW)


def test_decode_deepseek_on_4_b200():
    """Issue 11: 4 x B200 shows a critical batch of 11,259 against ~1,350 sequences that fit."""
    out = calc_json("decode", "--chip", "b200", "--chips", "4", "--model", "deepseek-v3", "--batch", "1",
                    "--context", "1024")
    critical = (671e9 / B200_BW) / (2 * 37e9 / 4.5e15 - 1024 * V3_KV / B200_BW)
    assert out["critical_batch"] == pytest.approx(critical) and round(critical) == 11_259
    assert out["max_batch_that_fits"] == math.floor((4 * B200_HBM - 671e9) / (1024 * V3_KV)) == 1_347
    assert "cost_usd_per_mtok" not in out


def test_context_zero_critical_batch_ignores_kv():
    """--context 0: B* = (F / bw)(w / 2)(N_total / N_active) = 295.4 x 671/37 on an H100 in fp8."""
    out = calc_json("decode", "--chip", "h100", "--chips", "16", "--model", "deepseek-v3", "--batch", "8",
                    "--context", "0")
    assert out["critical_batch"] == pytest.approx(H100_FP8 / H100_BW / 2 * 671 / 37)
    assert out["kv_s"] == 0 and out["max_batch_that_fits"] is None


def test_decode_explicit_params_bf16_compute_bound():
    """Llama-3-70B-sized custom model, bf16 on 8 x H100, batch 1,024 at 128 tokens: past B* = 295 + KV, compute-bound."""
    out = calc_json("decode", "--chip", "h100", "--chips", "8", "--active-params", "70.6e9", "--total-params",
                    "70.6e9", "--kv-bytes-per-token", str(LLAMA_KV), "--batch", "1024", "--context", "128",
                    "--compute", "bf16", "--weight-bytes", "2")
    compute = 1024 * 2 * 70.6e9 / (8 * H100_BF16)
    memory = (70.6e9 * 2 + 1024 * 128 * LLAMA_KV) / (8 * H100_BW)
    assert out["compute_s"] == pytest.approx(compute) and out["step_s"] == pytest.approx(max(compute, memory))
    assert out["bound"] == "compute" and out["mfu"] == pytest.approx(1.0)


def test_additive_step_model():
    """scaling-book: T = KV + max(compute, weights); its critical batch ignores context."""
    args = ("decode", "--chip", "h100", "--chips", "16", "--model", "deepseek-v3", "--batch", "256", "--context",
            "1024", "--step-model", "additive")
    out = calc_json(*args)
    compute = 256 * 2 * 37e9 / (16 * H100_FP8)
    weights = 671e9 / (16 * H100_BW)
    kv = 256 * 1024 * V3_KV / (16 * H100_BW)
    assert out["step_s"] == pytest.approx(kv + max(compute, weights))
    assert out["critical_batch"] == pytest.approx((671e9 / H100_BW) / (2 * 37e9 / H100_FP8))


def test_eight_bit_kv_and_expected_expert_reads():
    """--kv-bytes-per-value 1 halves V3's KV (35,136 B); --expert-reads expected at B = 1 reads 37B params."""
    out = calc_json("decode", "--chip", "h100", "--chips", "16", "--model", "deepseek-v3", "--batch", "1",
                    "--context", "1024", "--kv-bytes-per-value", "1", "--expert-reads", "expected")
    assert out["kv_bytes_per_token"] == V3_KV / 2
    assert out["weights_s"] == pytest.approx(37e9 / (16 * H100_BW))


def test_kv_subcommand():
    """scaling-book: LLaMA-3 70B KV 2 x 8 x 128 x 80 = 160 kB in int8; facts.md: V3 70,272 B in bf16."""
    assert calc_json("kv", "--model", "llama-3-70b", "--kv-bytes-per-value", "1")["kv_bytes_per_token"] == 163_840
    assert calc_json("kv", "--model", "deepseek-v3")["kv_bytes_per_token"] == V3_KV


def test_balance_subcommand():
    """facts.md: H100 989e12 / 3.35e12 = 295 FLOP/byte in bf16; 8-bit weights on bf16 compute halve B*."""
    bf16 = calc_json("balance", "--chip", "h100", "--compute", "bf16")
    assert bf16["flops_per_byte"] == pytest.approx(H100_BF16 / H100_BW)
    assert bf16["critical_batch_dense"] == pytest.approx(H100_BF16 / H100_BW)
    fp8 = calc_json("balance", "--chip", "h100", "--compute", "fp8", "--weight-bytes", "1")
    assert fp8["critical_batch_dense"] == pytest.approx(H100_FP8 / H100_BW / 2)
    w8 = calc_json("balance", "--chip", "h100", "--compute", "bf16", "--weight-bytes", "1")
    assert w8["critical_batch_dense"] == pytest.approx(H100_BF16 / H100_BW / 2)
    b200 = calc_json("balance", "--chip", "B200", "--compute", "bf16")
    assert b200["flops_per_byte"] == pytest.approx(2.25e15 / 8e12)  # facts.md: 281


def test_human_readable_output():
    done = calc("decode", "--chip", "h100", "--chips", "16", "--model", "deepseek-v3", "--batch", "256",
                "--context", "1024")
    assert done.returncode == 0
    assert "critical batch" in done.stdout and "12,588 sequences" in done.stdout and "8,463" in done.stdout


@pytest.mark.parametrize("args, message", [
    (("decode", "--chip", "h900", "--batch", "1", "--context", "1", "--model", "deepseek-v3"), "unknown chip"),
    (("decode", "--chip", "h100", "--batch", "1", "--context", "1", "--model", "gpt-5"), "unknown model"),
    (("decode", "--chip", "h100", "--batch", "1", "--context", "1", "--model", "deepseek-v3", "--compute", "fp16"),
     "invalid choice"),
    (("decode", "--chip", "h100", "--batch", "-4", "--context", "1", "--model", "deepseek-v3"), "positive"),
    (("decode", "--chip", "h100", "--batch", "1", "--context", "1", "--active-params", "2e9", "--total-params",
      "1e9", "--kv-bytes-per-token", "1"), "cannot exceed"),
    (("decode", "--chip", "h100", "--batch", "1", "--context", "1", "--model", "lecture-100b"),
     "--kv-bytes-per-token"),
    (("balance", "--chip", "tpu-v5e", "--compute", "fp8"), "fp8"),
    (("balance", "--chip", "h100", "--weight-bytes", "3"), "1 or 2"),
    (("kv", "--model", "lecture-100b"), "no attention layout"),
])
def test_bad_input_exits_2_with_a_message(args, message):
    done = calc(*args)
    assert done.returncode == 2
    assert message in done.stderr and done.stdout == ""
