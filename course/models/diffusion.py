"""Diffusion (the avalanche effect) in a toy cipher, in SHA-256 and in a small random neural network.

Flip one input bit and record which output bits change. An **avalanche matrix** ``A`` has shape
(n_in, n_out): ``A[i, j]`` is the share of sampled inputs for which flipping input bit ``i`` flips output
bit ``j`` [probability]. The Strict Avalanche Criterion asks for ``A[i, j] = 1/2`` everywhere; a function
is *complete* when every entry is above zero (every input bit can change every output bit).

Bits of a Feistel block are numbered left word first, least significant bit first: bit ``i < h`` is bit
``i`` of the left word, bit ``h + i`` is bit ``i`` of the right word, with ``h`` the word size [bits].
All randomness comes from explicit seeds; nothing here plots.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

SAC_FLIP_PROBABILITY = 0.5
"""Ideal probability that an output bit flips when one input bit is flipped [probability].

Source: the Strict Avalanche Criterion of A. F. Webster and S. E. Tavares, "On the Design of S-Boxes",
CRYPTO '85 (LNCS 218, pp. 523-534). It is also what a uniformly random function gives. Not in
facts.md: this segment has no hardware figure, and the SAC ideal is its published reference."""

FULL_DIFFUSION_TOLERANCE = 0.02
"""How close the mean flip probability must be to 1/2 for "full diffusion" [probability]."""

SHA256_DIGEST_BITS = 256
"""Length of a SHA-256 digest [bits] (FIPS 180-4)."""

BLOCK_BITS_OPTIONS = (16, 32, 64)
"""Block sizes the toy cipher supports [bits]; each block is two words of half that size."""

DEFAULT_BLOCK_BITS = 64
"""Block size of the toy cipher in the exercises [bits]."""

DEFAULT_KEY = 0x0123456789ABCDEF
"""The toy cipher's fixed 64-bit master key (any key gives the same diffusion, up to sampling noise)."""

DEFAULT_SAMPLES = 256
"""Random inputs per avalanche estimate [inputs]; each entry's sampling error is at most 1/(2*sqrt(256)) = 0.031."""

DEFAULT_SEED = 0
"""Seed of the sampled inputs and of the network's weights."""

MESSAGE_COUNT = 16
"""Messages in the fixed SHA-256 test set [messages]."""

MESSAGE_BYTES = 32
"""Length of each test message [bytes] (256 bits, so 256 single-bit flips per message)."""

MESSAGE_SEED = 7
"""Seed of the fixed SHA-256 test set."""

EDGE_OF_CHAOS_GAIN = 1.0
"""Weight scale at which a deep tanh network without biases passes from order to chaos [dimensionless].

Weights are drawn with standard deviation gain / sqrt(width). Below this gain nearby inputs stay nearby with
depth; above it they separate (Poole et al. 2016, "Exponential expressivity in deep neural networks through
transient chaos"; Schoenholz et al. 2017, "Deep Information Propagation")."""

MAX_DEPTH = 24
"""Deepest sweep the figures draw [rounds or layers]."""

DEFAULT_GAIN = 4.0
"""Weight scale of the random network in the figures: deep in the chaotic regime [dimensionless]."""

_GOLDEN_GAMMA = 0x9E3779B97F4A7C15  # odd constant (2^64 / golden ratio) used to spread round keys


# ---------------------------------------------------------------------------------------------- toy cipher

def word_mask(word_bits: int) -> int:
    """All ones in a word of ``word_bits`` bits."""
    return (1 << word_bits) - 1


def rotations(word_bits: int) -> tuple[int, int]:
    """The two rotation amounts of the round function for a word of ``word_bits`` bits [bits]."""
    return word_bits // 4 - 1, word_bits // 2 + 3


def rotl(x, amount: int, word_bits: int):
    """Rotate ``x`` left by ``amount`` bits within ``word_bits`` bits (uint64 arrays or Python ints)."""
    if isinstance(x, np.ndarray):
        shift, back = np.uint64(amount), np.uint64(word_bits - amount)
        return ((x << shift) | (x >> back)) & np.uint64(word_mask(word_bits))
    return ((x << amount) | (x >> (word_bits - amount))) & word_mask(word_bits)


def round_keys(rounds: int, word_bits: int, key: int = DEFAULT_KEY) -> list[int]:
    """One round key per round, each ``word_bits`` wide, spread from the 64-bit master ``key``."""
    keys = []
    for r in range(rounds):
        mixed = (key + (r + 1) * _GOLDEN_GAMMA) & 0xFFFFFFFFFFFFFFFF
        mixed ^= mixed >> 29
        keys.append(mixed & word_mask(word_bits))
    return keys


