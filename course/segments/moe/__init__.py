"""Segment 02: How MoE models are laid out across GPU racks."""

from course.segments import Segment

SEGMENT = Segment(
    number="02",
    assignment="02-moe-racks",
    title="How MoE models are laid out across GPU racks",
    teaches=(
        "all-to-all traffic of expert parallelism inside an NVLink domain and across racks, FP8 dispatch, "
        "node-limited routing, 400 vs 800 Gb/s scale-out"
    ),
    package="moe",
)
