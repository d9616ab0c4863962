"""The Overview module's report items: the Overview page's blocks (telemetry/blocks/overview.py)."""

from __future__ import annotations

from telemetry.blocks import overview
from telemetry.reports.items import item

MODULE = "overview"
TITLE = overview.TITLE
ITEMS = tuple(item(spec) for spec in overview.BLOCKS)
