"""Setting a model price from the dashboard: only an admin account may, checked here on the server.

The Billing page hides the form from managers, but hiding is not access
control: this function refuses anyone who is not an admin, whatever the page
did. The price change itself, the re-pricing of stored calls and the audit
event are :func:`telemetry.reprice.set_model_price`'s.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, select

from telemetry.accounts import Account
from telemetry.admin_access import AdminOnly, require_admin
from telemetry.models import ModelPrice
from telemetry.pricing import Price
from telemetry.reprice import remove_model_price, set_model_price
from telemetry.store import org_id


class PriceChangeRefused(PermissionError):
    """A dashboard account that may not change model prices tried to."""


def set_price_as(
    engine: Engine, account: Account, org: str, model: str, price: Price, *, provider: str = ""
) -> int:
    """Set ``org``'s price for ``model`` as ``account`` and re-price its stored calls.

    Returns how many stored LLM calls were re-priced. The audit event names the
    account as actor. Raises :class:`PriceChangeRefused` for a non-admin account
    and ``ValueError`` for an empty model name or a negative price.
    """
    try:
        require_admin(engine, account, "price.set", model)
    except AdminOnly:
        raise PriceChangeRefused(
            f"account {account.username!r} is a {account.role}; only admins can set model "
            "prices. Ask an admin, or use: python -m telemetry prices set MODEL --reprice ..."
        ) from None
    return set_model_price(
        engine, org, model, price, provider=provider, actor=account.username, reprice=True
    )


def remove_price_as(engine: Engine, account: Account, org: str, model: str) -> int:
    """Remove ``org``'s own price for ``model`` as ``account`` (an admin); re-price its calls."""
    require_admin(engine, account, "price.remove", model)
    return remove_model_price(engine, org, model, actor=account.username, reprice=True)


def org_prices(engine: Engine, org: str) -> pd.DataFrame:
    """The organization's own prices (USD per million tokens), by model."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                ModelPrice.model,
                ModelPrice.provider,
                ModelPrice.input_per_mtok,
                ModelPrice.output_per_mtok,
                ModelPrice.cache_read_per_mtok,
                ModelPrice.cache_write_per_mtok,
            )
            .where(ModelPrice.org_id == org_id(conn, org))
            .order_by(ModelPrice.model)
        ).all()
    columns = ["model", "provider", "input", "output", "cache_read", "cache_write"]
    return pd.DataFrame([tuple(row) for row in rows], columns=columns)
