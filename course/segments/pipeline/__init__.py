"""Segment 03: How pipeline parallelism moves model layers across racks."""

from course.segments import Segment

SEGMENT = Segment(
    number="03",
    assignment="03-pipeline",
    title="How pipeline parallelism moves model layers across racks",
    teaches=(
        "pipeline bubbles, sequences in flight, KV cache vs weights per stage, why pipelining adds throughput"
        " but not speed"
    ),
    package="pipeline",
)