def round_function(x, round_key: int, word_bits: int):
    """The Feistel round function F(x, k), add-rotate-xor only.

    u = (x + k) mod 2^h;  t = (u + rotl(u, a)) mod 2^h;  F = t xor rotl(t, b), with (a, b) = ``rotations(h)``.
    Works on Python ints and on uint64 arrays.
    """
    a, b = rotations(word_bits)
    if isinstance(x, np.ndarray):
        mask, k = np.uint64(word_mask(word_bits)), np.uint64(round_key)
    else:
        mask, k = word_mask(word_bits), round_key
    u = (x + k) & mask
    t = (u + rotl(u, a, word_bits)) & mask
    return t ^ rotl(t, b, word_bits)


def encrypt_words(left, right, rounds: int, word_bits: int, key: int = DEFAULT_KEY):
    """Run ``rounds`` Feistel rounds: L' = R, R' = L xor F(R, k). Returns the final (left, right)."""
    for k in round_keys(rounds, word_bits, key):
        left, right = right, left ^ round_function(right, k, word_bits)
    return left, right


def decrypt_words(left, right, rounds: int, word_bits: int, key: int = DEFAULT_KEY):
    """Undo ``encrypt_words``: R = L', L = R' xor F(L', k), with the round keys in reverse."""
    for k in reversed(round_keys(rounds, word_bits, key)):
        left, right = right ^ round_function(left, k, word_bits), left
    return left, right


def encrypt(block: int, rounds: int, block_bits: int = DEFAULT_BLOCK_BITS, key: int = DEFAULT_KEY) -> int:
    """Encrypt one block (an int of ``block_bits`` bits, left word in the high half) [a teaching toy, not secure]."""
    h = block_bits // 2
    left, right = encrypt_words(block >> h, block & word_mask(h), rounds, h, key)
    return (left << h) | right


def decrypt(block: int, rounds: int, block_bits: int = DEFAULT_BLOCK_BITS, key: int = DEFAULT_KEY) -> int:
    """Invert ``encrypt`` for the same rounds and key."""
    h = block_bits // 2
    left, right = decrypt_words(block >> h, block & word_mask(h), rounds, h, key)
    return (left << h) | right


def _word_bits_of(words: np.ndarray, word_bits: int) -> np.ndarray:
    """Unpack uint64 words (any shape) into bits along a new last axis, least significant first."""
    shifts = np.arange(word_bits, dtype=np.uint64)
    return ((words[..., None] >> shifts) & np.uint64(1)).astype(np.uint8)


def cipher_avalanche_by_round(max_rounds: int, block_bits: int = DEFAULT_BLOCK_BITS,
                              samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED,
                              key: int = DEFAULT_KEY) -> np.ndarray:
    """Avalanche matrices of the toy cipher after 0, 1, ..., ``max_rounds`` rounds.

    Returns shape (max_rounds + 1, block_bits, block_bits) [probability]; index 0 (no rounds) is the
    identity. Every round is computed once for ``samples`` random blocks and their ``block_bits``
    one-bit neighbours.
    """
    if block_bits not in BLOCK_BITS_OPTIONS:
        raise ValueError(f"block_bits must be one of {BLOCK_BITS_OPTIONS}")
    h = block_bits // 2
    rng = np.random.default_rng(seed)
    left = rng.integers(0, 1 << h, size=samples, dtype=np.uint64)
    right = rng.integers(0, 1 << h, size=samples, dtype=np.uint64)
    # column 0: the sampled block; column 1 + i: the block with input bit i flipped
    left_flip = np.zeros(block_bits + 1, dtype=np.uint64)
    right_flip = np.zeros(block_bits + 1, dtype=np.uint64)
    one_hot = np.left_shift(np.uint64(1), np.arange(h, dtype=np.uint64))
    left_flip[1:h + 1] = one_hot
    right_flip[h + 1:] = one_hot
    left = left[:, None] ^ left_flip[None, :]
    right = right[:, None] ^ right_flip[None, :]
    matrices = np.empty((max_rounds + 1, block_bits, block_bits))
    matrices[0] = np.eye(block_bits)
    for r, k in enumerate(round_keys(max_rounds, h, key), start=1):
        left, right = right, left ^ round_function(right, k, h)
        changed = np.concatenate([_word_bits_of(left[:, 1:] ^ left[:, :1], h),
                                  _word_bits_of(right[:, 1:] ^ right[:, :1], h)], axis=2)
        matrices[r] = changed.mean(axis=0)
    return matrices


