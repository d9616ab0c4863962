"""The Analytics module's report items: the Analytics page's blocks (telemetry/blocks/analytics.py).

The audit trail is left out: it is about dashboard accounts, not telemetry, and who
may read which events depends on the viewer (see ``ui/analytics_audit.py``).
"""

from __future__ import annotations

from telemetry.blocks import analytics
from telemetry.reports.items import item

MODULE = "analytics"
TITLE = analytics.TITLE
ITEMS = tuple(item(spec) for spec in analytics.BLOCKS)
