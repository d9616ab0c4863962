"""Token sizes for demo generations, sampled from the shipped real-traffic quantiles.

``token_shapes.json`` holds 101 quantiles of prompt (``ContextTokens``) and answer
(``GeneratedTokens``) sizes of a coding and a conversation service, derived by
``derive_shapes.py`` from the Azure LLM inference trace 2023 (CC-BY 4.0; the
attribution travels inside the file).
"""

from __future__ import annotations

import json
import random
from functools import lru_cache
from pathlib import Path

SHAPES_PATH = Path(__file__).with_name("token_shapes.json")
PROMPT = "ContextTokens"
ANSWER = "GeneratedTokens"


class TokenShapes:
    """Inverse-CDF sampler over piecewise-linear quantile curves."""

    def __init__(self, shapes: dict) -> None:
        self.attribution: str = shapes["attribution"]
        self._curves: dict[tuple[str, str], tuple[float, ...]] = {
            (service, column): tuple(values)
            for service, columns in shapes["services"].items()
            for column, values in columns.items()
            if isinstance(values, list)
        }

    def sample(self, rng: random.Random, service: str, column: str) -> int:
        """One token count (at least 1) drawn from the ``service``/``column`` distribution."""
        curve = self._curves[(service, column)]
        position = rng.random() * (len(curve) - 1)
        low = int(position)
        value = curve[low] + (curve[low + 1] - curve[low]) * (position - low)
        return max(1, round(value))

    def prompt(self, rng: random.Random, service: str) -> int:
        return self.sample(rng, service, PROMPT)

    def answer(self, rng: random.Random, service: str) -> int:
        return self.sample(rng, service, ANSWER)


@lru_cache(maxsize=1)
def token_shapes() -> TokenShapes:
    return TokenShapes(json.loads(SHAPES_PATH.read_text()))
