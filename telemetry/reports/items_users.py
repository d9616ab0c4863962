"""The Users module's report items: the Users page's blocks (telemetry/blocks/users.py)."""

from __future__ import annotations

from telemetry.blocks import users
from telemetry.reports.items import item

MODULE = "users"
TITLE = users.TITLE
ITEMS = tuple(item(spec) for spec in users.BLOCKS)
