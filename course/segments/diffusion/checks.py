"""Exercises of segment 7, "Convergent evolution between neural nets and cryptography"."""

from __future__ import annotations

import math

from course.exercise import ChoiceExercise, Exercise, Mistake
from course.variants import Family
from course.models import diffusion

HINT_SHARE_NOT_COUNT = ("That looks like a number of flipped bits, not a share: divide the flipped digest bits by "
                        "the 256 bits a digest has (and by the number of flips you made).")
HINT_PERCENT = "That looks like a percentage: give the share as a fraction between 0 and 1."
HINT_DIGEST_BITS = ("Off by exactly a factor of 2: a SHA-256 digest has 256 bits (32 bytes); check what you "
                    "divided by, and that each message bit is flipped once.")


def _sha256_ratio() -> float:
    return diffusion.sha256_avalanche_ratio(diffusion.sample_messages())


SHA256_AVALANCHE_RATIO = Exercise(
    variable="sha256_avalanche_ratio",
    unit="fraction of digest bits (0 to 1)",
    expected=_sha256_ratio,
    rel_tol=0.02,
    mistakes=(
        Mistake(lambda e: e * diffusion.SHA256_DIGEST_BITS, HINT_SHARE_NOT_COUNT),
        Mistake(lambda e: e * 100, HINT_PERCENT),
        Mistake(lambda e: e * 2, HINT_DIGEST_BITS),
        Mistake(lambda e: e / 2, HINT_DIGEST_BITS),
    ),
    magnitude=(1e-3, 1e3),
)
"""Share of SHA-256 digest bits that flip per single message-bit flip, over the seeded message set [fraction]."""

UNREACHED_ROUNDS = 2
"""Rounds of the ideal-F Feistel exercise [rounds]."""

UNREACHED_WORD_BITS = diffusion.DEFAULT_BLOCK_BITS // 2
"""Word size of the ideal-F Feistel exercise: half of a 64-bit block [bits]."""


def _unreached(rounds: int = UNREACHED_ROUNDS) -> float:
    return float(diffusion.ideal_feistel_unreached_pairs(rounds, UNREACHED_WORD_BITS))


def _all_pairs() -> int:
    return (2 * UNREACHED_WORD_BITS) ** 2


IDEAL_FEISTEL_UNREACHED_PAIRS = Exercise(
    variable="unreached_pairs_after_2_rounds",
    unit="(input bit, output bit) pairs",
    expected=_unreached,
    rel_tol=0.001,
    mistakes=(
        Mistake(lambda e: _all_pairs() - e,
                "You counted the pairs that *are* connected; the question asks for those with no path."),
        Mistake(lambda e: _unreached(1),
                "That is the count after one round. Apply the round L' = R, R' = L xor F(R) a second time."),
        Mistake(lambda e: e + UNREACHED_WORD_BITS,
                "Left-word input bit i *does* reach output bit i of the new left word: it passes through the "
                "xor unchanged, even though F never sees it."),
        Mistake(lambda e: e * 2,
                "Check the right word after two rounds: it went through F of a word that already depends on "
                "every input bit, so it has no unreached pairs."),
    ),
    magnitude=(1, 1e5),
)
"""(input, output) bit pairs a 64-bit Feistel block with an ideal F leaves unconnected after 2 rounds [pairs]."""


def _toy_rounds() -> float:
    rounds = diffusion.rounds_to_full_diffusion()
    if rounds is None:
        raise RuntimeError("the toy cipher never reaches full diffusion within the sweep")
    return float(rounds)


TOY_ROUNDS_TO_FULL_DIFFUSION = Exercise(
    variable="toy_rounds_to_full_diffusion",
    unit="rounds",
    expected=_toy_rounds,
    rel_tol=0.01,
    mistakes=(
        Mistake(lambda e: float(diffusion.ideal_feistel_rounds_to_complete(UNREACHED_WORD_BITS)),
                "That is the minimum for a Feistel network with an *ideal* round function. The toy's ARX "
                "function is far weaker: measure its avalanche matrix round by round."),
        Mistake(lambda e: e - 1,
                "At that round every input bit does flip every output bit at least once, but the mean flip "
                "probability is still more than 0.02 away from one half. Both conditions must hold."),
        Mistake(lambda e: e + 1,
                "Off by one: the matrices of `cipher_avalanche_by_round` start at index 0 = no rounds, so the "
                "index of the first full matrix already is the number of rounds."),
        Mistake(lambda e: e * 2,
                "Off by a factor of 2: one round is one application of L' = R, R' = L xor F(R), which updates a "
                "single word; do not count the two words (or a pair of rounds) separately."),
    ),
    magnitude=(1, 100),
)
"""Fewest rounds after which the 64-bit toy cipher meets the course's definition of full diffusion [rounds]."""

NETWORK_WIDTH = 64
"""Width of the random network in the one-layer exercise [units = input bits]."""


