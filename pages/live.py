"""Live runs: the agent runs in progress now, refreshed every few seconds; each opens its trace."""

from __future__ import annotations

from ui.header import page_header
from ui.live_view import show_live_runs

view = page_header("Live runs")
show_live_runs(view.filters)
