"""Segment 7: the avalanche model, its exercises and its explorer, checked against independent computations."""

from __future__ import annotations

import hashlib
import itertools
import math

import numpy as np
import pytest

from course.segments.diffusion import checks
from course.exercise import AnswerError
from course.models import diffusion
from course.segments.diffusion.explorer import diffusion_explorer
from course.segments.diffusion.view import diffusion_view

SAC_IDEAL = 0.5
"""Strict Avalanche Criterion (Webster and Tavares, CRYPTO '85): each output bit flips with probability 1/2."""


# ------------------------------------------------------------------------------------------ toy cipher

@pytest.mark.parametrize("block_bits", diffusion.BLOCK_BITS_OPTIONS)
def test_cipher_decrypts_what_it_encrypts(block_bits):
    """A Feistel network is invertible whatever its round function: decrypt(encrypt(x)) == x."""
    rng = np.random.default_rng(1)
    for block in rng.integers(0, 2**block_bits - 1, size=20, dtype=np.uint64):
        block = int(block)
        for rounds in (0, 1, 5, 9):
            secret = diffusion.encrypt(block, rounds, block_bits)
            assert 0 <= secret < 2**block_bits
            assert diffusion.decrypt(secret, rounds, block_bits) == block
    assert diffusion.encrypt(0x1234, 0, 16) == 0x1234


def _scalar_avalanche(rounds: int, block_bits: int, samples: int, seed: int) -> np.ndarray:
    """The avalanche matrix computed block by block with the integer cipher, sampling as the model documents."""
    h = block_bits // 2
    rng = np.random.default_rng(seed)
    left = rng.integers(0, 1 << h, size=samples, dtype=np.uint64)
    right = rng.integers(0, 1 << h, size=samples, dtype=np.uint64)
    counts = np.zeros((block_bits, block_bits))
    for lw, rw in zip(left, right):
        base_l, base_r = diffusion.encrypt_words(int(lw), int(rw), rounds, h)
        for i in range(block_bits):
            lf, rf = (int(lw) ^ (1 << i), int(rw)) if i < h else (int(lw), int(rw) ^ (1 << (i - h)))
            out_l, out_r = diffusion.encrypt_words(lf, rf, rounds, h)
            diff = ((out_r ^ base_r) << h) | (out_l ^ base_l)   # bit j < h: left word; bit h + j: right word
            counts[i] += [(diff >> j) & 1 for j in range(block_bits)]
    return counts / samples


@pytest.mark.parametrize("block_bits", [16, 64])
def test_vectorised_avalanche_matches_block_by_block_encryption(block_bits):
    """The numpy sweep equals flipping each bit of each block and encrypting with Python integers."""
    sweep = diffusion.cipher_avalanche_by_round(4, block_bits, samples=12, seed=3)
    for rounds in range(5):
        np.testing.assert_array_equal(sweep[rounds], _scalar_avalanche(rounds, block_bits, 12, 3))


def test_round_zero_is_the_identity():
    """Before any round each input bit flips exactly its own output bit."""
    matrix = diffusion.cipher_avalanche_matrix(0)
    np.testing.assert_array_equal(matrix, np.eye(64))
    assert diffusion.never_flipped_pairs(matrix) == 64 * 63


# ------------------------------------------------------------------------------------- full diffusion

def test_full_diffusion_needs_both_conditions():
    """Mean within 0.02 of 1/2 and no zero entry; either failure alone is enough to fail."""
    assert diffusion.FULL_DIFFUSION_TOLERANCE == 0.02
    even = np.full((8, 8), 0.5)
    assert diffusion.is_full_diffusion(even)
    assert diffusion.is_full_diffusion(np.full((8, 8), 0.485))
    assert not diffusion.is_full_diffusion(np.full((8, 8), 0.47))
    half_blind = np.hstack([np.ones((8, 4)), np.zeros((8, 4))])        # mean exactly 1/2, half never flips
    assert diffusion.mean_flip_probability(half_blind) == 0.5 and not diffusion.is_full_diffusion(half_blind)
    one_gap = even.copy()
    one_gap[3, 5] = 0.0
    assert not diffusion.is_full_diffusion(one_gap)
    assert diffusion.first_full_diffusion(np.stack([half_blind, one_gap, even])) == 2
    assert diffusion.first_full_diffusion(np.stack([half_blind, one_gap])) is None


