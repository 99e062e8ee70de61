"""The course's segments: assignment name, title, what each teaches, and its checks module."""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    """One lecture segment and its nbgrader assignment."""

    number: str
    assignment: str
    title: str
    teaches: str
    checks_module: str

    def exercises(self) -> tuple:
        """The segment's exercise definitions (empty if its checks module is not written yet)."""
        try:
            module = importlib.import_module(f"course.checks.{self.checks_module}")
        except ModuleNotFoundError:
            return ()
        return tuple(getattr(module, "EXERCISES", ()))


SEGMENTS: tuple[Segment, ...] = (
    Segment("01", "01-batch-size", "How batch size affects token cost and speed",
            "the decode-step roofline, the critical batch 300/sparsity, the HBM drain time, cost per token",
            "batch_size"),
    Segment("02", "02-moe-racks", "How MoE models are laid out across GPU racks",
            "all-to-all traffic of expert parallelism inside an NVLink domain and across racks", "moe"),
    Segment("03", "03-pipeline", "How pipeline parallelism moves model layers across racks",
            "pipeline bubbles, sequences in flight, and KV-cache vs weight memory per stage", "pipeline"),
    Segment("04", "04-pipelining-not-wise", "Why pipelining is not wise",
            "stage imbalance from mixed attention layers and cross-stage residual traffic", "imbalance"),
    Segment("05", "05-rl-overtraining", "Because of RL, models may be 100x over-trained",
            "pre-training, RL and inference compute, the equal-cost optimum, Chinchilla tokens", "compute_budget"),
    Segment("06", "06-api-pricing", "Deducing inference memory costs from API pricing",
            "cost vs context length, the KV bytes/token a price kink implies, decode vs prefill MFU",
            "context_cost"),
    Segment("07", "07-nn-crypto", "Convergent evolution between neural nets and cryptography",
            "diffusion and the avalanche effect in a toy cipher, SHA-256 and a random neural network",
            "diffusion"),
)
