"""Every item a report can hold, per module, in the order the pages show them.

An item key is ``"module.item"`` (``"overview.kpis"``). Each item is built by
its module's ``items_*.py`` from the query layer and the shared chart builders,
so a report's numbers are the pages' numbers.
"""

from __future__ import annotations

from telemetry.reports import (
    items_alerts,
    items_analytics,
    items_audit,
    items_billing,
    items_overview,
    items_quality,
    items_users,
)
from telemetry.reports.model import ItemSpec

_MODULES = (
    items_overview,
    items_analytics,
    items_users,
    items_billing,
    items_quality,
    items_alerts,
    items_audit,
)

# Module key -> title, in report order.
MODULES: dict[str, str] = {module.MODULE: module.TITLE for module in _MODULES}
CATALOG: tuple[ItemSpec, ...] = tuple(spec for module in _MODULES for spec in module.ITEMS)
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
