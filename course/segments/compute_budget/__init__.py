"""Segment 05: Because of RL, models may be 100x over-trained."""

from course.segments import Segment

SEGMENT = Segment(
    number="05",
    assignment="05-rl-overtraining",
    title="Because of RL, models may be 100x over-trained",
    teaches="pre-training, RL and inference compute, the equal-cost optimum, Chinchilla tokens",
    package="compute_budget",
)
