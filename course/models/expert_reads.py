"""Weight bytes a mixture-of-experts decode step actually reads, as batch grows.

Split the parameters into always-on ones A (attention, embeddings, dense
layers, shared experts, router: used by every token) and routed ones R (the E
routed experts of each MoE layer, k chosen per token). Then

    N_active = A + R * k / E,    N_total = A + R,

so R = (N_total - N_active) / (1 - k / E) and A = N_total - R. DeepSeek-V3
(671B, 37B, k = 8, E = 256): R = 634B / 0.96875 = 654.5B, A = 16.5B (the
"~17B always-on"); 654.5B / (58 MoE layers * 256) = 44.1M per expert, which
matches the config's 3 * 7168 * 2048 = 44.0M.

One token picks k distinct experts of E, so a given expert is missed with
probability 1 - k/E. If the B tokens of a step route independently and
uniformly, an expert is untouched with probability (1 - k/E)^B, and the
expected share of routed experts read is

    touched(B) = 1 - (1 - k/E)^B      (V3: 3.1% at B = 1, 22% at 8, 64% at 32).

Expected weight bytes per step = (A + R * touched(B)) * w: the active
parameters at B = 1 (the lecture's "you still have to load all the active
parameters") rising to the whole model once B >> E/k. Real routers are not
uniform (popular experts, node-limited routing), so fewer distinct experts are
touched than this, and the full read arrives later.
"""

from __future__ import annotations

import numpy as np

from course.models import roofline
from course.models.roofline import Precision
from course.presets.chips import Chip
from course.presets.llms import LLM


def touched_expert_fraction(batch, experts_per_token: int, routed_experts: int):
    """Expected share of routed experts used by at least one of ``batch`` tokens, 1 - (1 - k/E)^B [fraction]."""
    if not 0 < experts_per_token <= routed_experts:
        raise ValueError("experts_per_token must be in (0, routed_experts]")
    batch = np.asarray(batch, dtype=float)
    if np.any(batch < 0):
        raise ValueError("batch must be non-negative")
    touched = 1.0 - (1.0 - experts_per_token / routed_experts) ** batch
    return float(touched) if touched.ndim == 0 else touched


def routed_params(llm: LLM) -> float:
    """Parameters in routed experts, R = (N_total - N_active) / (1 - k/E) [count]."""
    if llm.routed_experts is None or llm.experts_per_token is None:
        raise ValueError(f"{llm.name} has no routed experts in course/presets/llms.py")
    return (llm.total_params - llm.active_params) / (1.0 - llm.experts_per_token / llm.routed_experts)


def always_on_params(llm: LLM) -> float:
    """Parameters every token uses (attention, dense layers, shared experts, embeddings), A = N_total - R [count]."""
    return llm.total_params - routed_params(llm)


def expected_params_read(batch, llm: LLM):
    """Expected parameters read by one decode step of ``batch`` tokens, A + R * touched(B) [count].

    A dense preset (no routed experts) reads all its parameters at every batch.
    """
    if llm.routed_experts is None:
        return np.full(np.shape(batch), llm.total_params) if np.ndim(batch) else llm.total_params
    return always_on_params(llm) + routed_params(llm) * touched_expert_fraction(
        batch, llm.experts_per_token, llm.routed_experts)


def expected_weight_bytes_read(batch, llm: LLM, precision: Precision):
    """Expected weight bytes one decode step reads [bytes]."""
    return expected_params_read(batch, llm) * precision.weight_bytes_per_param


def moe_decode_step(batch, *, llm: LLM, context_tokens: float, kv_bytes_per_token: float, chip: Chip,
                    n_chips: int = 1, precision: Precision | None = None,
                    step_model: str = "overlap") -> roofline.DecodeStep:
    """``roofline.decode_step`` with the expected MoE weight read instead of the whole model [s].

    At batch 1 the weight time is N_active * w / bw; for B >> E/k it is the
    lecture's N_total * w / bw.
    """
    precision = precision or roofline.serving_precision(chip)
    return roofline.decode_step(batch, active_params=llm.active_params, total_params=llm.total_params,
                                context_tokens=context_tokens, kv_bytes_per_token=kv_bytes_per_token, chip=chip,
                                n_chips=n_chips, precision=precision, step_model=step_model,
                                weight_bytes_read=expected_weight_bytes_read(batch, llm, precision))
