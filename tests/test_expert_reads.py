"""Expected MoE weight reads per decode step, against the published DeepSeek-V3 config and facts.md."""

from __future__ import annotations

import numpy as np
import pytest

from course.models import expert_reads, roofline
from course.presets import chips, llms

V3 = llms.DEEPSEEK_V3


@pytest.mark.parametrize("batch, share", [(1, 0.031), (8, 0.22), (32, 0.64)])
def test_touched_share_matches_facts(batch, share):
    """facts.md: V3 (E = 256, k = 8) touches 3.1% of routed experts at B = 1, 22% at 8, 64% at 32."""
    assert expert_reads.touched_expert_fraction(batch, 8, 256) == pytest.approx(share, abs=0.005)
    assert expert_reads.touched_expert_fraction(batch, 8, 256) == pytest.approx(1 - (248 / 256) ** batch)


def test_routed_and_always_on_split_matches_the_config():
    """R = 634B / (1 - 8/256) = 654.5B; per expert 654.5B / (58 x 256) = 44.1M vs config 3 x 7168 x 2048 = 44.0M."""
    routed = expert_reads.routed_params(V3)
    assert routed == pytest.approx(634e9 / (248 / 256))
    assert expert_reads.always_on_params(V3) == pytest.approx(16.5e9, abs=0.1e9)  # the "~17B"
    per_expert_config = 3 * 7168 * 2048
    assert routed / (58 * 256) == pytest.approx(per_expert_config, rel=0.002)


def test_read_rises_from_active_to_total():
    """B = 1 reads the 37B active parameters; B = 4,096 reads all but (248/256)^4096 of the 671B."""
    assert expert_reads.expected_params_read(1, V3) == pytest.approx(37e9)
    assert expert_reads.expected_params_read(4096, V3) == pytest.approx(671e9, rel=1e-9)
    reads = expert_reads.expected_params_read(np.array([1, 2, 4, 8, 64]), V3)
    assert np.all(np.diff(reads) > 0)
    assert expert_reads.expected_params_read(7, llms.LLAMA_3_70B) == 70.6e9


def test_small_batch_step_floor_is_the_active_read():
    """16 x H100, fp8: at B = 1 the weight time is 37 GB / 53.6 TB/s = 0.69 ms, not 671 GB / 53.6 TB/s = 12.5 ms."""
    step = expert_reads.moe_decode_step(1, llm=V3, context_tokens=0, kv_bytes_per_token=0, chip=chips.H100_SXM,
                                        n_chips=16, precision=roofline.FP8)
    assert float(step.weights_s) == pytest.approx(37e9 / (16 * 3.35e12))
    lecture = roofline.decode_step(1, active_params=37e9, total_params=671e9, context_tokens=0, kv_bytes_per_token=0,
                                   chip=chips.H100_SXM, n_chips=16, precision=roofline.FP8)
    assert float(lecture.weights_s) == pytest.approx(671e9 / (16 * 3.35e12))


def test_nonsense_is_refused():
    with pytest.raises(ValueError):
        expert_reads.touched_expert_fraction(1, 9, 8)
    with pytest.raises(ValueError, match="routed experts"):
        expert_reads.routed_params(llms.LLAMA_3_70B)
