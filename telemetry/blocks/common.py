"""Pieces several block modules share: display names, capped-list notes, figure helpers."""

from __future__ import annotations

from typing import Any

import pandas as pd

from telemetry import format as fmt
from telemetry import kpi_text
from telemetry.blocks.model import EXACT, Fidelity, Figure, Source
from telemetry.queries import Kpi


def display_names(names: pd.Series, ids: pd.Series) -> pd.Series:
    """A person's name where the directory has one, else their id (never an empty cell)."""
    named = names.fillna("").astype(str)
    return named.where(named.str.strip() != "", ids.fillna("").astype(str))


def capped_note(found: Any, noun: str) -> str:
    """ " Showing the N costliest of M users." for a listing cut at its limit, else ""."""
    if found.complete:
        return ""
    return f" Showing the {len(found.rows):,} costliest of {found.matched:,} {noun}."


def priced(source: Source) -> str:
    """The period's "N% priced", for captions of cost charts."""
    return fmt.priced_text(source.query("billing_period").priced_share)


def kpi_figure(
    kpi: Kpi, previous_span: str, *, tone: str = "normal", text=fmt.value_text, **extra: Any
) -> Figure:
    """A figure of a :class:`~telemetry.queries.Kpi` with its change and formula help."""
    change = kpi_text.change_text(kpi)
    return Figure(
        key=kpi.key,
        label=kpi.label,
        value=text(kpi.value, kpi.unit),
        help=kpi_text.help_text(kpi, previous_span),
        change=change,
        tone="off" if change == kpi_text.NEW else tone,
        flat=kpi.change == 0 or change in fmt.NO_CHANGE,
        **extra,
    )


def decimal(value: float | None, decimals: int = 1) -> str:
    return fmt.MISSING if value is None else f"{value:,.{decimals}f}"


def environment_fidelity(what: str):
    """A fidelity function: approximate under an environment filter for directory figures.

    The directory (``end_user``) has no environment: its users are counted whatever
    environment is selected (docs/metrics.md, "Filter fidelity").
    """

    def fidelity(source: Source) -> Fidelity:
        if source.filters.environments is None:
            return EXACT
        return Fidelity(
            f"{what} come from the user directory, which has no environment, so the "
            "environment filter does not apply to them"
        )

    return fidelity
