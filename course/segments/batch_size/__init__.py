"""Segment 01: How batch size affects token cost and speed."""

from course.segments import Segment

SEGMENT = Segment(
    number="01",
    assignment="01-batch-size",
    title="How batch size affects token cost and speed",
    teaches=(
        "the decode-step roofline (overlap and additive), the critical batch 300/sparsity and how precision "
        "moves it, the HBM drain time, the largest batch that fits, MoE expert reads, cost per token"
    ),
    package="batch_size",
)
