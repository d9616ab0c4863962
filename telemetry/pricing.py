"""What a generation costs (docs/metrics.md, "Tokens" and "Cost").

Order of precedence: a cost sent with the span (``provided``), the organization's
own price for the model (``override``), the bundled ``genai-prices`` catalog for
provider + model + the call's date (``catalog``), else 0 and ``unpriced``.

Token convention: ``input`` includes cached tokens (cache read and cache write);
cached tokens are priced at their own rate and never added on top a second time.
The catalog is the snapshot shipped inside the package: nothing is fetched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache

import genai_prices
from genai_prices.types import TieredPrices

from telemetry.models import CostSource
from telemetry.timeutil import from_us

# OpenTelemetry provider names (gen_ai.provider.name / gen_ai.system) -> catalog ids.
_PROVIDER_ALIASES = {
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "gemini": "google",
    "vertex_ai": "google",
    "google_genai": "google",
    "mistral_ai": "mistral",
    "mistralai": "mistral",
    "aws.bedrock": "aws",
    "bedrock": "aws",
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "az.ai.openai": "azure",
    "az.ai.inference": "azure",
    "x_ai": "x-ai",
    "xai": "x-ai",
    "ibm.watsonx.ai": "ibm",
    "cohere": "cohere",
    "deepseek": "deepseek",
    "groq": "groq",
    "perplexity": "perplexity",
}
_TOKEN_PRICE_KEYS = {"input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok"}
# Units our usage never carries (audio, searches, 1-hour cache writes), so they
# cannot change the price of a text-token usage.
_IGNORABLE_KEYS = {
    "web_searches_kcount",
    "storage_searches_kcount",
    "cache_write_1h_mtok",
    "input_audio_mtok",
    "cache_audio_read_mtok",
    "output_audio_mtok",
}
_MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class TokenUsage:
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0

    def __post_init__(self) -> None:
        for name in ("input", "output", "cache_read", "cache_write"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} tokens cannot be negative ({getattr(self, name)})")

    @property
    def uncached_input(self) -> int:
        return max(self.input - self.cache_read - self.cache_write, 0)


@dataclass(frozen=True)
class Price:
    """USD per million tokens. Missing cache rates fall back to the input rate."""

    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None

    def cost(self, usage: TokenUsage) -> float:
        read_rate = self.input if self.cache_read is None else self.cache_read
        write_rate = self.input if self.cache_write is None else self.cache_write
        total = (
            usage.uncached_input * self.input
            + usage.cache_read * read_rate
            + usage.cache_write * write_rate
            + usage.output * self.output
        )
        return total / 1_000_000


def catalog_provider_id(provider: str) -> str:
    key = provider.strip().lower()
    return _PROVIDER_ALIASES.get(key, key)


@lru_cache(maxsize=4096)
def _catalog_model_price(provider: str, model: str, day: str):
    """The catalog's price set for a model on a day and whether it is token-only, or None."""
    when = datetime.fromisoformat(day).replace(tzinfo=UTC)
    usage = genai_prices.Usage(input_tokens=0, output_tokens=0)
    attempts = [catalog_provider_id(provider), None] if provider else [None]
    for provider_id in attempts:
        try:
            calc = genai_prices.calc_price(
                usage, model, provider_id=provider_id, genai_request_timestamp=when
            )
        except LookupError:
            continue
        return calc.model_price, _is_token_only(calc.model_price)
    return None


def _rate(value, total_input: int) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, TieredPrices):
        rate = value.base
        for tier in value.tiers:  # sorted ascending; crossing a tier reprices all tokens
            if total_input > tier.start:
                rate = tier.price
        return rate
    raise TypeError(f"unexpected price value {value!r}")


def _is_token_only(model_price) -> bool:
    keys = {k for k, v in model_price.__dict__.items() if v is not None and not k.startswith("_")}
    return keys <= _TOKEN_PRICE_KEYS | _IGNORABLE_KEYS and "input_mtok" in keys


def catalog_cost(provider: str, model: str, usage: TokenUsage, when_us: int) -> float | None:
    """Cost from the bundled genai-prices catalog, or None when the model is not in it."""
    if not model:
        return None
    day = from_us(when_us).date().isoformat()
    found = _catalog_model_price(provider, model, day)
    if found is None:
        return None
    model_price, token_only = found
    if not token_only:
        calc = model_price.calc_price(
            genai_prices.Usage(
                input_tokens=usage.input,
                output_tokens=usage.output,
                cache_read_tokens=usage.cache_read,
                cache_write_tokens=usage.cache_write,
            )
        )
        return float(calc["total_price"] if isinstance(calc, dict) else calc.total_price)
    # Fast path, same arithmetic as genai-prices for plain and tiered token prices:
    # the library call costs ~100 us, too slow for a million generations.
    prices = model_price.__dict__
    input_rate = _rate(prices.get("input_mtok"), usage.input) or Decimal(0)
    output_rate = _rate(prices.get("output_mtok"), usage.input) or Decimal(0)
    read_rate = _rate(prices.get("cache_read_mtok"), usage.input)
    write_rate = _rate(prices.get("cache_write_mtok"), usage.input)
    total = (
        usage.uncached_input * input_rate
        + usage.cache_read * (input_rate if read_rate is None else read_rate)
        + usage.cache_write * (input_rate if write_rate is None else write_rate)
        + usage.output * output_rate
    )
    return float(total / _MILLION)


class Pricer:
    """Prices generations for one organization, given its own prices by model name."""

    def __init__(self, overrides: dict[str, Price] | None = None) -> None:
        self.overrides = {name.lower(): price for name, price in (overrides or {}).items()}

    def has_prices(self, overrides: dict[str, Price]) -> bool:
        """Whether this pricer prices with exactly ``overrides`` (an organization's own prices)."""
        return self.overrides == {name.lower(): price for name, price in overrides.items()}

    def price(
        self,
        *,
        provider: str,
        model: str,
        usage: TokenUsage,
        when_us: int,
        provided_cost: float | None = None,
    ) -> tuple[float, CostSource]:
        if provided_cost is not None:
            return float(provided_cost), CostSource.PROVIDED
        override = self.overrides.get(model.lower())
        if override is not None:
            return override.cost(usage), CostSource.OVERRIDE
        cost = catalog_cost(provider, model, usage, when_us)
        if cost is not None:
            return cost, CostSource.CATALOG
        return 0.0, CostSource.UNPRICED