def _one_layer() -> float:
    return diffusion.one_layer_flip_probability(NETWORK_WIDTH)


ONE_LAYER_FLIP_PROBABILITY = Exercise(
    variable="one_layer_flip_probability",
    unit="probability (0 to 1)",
    expected=_one_layer,
    rel_tol=0.01,
    mistakes=(
        Mistake(lambda e: math.acos((NETWORK_WIDTH - 2) / NETWORK_WIDTH),
                "You left out the division by pi: arccos gives an angle in radians, and the flip probability is "
                "that angle as a share of pi."),
        Mistake(lambda e: math.degrees(math.acos((NETWORK_WIDTH - 2) / NETWORK_WIDTH)) / math.pi,
                "Your arccos returned degrees; use radians (math.acos does)."),
        Mistake(lambda e: 1 / NETWORK_WIDTH,
                "That is the share of *input* bits you flipped. Every unit sums all 64 inputs, so every output "
                "sign can change: use the correlation between z and z'."),
        Mistake(lambda e: diffusion.sheppard_flip_probability((NETWORK_WIDTH - 1) / NETWORK_WIDTH),
                "Flipping x_k from +1 to -1 changes the sum by 2 w_k x_k, not w_k x_k: redo the covariance of z "
                "and z'."),
        Mistake(lambda e: e * 2,
                "Off by exactly a factor of 2: the probability that two signs differ is arccos(rho) / pi, "
                "not 2 arccos(rho) / pi."),
    ),
    magnitude=(1e-4, 1e3),
)
"""Expected share of a random 64-unit layer's sign bits that flip when one ±1 input flips [probability]."""

WHY_NOT_FULL_AVALANCHE = ChoiceExercise(
    variable="why_not_full_avalanche",
    options={
        "a": "tanh saturates, so no network can push its flip share close to one half, whatever its weights are.",
        "b": "Learning needs similar inputs to map to similar outputs; a cipher makes every input look unrelated.",
        "c": "Full avalanche would need more layers than a GPU can hold in memory, even for a very narrow network.",
        "d": "The avalanche effect is only defined for bits, while networks compute with real numbers throughout.",
    },
    correct="b",
    hints={
        "a": "Look at the explorer with a large gain: the random tanh network does approach one half with depth.",
        "c": "With a large gain the random network in the explorer reaches full diffusion within its 24 narrow "
             "layers, far fewer and smaller than real models have.",
        "d": "We read each unit's sign as a bit and measured the avalanche matrix of the network just as for "
             "the cipher.",
    },
)
"""Why a trained network should not behave like a cipher (choice)."""

WIDTH_BEFORE, WIDTH_AFTER = 64, 128
"""Exercise 7: the random layer's width doubles from 64 to 128 [units]."""


def _width_change() -> float:
    return diffusion.one_layer_flip_probability(WIDTH_AFTER) / diffusion.one_layer_flip_probability(WIDTH_BEFORE)


ONE_LAYER_WIDTH_CHANGE = Exercise(
    variable="one_layer_width_change",
    unit="times the width-64 flip probability (dimensionless)",
    expected=_width_change,
    rel_tol=0.01,
    mistakes=(
        Mistake(lambda e: WIDTH_BEFORE / WIDTH_AFTER,
                "That assumes the flip share falls like 1/n. For large n, arccos(1 - 2/n) is about 2/sqrt(n): "
                "it falls like 1/sqrt(n)."),
        Mistake(lambda e: 1.0, "The gain cancels out of the formula, but the width does not: rho = (n - 2)/n."),
        Mistake(lambda e: 1 / e, "Upside down: a wider layer flips a *smaller* share of its signs."),
        Mistake(lambda e: 2 * e, "You doubled the count with the width: the question asks for the share of signs."),
    ),
    magnitude=(1e-4, 1e4),
)
"""One-layer flip probability at width 128 over width 64: about 1/sqrt(2) [x]."""

SAC_ARGUMENT = ChoiceExercise(
    variable="sac_argument_error",
    options={
        "a": "SAC is a test for hash functions only; a block cipher is judged by its key schedule.",
        "b": "SAC asks every entry A_ij to be one half; a mean of one half can hide 0s and 1s.",
        "c": "A ratio of 0.5 is too high: SAC wants each output bit to flip a quarter of the time.",
        "d": "The avalanche matrix is only defined once diffusion is full, so two rounds mean nothing.",
    },
    correct="b",
    hints={
        "a": "Webster and Tavares stated SAC for S-boxes, the building blocks of block ciphers; it applies to any "
             "function from bits to bits.",
        "c": "A random function flips each output bit with probability one half: that is the ideal SAC asks for.",
        "d": "A_ij is defined for any function and any number of rounds; at round 0 it is the identity.",
    },
)
"""Find the error in 'mean flip share 0.5 after 2 rounds, so the cipher meets SAC' (choice)."""


# --- families: the same skills on each learner's own numbers ----------------------------------------------

