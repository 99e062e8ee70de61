"""Segment 03: How pipeline parallelism moves model layers across racks."""

from course.segments import Segment

SEGMENT = Segment(
    number="03",
    assignment="03-pipeline",
    title="How pipeline parallelism moves model layers across racks",
    teaches="pipeline bubbles, sequences in flight, and KV-cache vs weight memory per stage",
    package="pipeline",
)