def test_toy_cipher_rounds_do_not_depend_on_the_sample():
    """The exercise's answer is a property of the cipher, not of one seed or key: the same for other samples."""
    answer = diffusion.rounds_to_full_diffusion()
    assert answer is not None
    for seed, key in [(1, diffusion.DEFAULT_KEY), (2, 0xDEADBEEF), (5, 42)]:
        assert diffusion.rounds_to_full_diffusion(seed=seed, key=key) == answer


def test_toy_cipher_needs_at_least_the_ideal_rounds_and_converges_to_one_half():
    """A real F cannot beat an ideal one; past full diffusion the mean stays within sampling error of 1/2."""
    sweep = diffusion.cipher_avalanche_by_round(diffusion.MAX_DEPTH)
    answer = diffusion.first_full_diffusion(sweep)
    assert answer >= diffusion.ideal_feistel_rounds_to_complete(32)
    comparisons = sweep[0].size * diffusion.DEFAULT_SAMPLES
    error = diffusion.binomial_standard_error(SAC_IDEAL, comparisons)
    for matrix in sweep[answer + 1:]:
        assert abs(diffusion.mean_flip_probability(matrix) - SAC_IDEAL) < 5 * error
    means = [diffusion.mean_flip_probability(m) for m in sweep[:answer + 1]]
    assert means == sorted(means)


# ------------------------------------------------------------------------------------ ideal Feistel

def _brute_force_dependence(rounds: int, word_bits: int) -> np.ndarray:
    """Which input bits change which output bits, over every block, with a random table as round function."""
    rng = np.random.default_rng(0)
    size = 1 << word_bits
    tables = [rng.permutation(size) for _ in range(rounds)]
    block_bits = 2 * word_bits
    reach = np.zeros((block_bits, block_bits), dtype=bool)

    def encrypt(left, right):
        for table in tables:
            left, right = right, left ^ int(table[right])
        return left | (right << word_bits)

    for left, right in itertools.product(range(size), repeat=2):
        base = encrypt(left, right)
        for i in range(block_bits):
            lf, rf = (left ^ (1 << i), right) if i < word_bits else (left, right ^ (1 << (i - word_bits)))
            diff = base ^ encrypt(lf, rf)
            reach[i] |= [(diff >> j) & 1 == 1 for j in range(block_bits)]
    return reach


@pytest.mark.parametrize("rounds", [0, 1, 2, 3, 4])
def test_ideal_feistel_dependence_matches_brute_force(rounds):
    """With random 3-bit tables as F (a stand-in for an ideal F), exhaustive search finds the same reachable pairs."""
    np.testing.assert_array_equal(diffusion.ideal_feistel_dependence(rounds, 3), _brute_force_dependence(rounds, 3))


def test_ideal_feistel_needs_three_rounds():
    """Luby and Rackoff's three rounds: complete after 3, and after 2 only the h(h - 1) gaps of the left word remain."""
    for word_bits in (4, 16, 32):
        assert diffusion.ideal_feistel_rounds_to_complete(word_bits) == 3
        assert diffusion.ideal_feistel_unreached_pairs(2, word_bits) == word_bits * (word_bits - 1)
    assert diffusion.ideal_feistel_unreached_pairs(0, 32) == 64 * 64 - 64
    assert diffusion.ideal_feistel_unreached_pairs(1, 32) == 32 * 32 + 32 * 31 + 32 * 31


# ------------------------------------------------------------------------------------------- SHA-256

