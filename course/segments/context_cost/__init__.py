"""Segment 06: Deducing inference memory costs from API pricing."""

from course.segments import Segment

SEGMENT = Segment(
    number="06",
    assignment="06-api-pricing",
    title="Deducing inference memory costs from API pricing",
    teaches=(
        "decode cost vs context against output price tiers, prefill cost against input tiers, the KV "
        "bytes/token a price kink implies, decode vs prefill MFU, prefix caching"
    ),
    package="context_cost",
)
