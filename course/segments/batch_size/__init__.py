"""Segment 01: How batch size affects token cost and speed."""

from course.segments import Segment

SEGMENT = Segment(
    number="01",
    assignment="01-batch-size",
    title="How batch size affects token cost and speed",
    teaches="the decode-step roofline, the critical batch 300/sparsity, the HBM drain time, cost per token",
    package="batch_size",
)