def test_flip_bit_flips_exactly_that_bit():
    message = bytes(4)
    assert diffusion.flip_bit(message, 0) == b"\x01\x00\x00\x00"
    assert diffusion.flip_bit(message, 9) == b"\x00\x02\x00\x00"
    assert diffusion.flip_bit(diffusion.flip_bit(b"abcd", 17), 17) == b"abcd"


def test_sample_messages_are_seeded():
    first, again = diffusion.sample_messages(), diffusion.sample_messages()
    assert first == again and len(first) == diffusion.MESSAGE_COUNT
    assert all(len(m) == diffusion.MESSAGE_BYTES for m in first) and len(set(first)) == len(first)


def test_sha256_digest_has_256_bits():
    """FIPS 180-4: a SHA-256 digest is 256 bits."""
    assert diffusion.SHA256_DIGEST_BITS == 8 * hashlib.sha256().digest_size == 256


def test_sha256_matrix_and_ratio_agree():
    """The per-bit matrix (numpy unpacking) and the per-flip counts (integer popcount) give the same ratio."""
    messages = diffusion.sample_messages(count=4)
    matrix = diffusion.sha256_avalanche_matrix(messages)
    assert matrix.shape == (diffusion.MESSAGE_BYTES * 8, 256)
    assert matrix.mean() == pytest.approx(diffusion.sha256_avalanche_ratio(messages), abs=1e-12)


def test_sha256_flip_counts_are_popcounts_of_the_digest_xor():
    """Per-flip counts equal the bits set in digest(m) xor digest(m with that bit flipped), and the matrix rows."""
    message = diffusion.sample_messages()[0]
    counts = diffusion.sha256_flipped_bits([message])[0]
    base = hashlib.sha256(message).digest()
    for bit in (0, 1, 100, 255):
        other = hashlib.sha256(diffusion.flip_bit(message, bit)).digest()
        assert counts[bit] == sum(bin(a ^ b).count("1") for a, b in zip(base, other))
    np.testing.assert_array_equal(counts, diffusion.sha256_avalanche_matrix([message]).sum(axis=1))


def test_sha256_meets_the_strict_avalanche_criterion():
    """Reality check: SHA-256's ratio over the seeded set is within 4 standard errors of the SAC's 1/2."""
    ratio = diffusion.sha256_avalanche_ratio(diffusion.sample_messages())
    comparisons = diffusion.MESSAGE_COUNT * diffusion.MESSAGE_BYTES * 8 * 256
    assert comparisons == 1_048_576
    assert abs(ratio - SAC_IDEAL) < 4 * diffusion.binomial_standard_error(SAC_IDEAL, comparisons)
    assert diffusion.SAC_FLIP_PROBABILITY == SAC_IDEAL


def test_binomial_standard_error():
    """sqrt(p(1 - p)/n): 0.5 / sqrt(n) at p = 1/2."""
    assert diffusion.binomial_standard_error(0.5, 256) == pytest.approx(1 / 32)
    assert diffusion.binomial_standard_error(0.5, 1_048_576) == pytest.approx(0.5 / 1024)
    assert diffusion.binomial_standard_error(0.1, 100) == pytest.approx(0.03)


# ------------------------------------------------------------------------------------ random network

def test_sheppard_formula_matches_sampled_gaussians():
    """P(sign differs) = arccos(rho)/pi: the endpoints, and a Monte Carlo check at rho = 0.8."""
    assert diffusion.sheppard_flip_probability(1.0) == 0.0
    assert diffusion.sheppard_flip_probability(0.0) == pytest.approx(0.5)
    assert diffusion.sheppard_flip_probability(-1.0) == pytest.approx(1.0)
    rng = np.random.default_rng(4)
    rho = 0.8
    z = rng.standard_normal(400_000)
    z2 = rho * z + math.sqrt(1 - rho**2) * rng.standard_normal(z.size)
    assert np.mean(np.sign(z) != np.sign(z2)) == pytest.approx(diffusion.sheppard_flip_probability(rho), abs=0.003)


