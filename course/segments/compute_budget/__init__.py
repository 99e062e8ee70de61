"""Segment 05: Because of RL, models may be 100x over-trained."""

from course.segments import Segment

SEGMENT = Segment(
    number="05",
    assignment="05-rl-overtraining",
    title="Because of RL, models may be 100x over-trained",
    teaches=(
        "pre-training, RL and inference compute, the equal-cost optimum under two readings of the RL penalty,"
        " Chinchilla tokens, over-training"
    ),
    package="compute_budget",
)
