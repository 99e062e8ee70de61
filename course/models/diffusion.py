"""Diffusion (the avalanche effect) in a toy cipher and a small neural network.

Avalanche: flip one input bit and count the share of output bits that change.
A function that mixes well flips about half of them, for every input bit.
All randomness comes from explicit seeds.
"""

from __future__ import annotations

import hashlib

import numpy as np

MASK32 = 0xFFFFFFFF


def _rotl32(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & MASK32


def arx_round(left: int, right: int, round_key: int) -> tuple[int, int]:
    """One add-rotate-xor Feistel round on two 32-bit words."""
    mixed = (_rotl32((right + round_key) & MASK32, 7) ^ right) & MASK32
    return right, left ^ mixed


def toy_cipher(block: int, rounds: int, key: int = 0x0123456789ABCDEF) -> int:
    """Encrypt a 64-bit block with ``rounds`` ARX Feistel rounds (a teaching toy, not secure)."""
    left, right = (block >> 32) & MASK32, block & MASK32
    for i in range(rounds):
        round_key = _rotl32((key >> (32 * (i % 2))) & MASK32, i % 32) ^ (0x9E3779B9 * (i + 1) & MASK32)
        left, right = arx_round(left, right, round_key)
    return (left << 32) | right


def _bits(value: int, width: int) -> np.ndarray:
    return np.array([(value >> i) & 1 for i in range(width)], dtype=np.uint8)


def avalanche_matrix_cipher(rounds: int, samples: int = 64, seed: int = 0) -> np.ndarray:
    """P(output bit j flips | input bit i flipped) for the toy cipher, shape (64, 64) [probability]."""
    rng = np.random.default_rng(seed)
    flips = np.zeros((64, 64))
    for _ in range(samples):
        block = int(rng.integers(0, 2**63)) | (int(rng.integers(0, 2)) << 63)
        base = toy_cipher(block, rounds)
        for i in range(64):
            flips[i] += _bits(base ^ toy_cipher(block ^ (1 << i), rounds), 64)
    return flips / samples


def avalanche_ratio_sha256(messages: list[bytes]) -> float:
    """Mean share of SHA-256 output bits that flip when one input bit flips [fraction]."""
    total, count = 0, 0
    for message in messages:
        base = int.from_bytes(hashlib.sha256(message).digest(), "big")
        for bit in range(len(message) * 8):
            flipped = bytearray(message)
            flipped[bit // 8] ^= 1 << (bit % 8)
            other = int.from_bytes(hashlib.sha256(bytes(flipped)).digest(), "big")
            total += bin(base ^ other).count("1")
            count += 256
    return total / count


def random_mlp_weights(width: int, layers: int, seed: int = 0) -> list[np.ndarray]:
    """Gaussian weights for a tanh MLP of ``layers`` square layers, variance-preserving scale."""
    rng = np.random.default_rng(seed)
    return [rng.normal(0.0, 1.6 / np.sqrt(width), size=(width, width)) for _ in range(layers)]


def mlp_sign_bits(inputs: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
    """Run ±1 inputs through the tanh MLP and read the sign of each output as a bit."""
    h = inputs
    for w in weights:
        h = np.tanh(h @ w)
    return (h > 0).astype(np.uint8)


def avalanche_matrix_mlp(width: int, layers: int, samples: int = 64, seed: int = 0) -> np.ndarray:
    """P(output sign j flips | input sign i flipped) for a random tanh MLP, shape (width, width) [probability]."""
    weights = random_mlp_weights(width, layers, seed)
    rng = np.random.default_rng(seed + 1)
    x = rng.choice([-1.0, 1.0], size=(samples, width))
    base = mlp_sign_bits(x, weights)
    flips = np.zeros((width, width))
    for i in range(width):
        x_flipped = x.copy()
        x_flipped[:, i] *= -1
        flips[i] = (mlp_sign_bits(x_flipped, weights) != base).mean(axis=0)
    return flips


def avalanche_score(matrix: np.ndarray) -> float:
    """Mean flip probability over all input/output bit pairs [fraction]; 0.5 is full diffusion."""
    return float(np.mean(matrix))
