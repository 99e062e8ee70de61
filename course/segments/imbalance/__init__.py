"""Segment 04: Why pipelining is not wise."""

from course.segments import Segment

SEGMENT = Segment(
    number="04",
    assignment="04-pipelining-not-wise",
    title="Why pipelining is not wise",
    teaches=(
        "stage imbalance from mixed attention layers, its long-context limit, and cross-stage residual "
        "traffic"
    ),
    package="imbalance",
)