def cipher_avalanche_matrix(rounds: int, block_bits: int = DEFAULT_BLOCK_BITS, samples: int = DEFAULT_SAMPLES,
                            seed: int = DEFAULT_SEED, key: int = DEFAULT_KEY) -> np.ndarray:
    """Avalanche matrix of the toy cipher after ``rounds`` rounds, shape (block_bits, block_bits) [probability]."""
    return cipher_avalanche_by_round(rounds, block_bits, samples, seed, key)[rounds]


# ------------------------------------------------------------------------------------- measuring diffusion

def mean_flip_probability(matrix: np.ndarray) -> float:
    """Mean of an avalanche matrix: the share of output bits that flip per input-bit flip [probability]."""
    return float(np.mean(matrix))


def never_flipped_pairs(matrix: np.ndarray) -> int:
    """Number of (input bit, output bit) pairs that never flipped together in the samples [pairs]."""
    return int(np.count_nonzero(matrix == 0))


def is_full_diffusion(matrix: np.ndarray, tolerance: float = FULL_DIFFUSION_TOLERANCE) -> bool:
    """The course's definition of full diffusion for one avalanche matrix.

    (1) the mean flip probability is within ``tolerance`` of 1/2, and (2) every input bit flipped every
    output bit at least once in the samples (no zero entry).
    """
    return abs(mean_flip_probability(matrix) - SAC_FLIP_PROBABILITY) <= tolerance and never_flipped_pairs(matrix) == 0


def first_full_diffusion(matrices: np.ndarray, tolerance: float = FULL_DIFFUSION_TOLERANCE) -> int | None:
    """Index (rounds or layers) of the first matrix in a depth sweep that reaches full diffusion, or None."""
    for depth, matrix in enumerate(matrices):
        if is_full_diffusion(matrix, tolerance):
            return depth
    return None


def rounds_to_full_diffusion(block_bits: int = DEFAULT_BLOCK_BITS, max_rounds: int = 16,
                             samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED,
                             key: int = DEFAULT_KEY) -> int | None:
    """Fewest rounds after which the toy cipher meets ``is_full_diffusion`` (None if not within max_rounds)."""
    return first_full_diffusion(cipher_avalanche_by_round(max_rounds, block_bits, samples, seed, key))


# --------------------------------------------------------------------- Feistel structure with an ideal F

def ideal_feistel_dependence(rounds: int, word_bits: int) -> np.ndarray:
    """Which input bits can reach which output bits after ``rounds`` Feistel rounds with an ideal F.

    An ideal round function lets every bit of its input change every bit of its output; the xor and the
    swap only move bits. Returns a boolean (2h, 2h) matrix in the avalanche-matrix layout.
    """
    h = word_bits
    left = np.vstack([np.eye(h, dtype=bool), np.zeros((h, h), dtype=bool)])   # (input bit, left-word bit)
    right = np.vstack([np.zeros((h, h), dtype=bool), np.eye(h, dtype=bool)])
    for _ in range(rounds):
        through_f = np.repeat(right.any(axis=1, keepdims=True), h, axis=1)
        left, right = right, left | through_f
    return np.hstack([left, right])


def ideal_feistel_unreached_pairs(rounds: int, word_bits: int) -> int:
    """(input bit, output bit) pairs with no path between them after ``rounds`` ideal Feistel rounds [pairs]."""
    return int(np.count_nonzero(~ideal_feistel_dependence(rounds, word_bits)))


def ideal_feistel_rounds_to_complete(word_bits: int, max_rounds: int = 16) -> int:
    """Fewest ideal Feistel rounds after which every input bit can reach every output bit [rounds]."""
    for rounds in range(max_rounds + 1):
        if ideal_feistel_unreached_pairs(rounds, word_bits) == 0:
            return rounds
    raise ValueError("not complete within max_rounds")


# ---------------------------------------------------------------------------------------------- SHA-256

def sample_messages(count: int = MESSAGE_COUNT, length_bytes: int = MESSAGE_BYTES,
                    seed: int = MESSAGE_SEED) -> list[bytes]:
    """A fixed, seeded set of random messages."""
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, size=length_bytes, dtype=np.uint8).tobytes() for _ in range(count)]


