"""Segment 06: Deducing inference memory costs from API pricing."""

from course.segments import Segment

SEGMENT = Segment(
    number="06",
    assignment="06-api-pricing",
    title="Deducing inference memory costs from API pricing",
    teaches="cost vs context length, the KV bytes/token a price kink implies, decode vs prefill MFU",
    package="context_cost",
)