@pytest.mark.parametrize("width", [16, 32, 64])
def test_one_layer_formula_matches_the_simulated_network(width):
    """The first layer's simulated flip share agrees with arccos((n - 2)/n)/pi for any gain."""
    formula = diffusion.one_layer_flip_probability(width)
    assert formula == pytest.approx(math.acos((width - 2) / width) / math.pi)
    for gain in (0.5, 4.0):
        simulated = diffusion.mean_flip_probability(diffusion.mlp_avalanche_by_layer(1, width, gain, seed=1)[1])
        assert simulated == pytest.approx(formula, abs=0.01)


def test_network_diffuses_only_above_the_edge_of_chaos():
    """Gain 8 reaches full diffusion within the sweep; at the edge of chaos (gain 1) the share stays low."""
    chaotic = diffusion.mlp_avalanche_by_layer(diffusion.MAX_DEPTH, 32, gain=8.0)
    assert diffusion.first_full_diffusion(chaotic) is not None
    edge = diffusion.mlp_avalanche_by_layer(diffusion.MAX_DEPTH, 32, gain=diffusion.EDGE_OF_CHAOS_GAIN)
    assert diffusion.first_full_diffusion(edge) is None
    assert diffusion.mean_flip_probability(edge[-1]) < 0.25


def test_larger_gain_diffuses_sooner():
    """Width 64: gains 1 and 2 stay short of full diffusion within the sweep; gain 8 gets there before gain 4."""
    depth = {gain: diffusion.first_full_diffusion(diffusion.mlp_avalanche_by_layer(diffusion.MAX_DEPTH, 64, gain))
             for gain in (1.0, 2.0, 4.0, 8.0)}
    assert depth[1.0] is None and depth[2.0] is None
    assert depth[4.0] is not None and depth[8.0] is not None and depth[8.0] < depth[4.0]


