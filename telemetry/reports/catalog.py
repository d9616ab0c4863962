"""Every item a report can hold, per module, in the order the pages show them.

An item key is ``"module.item"`` (``"overview.kpis"``), a command-line interface
(``report --items``). Each item is a page block (telemetry/blocks) written for a
report (:mod:`telemetry.reports.items`), so a report reads as the pages do.
"""

from __future__ import annotations

from telemetry.blocks.catalog import MODULE_TITLES, REPORT_BLOCKS
from telemetry.reports.items import item as report_item
from telemetry.reports.model import ItemSpec

# Module key -> title, in report order.
MODULES: dict[str, str] = dict(MODULE_TITLES)
CATALOG: tuple[ItemSpec, ...] = tuple(report_item(spec) for spec in REPORT_BLOCKS)
DEFAULT_ITEMS: tuple[str, ...] = tuple(spec.key for spec in CATALOG)
_BY_KEY = {spec.key: spec for spec in CATALOG}


def items_of(module: str, catalog: tuple[ItemSpec, ...] = CATALOG) -> tuple[ItemSpec, ...]:
    """The items of ``module`` in display order; ``KeyError`` naming the modules if unknown."""
    found = tuple(spec for spec in catalog if spec.module == module)
    if not found:
        known = ", ".join(dict.fromkeys(spec.module for spec in catalog))
        raise KeyError(f"unknown report module {module!r}; the modules are: {known}")
    return found


def item(key: str, catalog: tuple[ItemSpec, ...] = CATALOG) -> ItemSpec:
    """The item called ``key``; ``KeyError`` listing the valid keys when there is none."""
    found = _BY_KEY.get(key) if catalog is CATALOG else _lookup(catalog).get(key)
    if found is None:
        raise KeyError(unknown_item_message(key, catalog))
    return found


def unknown_item_message(key: str, catalog: tuple[ItemSpec, ...] = CATALOG) -> str:
    valid = ", ".join(spec.key for spec in catalog)
    return f"unknown report item {key!r}; valid items are: {valid}"


def _lookup(catalog: tuple[ItemSpec, ...]) -> dict[str, ItemSpec]:
    return {spec.key: spec for spec in catalog}
