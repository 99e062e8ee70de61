"""Published long-context API price tiers [USD per million tokens].

Source: each provider's public pricing page as collected in the course's
reference figures (shared/reference/facts.md, "Long-context API prices").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PriceTier:
    """A two-tier price: one rate up to a context threshold, another above it.

    Attributes:
        model: product name.
        threshold_tokens: prompt length where the long-context price starts [tokens].
        input_short, output_short: price at or below the threshold [USD / 1e6 tokens].
        input_long, output_long: price above the threshold [USD / 1e6 tokens].
    """

    model: str
    threshold_tokens: int
    input_short: float
    output_short: float
    input_long: float
    output_long: float


GEMINI_2_5_PRO = PriceTier("Gemini 2.5 Pro", 200_000, 1.25, 10.0, 2.50, 15.0)
GEMINI_1_5_PRO = PriceTier("Gemini 1.5 Pro", 128_000, 1.25, 5.0, 2.50, 10.0)
CLAUDE_SONNET_4 = PriceTier("Claude Sonnet 4/4.5 (1M context)", 200_000, 3.0, 15.0, 6.0, 22.50)

PRICE_TIERS: dict[str, PriceTier] = {
    "gemini-2.5-pro": GEMINI_2_5_PRO,
    "gemini-1.5-pro": GEMINI_1_5_PRO,
    "claude-sonnet-4": CLAUDE_SONNET_4,
}
