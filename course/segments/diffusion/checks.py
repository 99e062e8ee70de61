"""Exercises of segment 7, "Convergent evolution between neural nets and cryptography"."""

from __future__ import annotations

import math

from course.exercise import ChoiceExercise, Exercise, Mistake
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
        "a": "tanh saturates, so no network can push the flip share close to one half, whatever its weights.",
        "b": "A useful network must send similar inputs to similar outputs, so that what it learned from one "
             "example carries over to its neighbours. A function that flips half its output bits for any "
             "one-bit change makes every input look unrelated to every other: ideal for a cipher, useless "
             "for learning.",
        "c": "Full avalanche would need more layers than a GPU can hold in memory.",
        "d": "The avalanche effect is only defined for bits, and networks compute with real numbers.",
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

EXERCISES = (
    SHA256_AVALANCHE_RATIO,
    IDEAL_FEISTEL_UNREACHED_PAIRS,
    TOY_ROUNDS_TO_FULL_DIFFUSION,
    ONE_LAYER_FLIP_PROBABILITY,
    WHY_NOT_FULL_AVALANCHE,
)
"""Every autograded exercise of the segment, in notebook order (the written answer is graded by hand)."""
