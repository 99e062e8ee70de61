"""Flashcards for each segment, a Leitner-box schedule, and an Anki export.

The cards restate the lecture's flashcards (shared/seed) in the course's own words.
Scheduling is pure (``LeitnerSchedule``); the review widget lives in
``course.widgets.flashcards``; the schedule is saved as JSON in the file named by
``COURSE_FLASHCARDS_FILE`` (``make lab`` sets ``my-work/.flashcards.json``).

    python -m course.flashcards export [deck.apkg]    # all cards as an Anki deck, in your workspace

Formulas in cards are written ``$...$`` (MathJax in the lab, ``\\(...\\)`` in the Anki export).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True)
class Card:
    """One question and its answer; ``key`` is stable across course updates."""

    key: str
    segment: str
    question: str
    answer: str


CARDS: tuple[Card, ...] = (
    Card("01-step-time", "01", "What sets the time of one decode step?",
         "The larger of compute time (grows with batch × active parameters) and memory time (the weights once, "
         "plus every sequence's KV cache): $T = \\max(t_\\text{compute}, t_\\text{mem})$."),
    Card("01-no-amortise", "01", "Which costs of a decode step does a bigger batch not amortise?",
         "Each sequence's own arithmetic and its own KV-cache reads; only the weight read is shared."),
    Card("01-300", "01", "About how many FLOPs can a modern accelerator do per byte it reads from HBM?",
         "About 300 (H100 SXM: $989\\ \\text{TFLOP/s} \\div 3.35\\ \\text{TB/s} \\approx 295$)."),
    Card("01-critical-batch", "01", "What batch makes compute time equal weight-loading time for a sparse model?",
         "$B \\approx 300 / s$, with sparsity $s = N_\\text{active} / N_\\text{total}$; the lecture's DeepSeek "
         "figure $s = 32/256$ gives 2,400. V3 really routes 8 of 256 experts, and its ~16.5B always-on "
         "parameters lift the active share to $37/671 = 5.5\\%$: about 5,400."),
    Card("01-precision", "01", "Which weight formats keep the critical batch at ~300/s, and which one halves it?",
         "bf16 weights on bf16 tensor cores and fp8 weights on fp8 tensor cores give the same ratio "
         "$\\frac{F}{bw}\\cdot\\frac{b_w}{2}$; 8-bit weights multiplied on bf16 tensor cores halve the weight "
         "read but not the compute, so the critical batch halves."),
    Card("01-hbm-limit", "01", "When is the critical batch out of reach, whatever the traffic?",
         "When it does not fit: weights + $B \\cdot$ context $\\cdot$ KV bytes per token must fit in the chips' "
         "HBM. DeepSeek-V3 at 1,024 tokens on 16 H100s: about 8,460 sequences fit against a critical batch of "
         "12,588."),
    Card("01-drain", "01", "What is the HBM drain time, and what does a step slower than it tell you?",
         "$t_\\text{drain} = \\text{capacity} / \\text{bandwidth}$ (H100 23.9 ms; Rubin 288 GB / 20 TB/s = "
         "14.4 ms). A step that reads all of HBM reads each byte once, so it takes one drain time; a step that "
         "takes longer is compute-bound, and it is the HBM bandwidth that sits idle. (The seed card said a slower "
         "step leaves FLOPs idle: the reverse.)"),
    Card("02-all-to-all", "02", "Why does MoE routing fit inside one rack so well?",
         "Any token may go to any expert, so the traffic is all-to-all; NVLink inside a rack links every GPU "
         "to every other at full bandwidth."),
    Card("02-scale-out", "02", "How much slower is scale-out than NVLink per GPU, and what does that do to MoE?",
         "Per GPU 9x on H100 (450 vs 50 GB/s), 18x on GB200 NVL72 with 400 Gb/s NICs, 9x again on GB300 NVL72 "
         "with 800 Gb/s (the lecture's ~8x); DeepSeek measured 3.2x on H800s. Past the domain the all-to-all "
         "waits on the NIC, so V3 sends each token to at most 4 nodes and forwards over NVLink."),
    Card("02-wire-format", "02", "How many bytes does one DeepSeek-V3 token move per MoE layer, and why not 229 KB?",
         "$k\\,h\\,(s_\\text{d} + s_\\text{c}) = 8 \\times 7168 \\times (1 + 2) \\approx 172$ KB: V3 dispatches "
         "in FP8 and combines in BF16 (DeepEP). 229 KB is the all-BF16 figure."),
    Card("03-bubbles", "03", "Where do pipeline bubbles come from?",
         "At the start of a batch the last stages wait for work, at the end the first stages have none; "
         "a GPipe schedule with $p$ stages and $m$ micro-batches idles $\\frac{p-1}{m+p-1}$ of the time."),
    Card("03-in-flight", "03", "How many sequences must be in flight to keep $p$ pipeline stages busy in decode?",
         "One micro-batch per stage, so $p$ times as many: concurrent sequences, and their KV cache, scale with $p$."),
    Card("03-kv-limits", "03", "Why is pipelining's value limited at long context?",
         "It divides only the weights by $p$. Keeping $p$ stages busy puts $p\\,b$ sequences in flight and each "
         "stage keeps its $1/p$ of their layers, so KV per stage stays $b \\cdot \\text{ctx} \\cdot \\text{kv}$; "
         "at long context that dominates. (The seed card said each stage holds KV for every in-flight sequence: "
         "only for its own layers.)"),
    Card("03-latency", "03", "Is pipelined decode faster per token than one rack?",
         "No. A token crosses the $p$ stages in turn, each doing $1/p$ of the work, so the time between two tokens "
         "is one rack's step for the same micro-batch. Pipelining multiplies throughput and memory by $p$; only "
         "spreading each layer over more chips cuts the time per token."),
    Card("04-constraints", "04", "Why did Ilya call pipelining 'not wise'?",
         "It constrains architecture: cross-layer tricks (attention to earlier layers' residuals) span stages, "
         "and uneven layers (sliding-window vs global attention) unbalance them; that slows research."),
    Card("04-long-context", "04", "With interleaved local and global layers, what does an even split's efficiency "
         "tend to at long context?",
         "$\\eta \\to \\text{mean}_s\\, g_s / \\max_s g_s$, with $g_s$ the global layers on stage $s$: past the window "
         "only they grow. 61 layers at 5 local : 1 global over 8 stages: 62.5%, though every stage holds 7 or 8 "
         "layers. $\\eta$ is an efficiency (at most 1), unlike segment 5's inefficiency."),
    Card("05-six", "05", "Why does training cost 6 FLOPs per parameter per token?",
         "2 for the forward pass (multiply + add) and 4 for the backward pass, which needs gradients for both "
         "the activations and the weights."),
    Card("05-optimum", "05", "If pre-training, RL and inference trade off, where is the cost optimum?",
         "Roughly where the three budgets are equal. With RL factor 3 and decode inefficiency $\\kappa = 3$ on all RL FLOPs "
         "(the lecture): $D_\\text{pre} = 1.5\\,D_\\text{RL} = D_\\text{inf}$. Only the 2 decoded FLOPs per rollout token "
         "really run at decode MFU; charging $\\kappa$ to them alone gives $D_\\text{pre} = \\tfrac{7}{6}\\,D_\\text{RL}$ "
         "(same $D_\\text{pre}$, more RL tokens)."),
    Card("05-overtrained", "05", "How over-trained is a 100B model that serves 50M tokens/s for 60 days?",
         "$D_\\text{inf} \\approx 2.6 \\times 10^{14}$ (the lecture rounds to ~200T) against Chinchilla's "
         "$20 \\times 100\\text{B} = 2\\text{T}$: about 100x "
         "(130x unrounded). The factor scales as $\\kappa / N$."),
    Card("06-kink", "06", "Why does an API's price per token jump above some context length?",
         "For output tokens: below it decode is compute-bound (flat cost); above it KV-cache reads dominate and cost "
         "grows with context, so compare it with the output step. Input tokens are prefill, compute-bound, dearer "
         "with context through attention FLOPs: that is the input step."),
    Card("06-kv-bytes", "06", "What KV size per token does a price kink at 200K tokens imply for a 100B-active model?",
         r"$\text{bytes/token} \approx \frac{1}{300} \cdot \frac{N_\text{active}}{\text{ctx}} = "
         r"\frac{10^{11}}{300 \times 2 \times 10^{5}} \approx 1.7\ \text{KB}$."),
    Card("06-mfu", "06", "Why is decode MFU far below prefill MFU?",
         "Prefill amortises each weight fetch over the whole prompt; decode fetches all weights for one token per "
         "sequence and waits on memory. The lecture's ~1/5 means decoding at a fifth of the critical batch; DeepSeek's "
         "14.8k/73.7k tokens/s is 0.20; Pope et al. measured about 1/2 to 1/3."),
    Card("06-load", "06", "Is it cheaper to reload a KV cache from memory or to recompute it?",
         "To reload it: reading the bytes takes far less time than redoing the prefill's FLOPs."),
    Card("07-diffusion", "07", "What do ciphers and neural networks both need from their layers?",
         "Diffusion: every output must depend on every input, in complicated ways."),
    Card("07-sac", "07", "What does the Strict Avalanche Criterion ask, and is a mean flip share of 1/2 enough?",
         "Webster and Tavares (1985): flipping any one input bit flips *every* output bit with probability 1/2. A "
         "mean of 1/2 is not enough: it can hide entries at 0 and 1. Measured, the entries should spread no more "
         "than sampling noise, $\\sqrt{1/(4S)}$."),
    Card("07-direction", "07", "How are the goals of cryptography and neural networks opposite?",
         "A cipher turns structured input into something indistinguishable from random; a network finds the "
         "structure in input that may look random."),
)


def cards_for(segment: str) -> list[Card]:
    """The cards of one segment ("01" to "07")."""
    return [card for card in CARDS if card.segment == segment]


BOXES = 5
"""Leitner boxes; a card in box k comes back after 2**(k-1) review sessions (box 1: this session again)."""


@dataclass(frozen=True)
class LeitnerSchedule:
    """Which box each card is in, when it was last seen, and the session counter (immutable)."""

    boxes: dict[str, int] = field(default_factory=dict)
    last_seen: dict[str, int] = field(default_factory=dict)
    session: int = 0

    def box(self, key: str) -> int:
        """The card's box, 1 (new or forgotten) to BOXES."""
        return self.boxes.get(key, 1)

    def is_due(self, key: str) -> bool:
        """A card is due when it is new or its box's interval has passed."""
        if key not in self.last_seen:
            return True
        return self.session - self.last_seen[key] >= 2 ** (self.box(key) - 1)

    def due(self, cards: list[Card]) -> list[Card]:
        """Cards due now, lowest box first."""
        return sorted((c for c in cards if self.is_due(c.key)), key=lambda c: self.box(c.key))

    def answer(self, key: str, knew_it: bool) -> "LeitnerSchedule":
        """Move a card up one box if known, back to box 1 if not."""
        box = min(self.box(key) + 1, BOXES) if knew_it else 1
        return replace(self, boxes={**self.boxes, key: box}, last_seen={**self.last_seen, key: self.session})

    def next_session(self) -> "LeitnerSchedule":
        """Start a new review session."""
        return replace(self, session=self.session + 1)


