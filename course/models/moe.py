"""All-to-all traffic of a mixture-of-experts layer, inside vs across a scale-up domain.

Each token is sent to ``experts_per_token`` experts (dispatch) and their outputs
come back (combine): hidden_size values each way per chosen expert. With
expert parallelism over G chips and experts spread evenly, a destination is
the token's own chip with probability 1/G, another chip of its scale-up domain
(size D) with probability (min(G, D) - 1)/G, and a chip in another domain with
probability max(G - D, 0)/G. The two networks work at once, so the layer's
all-to-all takes the longer of the two transfers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course.presets.chips import Chip


def all_to_all_bytes_per_token(hidden_size: int, experts_per_token: int, bytes_per_value: float = 2.0,
                               include_combine: bool = True) -> float:
    """Bytes one token sends per MoE layer, dispatch (+ combine) [bytes/token/layer]."""
    one_way = hidden_size * bytes_per_value * experts_per_token
    return 2 * one_way if include_combine else one_way


def remote_shares(ep_degree, domain_size: int):
    """Shares of expert traffic that stay on chip, cross the scale-up fabric, or go scale-out [fractions]."""
    ep_degree = np.asarray(ep_degree, dtype=float)
    inside = np.minimum(ep_degree, domain_size)
    return 1.0 / ep_degree, (inside - 1.0) / ep_degree, np.maximum(ep_degree - domain_size, 0.0) / ep_degree


@dataclass(frozen=True)
class AllToAllTime:
    """Per-layer all-to-all times for the tokens on one chip [s]."""

    scale_up_s: np.ndarray | float
    scale_out_s: np.ndarray | float

    @property
    def total_s(self):
        """The layer waits for the slower network [s]."""
        return np.maximum(self.scale_up_s, self.scale_out_s)


def all_to_all_time(tokens_per_chip: float, ep_degree, chip: Chip, *, hidden_size: int, experts_per_token: int,
                    bytes_per_value: float = 2.0, domain_size: int | None = None) -> AllToAllTime:
    """Time for one MoE layer's dispatch + combine of ``tokens_per_chip`` tokens [s]."""
    domain = domain_size or chip.scale_up_domain
    if domain is None or chip.scale_up_bandwidth is None:
        raise ValueError(f"{chip.name} lacks a scale-up domain size or bandwidth in the presets")
    sent = tokens_per_chip * all_to_all_bytes_per_token(hidden_size, experts_per_token, bytes_per_value)
    _, up_share, out_share = remote_shares(ep_degree, domain)
    if np.any(out_share > 0) and chip.scale_out_bandwidth is None:
        raise ValueError(f"{chip.name} has no scale-out bandwidth in the presets")
    scale_out_bw = chip.scale_out_bandwidth or np.inf
    return AllToAllTime(scale_up_s=sent * up_share / chip.scale_up_bandwidth,
                        scale_out_s=sent * out_share / scale_out_bw)


def scale_up_to_out_ratio(chip: Chip) -> float:
    """How many times faster the scale-up fabric is than scale-out, per chip [x]."""
    return chip.scale_up_bandwidth / chip.scale_out_bandwidth