def test_round_function_rotations():
    """The notebook's a = h/4 - 1 and b = h/2 + 3: 7 and 19 for 32-bit words."""
    assert diffusion.rotations(32) == (32 // 4 - 1, 32 // 2 + 3) == (7, 19)


def test_network_sweeps_share_their_first_layers():
    """A deeper sweep extends a shallower one (same weights), so the curve is one network, not many."""
    short = diffusion.mlp_avalanche_by_layer(3, 16)
    long = diffusion.mlp_avalanche_by_layer(6, 16)
    np.testing.assert_array_equal(short, long[:4])


# ------------------------------------------------------------------------------------------ exercises





def test_sha256_exercise_expects_the_measured_ratio():
    """The expected ratio is the measured one (not a literal 0.5) and lies within sampling error of the SAC."""
    expected = checks.SHA256_AVALANCHE_RATIO.expected()
    assert expected == diffusion.sha256_avalanche_ratio(diffusion.sample_messages())
    assert abs(expected - SAC_IDEAL) < 0.002
    with pytest.raises(AnswerError, match="count|share"):
        checks.SHA256_AVALANCHE_RATIO.check_value(expected * 256)
    with pytest.raises(AnswerError, match="percentage"):
        checks.SHA256_AVALANCHE_RATIO.check_value(expected * 100)


def test_ideal_feistel_exercise():
    """After two ideal rounds, 32 x 31 pairs are unreached (from the derivation in the notebook)."""
    assert checks.IDEAL_FEISTEL_UNREACHED_PAIRS.expected() == 32 * 31
    with pytest.raises(AnswerError, match="connected"):
        checks.IDEAL_FEISTEL_UNREACHED_PAIRS.check_value(64 * 64 - 32 * 31)
    with pytest.raises(AnswerError, match="one round"):
        checks.IDEAL_FEISTEL_UNREACHED_PAIRS.check_value(diffusion.ideal_feistel_unreached_pairs(1, 32))


def test_toy_rounds_exercise_slips():
    """The ideal-F minimum and the round where only completeness holds get their own hints."""
    expected = checks.TOY_ROUNDS_TO_FULL_DIFFUSION.expected()
    assert expected == diffusion.rounds_to_full_diffusion()
    with pytest.raises(AnswerError, match="ideal"):
        checks.TOY_ROUNDS_TO_FULL_DIFFUSION.check_value(3)
    one_before = diffusion.cipher_avalanche_matrix(int(expected) - 1)
    assert diffusion.never_flipped_pairs(one_before) == 0 and not diffusion.is_full_diffusion(one_before)
    with pytest.raises(AnswerError, match="(?i)both conditions"):
        checks.TOY_ROUNDS_TO_FULL_DIFFUSION.check_value(expected - 1)


def test_one_layer_exercise_slips():
    """Forgetting pi and using 1/n get their own hints."""
    with pytest.raises(AnswerError, match="pi"):
        checks.ONE_LAYER_FLIP_PROBABILITY.check_value(math.acos(62 / 64))
    with pytest.raises(AnswerError, match="input"):
        checks.ONE_LAYER_FLIP_PROBABILITY.check_value(1 / 64)


def test_choice_exercise():
    exercise = checks.WHY_NOT_FULL_AVALANCHE
    exercise.check_value(" B ")
    for letter in set(exercise.options) - {exercise.correct}:
        with pytest.raises(AnswerError, match="not this one"):
            exercise.check_value(letter)
        assert exercise.hints[letter]
    with pytest.raises(AnswerError):
        exercise.check_value("e")


@pytest.mark.parametrize("value", [None, "0.5", True, [0.5], float("nan")])
def test_non_numbers_are_rejected(value):
    with pytest.raises(AnswerError, match="sha256_avalanche_ratio"):
        checks.SHA256_AVALANCHE_RATIO.check_value(value)


# ------------------------------------------------------------------------------------------- explorer

def test_view_agrees_with_the_model():
    """The curves and heat map are the model's matrices."""
    view = diffusion_view(system="cipher", depth=2, width=16, gain=4.0)
    sweep = diffusion.cipher_avalanche_by_round(diffusion.MAX_DEPTH, 16)
    np.testing.assert_array_equal(view.heat, sweep[2])
    assert view.cipher_mean == pytest.approx([m.mean() for m in sweep])
    assert view.current_mean == pytest.approx(sweep[2].mean())
    network = diffusion_view(system="network", depth=5, width=32, gain=2.0)
    assert network.heat.shape == (32, 32)
    np.testing.assert_array_equal(network.heat, diffusion.mlp_avalanche_by_layer(diffusion.MAX_DEPTH, 32, 2.0)[5])
    sha = diffusion_view(system="sha256", depth=0, width=16, gain=4.0)
    assert sha.heat.shape == (256, 256) and sha.sha256_ratio == pytest.approx(sha.heat.mean())


def test_slider_moves_redraw_in_place():
    """One figure, one AxesImage updated with set_data; the heat map follows depth, width and system."""
    explorer = diffusion_explorer()
    figure = explorer.figure
    curve_ax, heat_ax = figure.axes[0], figure.axes[1]
    image = heat_ax.images[0]
    lines = list(curve_ax.lines)
    image_before = explorer.image.value
    explorer.controls["depth"].value = 6
    assert explorer.figure is figure and list(heat_ax.images) == [image] and list(curve_ax.lines) == lines
    assert explorer.image.value != image_before and "full diffusion: <b>yes</b>" in explorer.readout.value
    explorer.controls["width"].value = 16
    assert image.get_array().shape == (16, 16) and list(heat_ax.images) == [image]
    explorer.controls["system"].value = "sha256"
    assert image.get_array().shape == (256, 256)
    assert "256 input × 256 output bits" in heat_ax.get_title()
    explorer.controls["system"].value = "network"
    explorer.controls["depth"].value = 7
    assert "random tanh network" in explorer.readout.value and "random tanh network" in heat_ax.get_title()

