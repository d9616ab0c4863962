"""The Billing module's report items: the Billing page's blocks (telemetry/blocks/billing.py)."""

from __future__ import annotations

from telemetry.blocks import billing
from telemetry.reports.items import item

MODULE = "billing"
TITLE = billing.TITLE
ITEMS = tuple(item(spec) for spec in billing.BLOCKS)