LAYER_WIDTHS = (16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896,
                1024)
"""Widths the layer-flips family may draw [units]."""

FLIPPED_INPUTS = (1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 20, 24, 32)
"""Input signs the layer-flips family may flip at once [count]; at most a quarter of the width."""


def _draw_width(rng) -> dict:
    width = rng.choice(LAYER_WIDTHS)
    return {"width": width, "flipped": rng.choice([k for k in FLIPPED_INPUTS if 4 * k <= width])}


def _my_layer_flips(p, *, change_per_flip: float = 2.0) -> float:
    """Expected flipped output signs: z and z' have correlation (n - c k) / n, c = 2 [count]."""
    n, k = p["width"], p["flipped"]
    return n * diffusion.sheppard_flip_probability((n - change_per_flip * k) / n)


MY_LAYER_FLIPS = Family(
    key="07-layer-flips",
    variable="my_flipped_signs",
    unit="output signs (expected count)",
    draw=_draw_width,
    statement=("A random tanh layer of width **{width}** (square weights, entries from N(0, g^2/{width})) receives "
               "{width} values of +-1, and **{flipped}** of them flip sign at once. How many of its {width} output "
               "signs flip, on average? Set `my_flipped_signs` (an expected count, not a share)."),
    answer=_my_layer_flips,
    mistakes=lambda p: (
        Mistake(lambda e: e / p["width"], "That is the share of signs; the question asks how many flip."),
        Mistake(lambda e: e * math.pi, "You left out the division by pi: arccos gives an angle, and the flip "
                                       "probability is that angle as a share of pi."),
        Mistake(lambda e: _my_layer_flips(p, change_per_flip=1.0),
                "Flipping x_k changes the sum by 2 w_k x_k, not w_k x_k: redo the correlation of z and z'."),
        Mistake(lambda e: p["flipped"] * _my_layer_flips({**p, "flipped": 1}),
                "Flips do not add up one by one: put all the flipped inputs into one correlation, "
                "(n - 2k) / n, and apply Sheppard's formula once."),
        Mistake(lambda e: p["width"] / 2, "One half is what a random function (or a cipher) flips; one random "
                                          "layer flips far fewer."),
    ),
    rel_tol=0.01,
    magnitude=(1e-3, 1e5),
)
"""Exercise 4b: expected flipped output signs of one random layer of the learner's width and flipped inputs [count]."""


FEISTEL_BLOCK_BITS = tuple(range(16, 1024 + 1, 8))
"""Block widths the Feistel family may draw: whole bytes, 16 to 1,024 bits [bits]."""


def _draw_feistel(rng) -> dict:
    block_bits = rng.choice(FEISTEL_BLOCK_BITS)
    return {"block_bits": block_bits, "word_bits": block_bits // 2, "rounds": rng.choice([1, 2])}


def _my_unreached(p) -> float:
    return float(diffusion.ideal_feistel_unreached_pairs(p["rounds"], p["block_bits"] // 2))


MY_UNREACHED = Family(
    key="07-unreached-pairs",
    variable="my_unreached_pairs",
    unit="(input bit, output bit) pairs",
    draw=_draw_feistel,
    statement=("A Feistel cipher with a **{block_bits}-bit** block (two {word_bits}-bit words) and an *ideal* round "
               "function runs **{rounds}** round(s). How many (input bit, output bit) pairs have no path from the "
               "input bit to the output bit yet? Set `my_unreached_pairs` (pairs)."),
    answer=_my_unreached,
    mistakes=lambda p: (
        Mistake(lambda e: p["block_bits"] ** 2 - e,
                "You counted the pairs that *are* connected; the question asks for those with no path."),
        Mistake(lambda e: e + p["block_bits"] // 2 if p["rounds"] == 2 else e - p["block_bits"] // 2,
                "Check the xor: left-word bit i reaches bit i of the new right word even though F never sees it."),
        Mistake(lambda e: float(diffusion.ideal_feistel_unreached_pairs(3 - p["rounds"], p["block_bits"] // 2)),
                "That is the count for the other number of rounds: apply L' = R, R' = L xor F(R) exactly as many "
                "times as asked."),
    ),
    rel_tol=0.001,
    magnitude=(1, 1e7),
)
"""Exercise 2b: unconnected pairs of an ideal-F Feistel cipher for the learner's block size and rounds [pairs]."""

EXERCISES = (
    SHA256_AVALANCHE_RATIO,
    IDEAL_FEISTEL_UNREACHED_PAIRS,
    MY_UNREACHED,
    TOY_ROUNDS_TO_FULL_DIFFUSION,
    ONE_LAYER_FLIP_PROBABILITY,
    MY_LAYER_FLIPS,
    WHY_NOT_FULL_AVALANCHE,
    ONE_LAYER_WIDTH_CHANGE,
    SAC_ARGUMENT,
)
"""Every autograded exercise of the segment, in notebook order (the written answer is graded by hand)."""