ENV_VAR = "COURSE_FLASHCARDS_FILE"


def schedule_file() -> Path | None:
    """Where the learner's schedule is kept, or None outside a learner's lab."""
    value = os.environ.get(ENV_VAR)
    return Path(value) if value else None


def load_schedule(path: Path | None) -> LeitnerSchedule:
    """The saved schedule, or a fresh one if there is none or it cannot be read."""
    if path is None or not path.exists():
        return LeitnerSchedule()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return LeitnerSchedule(boxes={k: int(v) for k, v in data["boxes"].items()},
                               last_seen={k: int(v) for k, v in data["last_seen"].items()},
                               session=int(data["session"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return LeitnerSchedule()


def save_schedule(schedule: LeitnerSchedule, path: Path | None) -> None:
    """Write the schedule atomically; nothing without a path."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"boxes": schedule.boxes, "last_seen": schedule.last_seen,
                                     "session": schedule.session}, indent=1, sort_keys=True), encoding="utf-8")
    temporary.replace(path)


ANKI_DECK_ID = 1_742_003_117
ANKI_MODEL_ID = 1_742_003_118
DEFAULT_EXPORT = "llm-inference-flashcards.apkg"
"""The deck's file name when the learner names none (in their workspace)."""

INLINE_MATH = re.compile(r"\$([^$]+)\$")


def anki_text(text: str) -> str:
    """A card's text for Anki: HTML-escaped, ``$...$`` turned into Anki's MathJax ``\\(...\\)``."""
    return INLINE_MATH.sub(lambda m: f"\\({m.group(1)}\\)", html.escape(text, quote=False))


def export_anki(path: Path) -> int:
    """Write every card to an Anki package at ``path``; return the number of cards."""
    import genanki

    model = genanki.Model(ANKI_MODEL_ID, "LLM inference economics card",
                          fields=[{"name": "Question"}, {"name": "Answer"}, {"name": "Segment"}],
                          templates=[{"name": "Card 1", "qfmt": "{{Question}}",
                                      "afmt": "{{FrontSide}}<hr id=answer>{{Answer}}"}])
    deck = genanki.Deck(ANKI_DECK_ID, "Economics of LLM inference")
    for card in CARDS:
        deck.add_note(genanki.Note(model=model, fields=[anki_text(card.question), anki_text(card.answer),
                                                        card.segment],
                                   guid=genanki.guid_for(card.key), tags=[f"segment-{card.segment}"]))
    genanki.Package(deck).write_to_file(str(path))
    return len(CARDS)


def default_workspace() -> Path:
    """The learner's workspace: where the lab keeps the schedule, else the repository's ``my-work/``."""
    schedule = schedule_file()
    return schedule.parent if schedule is not None else Path(__file__).resolve().parent.parent / "my-work"


def export_path(named: Path | None, workspace: Path) -> Path:
    """Where the deck goes: ``named`` if absolute, else inside ``workspace`` (the default name if none).

    Raises ValueError for a path directly in the repository's root, which belongs to the course.
    """
    path = named if named is not None and named.is_absolute() else workspace / (named or DEFAULT_EXPORT)
    repo = Path(__file__).resolve().parent.parent
    if path.resolve().parent == repo:
        raise ValueError(f"{path}: the repository root belongs to the course; name a path in your workspace "
                         f"({workspace}) or outside the repository")
    return path


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m course.flashcards export [PATH] [--workspace DIR]``."""
    parser = argparse.ArgumentParser(description="Export the course's flashcards.")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="write all cards as an Anki deck (.apkg)")
    export.add_argument("path", type=Path, nargs="?",
                        help=f"where to write it; a relative path is inside your workspace (default {DEFAULT_EXPORT})")
    export.add_argument("--workspace", type=Path, default=None, help="your workspace (default: my-work/)")
    args = parser.parse_args(argv)
    try:
        path = export_path(args.path, args.workspace or default_workspace())
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"wrote {export_anki(path)} cards to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
