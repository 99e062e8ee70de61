"""Segment 07: Convergent evolution between neural nets and cryptography."""

from course.segments import Segment

SEGMENT = Segment(
    number="07",
    assignment="07-nn-crypto",
    title="Convergent evolution between neural nets and cryptography",
    teaches=(
        "diffusion and the avalanche effect (Strict Avalanche Criterion) in a toy cipher, SHA-256 and a "
        "random neural network"
    ),
    package="diffusion",
)