def flip_bit(message: bytes, bit: int) -> bytes:
    """``message`` with bit ``bit`` flipped (bit 0 is the least significant bit of byte 0)."""
    flipped = bytearray(message)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


def sha256_flipped_bits(messages: list[bytes]) -> np.ndarray:
    """Digest bits that change per single-bit flip, shape (messages, message bits) [bits out of 256]."""
    counts = []
    for message in messages:
        base = int.from_bytes(hashlib.sha256(message).digest(), "big")
        counts.append([(base ^ int.from_bytes(hashlib.sha256(flip_bit(message, bit)).digest(), "big")).bit_count()
                       for bit in range(len(message) * 8)])
    return np.array(counts)


def sha256_avalanche_matrix(messages: list[bytes]) -> np.ndarray:
    """Avalanche matrix of SHA-256 over ``messages`` (all the same length), shape (message bits, 256).

    Entry (i, j) is the share of messages for which flipping message bit i flips digest bit j
    [probability]. Digest bits are numbered byte by byte, least significant bit first.
    """
    n_bits = len(messages[0]) * 8
    total = np.zeros((n_bits, SHA256_DIGEST_BITS))
    for message in messages:
        base = np.frombuffer(hashlib.sha256(message).digest(), dtype=np.uint8)
        flipped = np.frombuffer(b"".join(hashlib.sha256(flip_bit(message, bit)).digest() for bit in range(n_bits)),
                                dtype=np.uint8).reshape(n_bits, -1)
        total += np.unpackbits(flipped ^ base, axis=1, bitorder="little")
    return total / len(messages)


def sha256_avalanche_ratio(messages: list[bytes]) -> float:
    """Share of SHA-256 digest bits that flip when one message bit flips, over every bit of every message
    [fraction]."""
    counts = sha256_flipped_bits(messages)
    return float(counts.sum() / (counts.size * SHA256_DIGEST_BITS))


def binomial_standard_error(probability: float, trials: int) -> float:
    """Standard error of a share measured over ``trials`` independent coin flips [fraction]."""
    return math.sqrt(probability * (1 - probability) / trials)


# --------------------------------------------------------------------------------- random neural network

def random_mlp_weights(width: int, layers: int, gain: float = DEFAULT_GAIN, seed: int = DEFAULT_SEED) -> list[np.ndarray]:
    """Square Gaussian weight matrices, entries with standard deviation gain / sqrt(width)."""
    rng = np.random.default_rng(seed)
    return [rng.normal(0.0, gain / math.sqrt(width), size=(width, width)) for _ in range(layers)]


def mlp_avalanche_by_layer(max_layers: int, width: int, gain: float = DEFAULT_GAIN,
                           samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED) -> np.ndarray:
    """Avalanche matrices of a random tanh network after 0, 1, ..., ``max_layers`` layers.

    Inputs are +-1 vectors (a bit each); each layer computes h <- tanh(h @ W) with no bias, and an output
    bit is the sign of a unit. Returns shape (max_layers + 1, width, width) [probability]; index 0 is the
    identity.
    """
    weights = random_mlp_weights(width, max_layers, gain, seed)
    rng = np.random.default_rng(seed + 1)
    x = rng.choice([-1.0, 1.0], size=(samples, width))
    batch = np.repeat(x[:, None, :], width + 1, axis=1)    # row 0 the input, row 1 + i with input bit i flipped
    batch[:, np.arange(width) + 1, np.arange(width)] *= -1
    matrices = np.empty((max_layers + 1, width, width))
    matrices[0] = np.eye(width)
    hidden = batch
    for layer, w in enumerate(weights, start=1):
        hidden = np.tanh(hidden @ w)
        signs = hidden > 0
        matrices[layer] = (signs[:, 1:, :] != signs[:, :1, :]).mean(axis=0)
    return matrices


def sheppard_flip_probability(correlation: float) -> float:
    """P(sign z != sign z') for jointly Gaussian z, z' with this correlation: arccos(rho) / pi [probability]."""
    return math.acos(correlation) / math.pi


def one_layer_flip_probability(width: int) -> float:
    """Expected share of sign bits one random layer flips when one of ``width`` +-1 inputs flips [probability].

    z = sum_i w_i x_i and z' = z - 2 w_k x_k have correlation (width - 2) / width; Sheppard's formula does
    the rest. The weight scale drops out.
    """
    return sheppard_flip_probability((width - 2) / width)
