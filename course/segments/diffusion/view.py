"""Segment 7 view: the avalanche curve against depth and one system's bit-flip heat map, for one setting."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from course.models import diffusion

SYSTEMS = {"cipher": "toy ARX cipher", "network": "random tanh network", "sha256": "SHA-256"}
"""Systems the heat map can show: key -> label."""

WIDTHS = diffusion.BLOCK_BITS_OPTIONS
"""Block sizes of the cipher and widths of the network offered [bits = units]."""

GAINS = (0.5, 1.0, 2.0, 4.0, 8.0)
"""Weight scales of the network offered [dimensionless]."""

SHA256_FIGURE_MESSAGES = 64
"""Messages behind the SHA-256 heat map [messages]: more than the exercise's 16, for a smoother picture."""


@lru_cache(maxsize=None)
def cipher_sweep(block_bits: int) -> np.ndarray:
    """Avalanche matrices of the toy cipher after 0 to MAX_DEPTH rounds (cached, read-only)."""
    matrices = diffusion.cipher_avalanche_by_round(diffusion.MAX_DEPTH, block_bits)
    matrices.setflags(write=False)
    return matrices


@lru_cache(maxsize=None)
def network_sweep(width: int, gain: float) -> np.ndarray:
    """Avalanche matrices of the random network after 0 to MAX_DEPTH layers (cached, read-only)."""
    matrices = diffusion.mlp_avalanche_by_layer(diffusion.MAX_DEPTH, width, gain)
    matrices.setflags(write=False)
    return matrices


@lru_cache(maxsize=None)
def sha256_matrix() -> np.ndarray:
    """SHA-256's avalanche matrix over SHA256_FIGURE_MESSAGES seeded messages (cached, read-only)."""
    matrix = diffusion.sha256_avalanche_matrix(diffusion.sample_messages(count=SHA256_FIGURE_MESSAGES))
    matrix.setflags(write=False)
    return matrix


@lru_cache(maxsize=None)
def mean_curve(kind: str, width: int, gain: float) -> np.ndarray:
    """Mean flip probability after 0 to MAX_DEPTH rounds ("cipher") or layers ("network") [probability]."""
    sweep = cipher_sweep(width) if kind == "cipher" else network_sweep(width, gain)
    curve = sweep.mean(axis=(1, 2))
    curve.setflags(write=False)
    return curve


@dataclass(frozen=True)
class DiffusionView:
    """What the segment 7 figure and readout show for one setting of the controls.

    Attributes:
        depths: rounds (cipher) or layers (network) of the curves, 0 to the deepest [rounds or layers].
        cipher_mean, network_mean: mean flip probability at each depth [probability].
        sha256_ratio: SHA-256's measured mean flip probability [probability].
        ideal: the Strict Avalanche Criterion's 1/2 [probability]; tolerance: the band around it that counts as
            full diffusion [probability].
        system: label of the system in the heat map; depth: the selected depth; current_mean: the selected
            system's mean flip probability there [probability].
        heat: its avalanche matrix, shape (input bits, output bits) [probability].
        never_flipped: (input, output) pairs that never flipped [count]; full_diffusion: whether it passes.
    """

    depths: np.ndarray
    cipher_mean: np.ndarray
    network_mean: np.ndarray
    sha256_ratio: float
    ideal: float
    tolerance: float
    system: str
    depth: int
    current_mean: float
    heat: np.ndarray
    never_flipped: int
    full_diffusion: bool

    @property
    def heat_title(self) -> str:
        """Title of the heat map: the system and the matrix' size."""
        return f"{self.system}: {self.heat.shape[0]} input × {self.heat.shape[1]} output bits"

    @property
    def layout_key(self) -> tuple:
        return ()

    @property
    def label_key(self) -> str:
        return self.heat_title


def diffusion_view(*, system: str, depth: int, width: int, gain: float) -> DiffusionView:
    """The segment 7 figure's numbers (pure, cached sweeps).

    The curves are the cipher (block of ``width`` bits) and the network (``width`` units, weight scale
    ``gain``); the heat map is ``system``'s avalanche matrix at ``depth`` (SHA-256 ignores depth and width).

    Args:
        system: "cipher", "network" or "sha256".
        depth: rounds or layers [count].
        width: block size or network width [bits].
        gain: the network's weight scale [dimensionless].
    """
    if system == "sha256":
        heat = sha256_matrix()
    elif system == "cipher":
        heat = cipher_sweep(width)[depth]
    elif system == "network":
        heat = network_sweep(width, gain)[depth]
    else:
        raise ValueError(f"system must be one of {list(SYSTEMS)}, got {system!r}")
    return DiffusionView(
        depths=np.arange(diffusion.MAX_DEPTH + 1),
        cipher_mean=mean_curve("cipher", width, 0.0),
        network_mean=mean_curve("network", width, gain),
        sha256_ratio=float(sha256_matrix().mean()),
        ideal=diffusion.SAC_FLIP_PROBABILITY,
        tolerance=diffusion.FULL_DIFFUSION_TOLERANCE,
        system=SYSTEMS[system],
        depth=int(depth),
        current_mean=float(heat.mean()),
        heat=heat,
        never_flipped=int(diffusion.never_flipped_pairs(heat)),
        full_diffusion=bool(diffusion.is_full_diffusion(heat)),
    )


def view(values: Mapping[str, object]) -> DiffusionView:
    """The view for the explorer's control values (keys: system, depth, width, gain)."""
    return diffusion_view(system=values["system"], depth=values["depth"], width=values["width"], gain=values["gain"])
