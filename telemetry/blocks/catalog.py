"""The blocks a report can hold, module by module, in the order the pages show them."""

from __future__ import annotations

from telemetry.blocks import alerts, analytics, audit_log, billing, overview, quality, users
from telemetry.blocks.model import BlockSpec

# The page modules whose blocks are report items, in report order.
_MODULES = (overview, analytics, users, billing, quality, alerts, audit_log)

# Module key ("overview") -> title ("Overview").
MODULE_TITLES: dict[str, str] = {module.BLOCKS[0].module: module.TITLE for module in _MODULES}
REPORT_BLOCKS: tuple[BlockSpec, ...] = tuple(spec for module in _MODULES for spec in module.BLOCKS)
