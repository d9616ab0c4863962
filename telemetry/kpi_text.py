"""What a figure card says beside its value: the change, and help with the formula's numbers.

The Overview and Analytics cards and the report items showing the same figures
all call these, so a card and its report line always agree. Definitions:
docs/metrics.md ("Comparisons").
"""

from __future__ import annotations

from telemetry import format as fmt
from telemetry.queries.billing import DAYS_PER_MONTH
from telemetry.queries.kpis import Kpi, Term

NEW = "new"


def change_text(kpi: Kpi) -> str | None:
    """The signed change against the previous period, ``"new"`` when it held no data.

    ``None`` when there is no change to show (a rate with nothing to divide by).
    """
    if kpi.new:
        return NEW
    return fmt.figure_change_text(kpi.change, kpi.unit)


def _number(term: Term) -> str:
    if isinstance(term.value, int) and term.unit == "count":
        return f"{term.value:,}"  # exact, never compact: these are the numbers behind a figure
    return fmt.figure_text(term.value, term.unit)


def formula_text(kpi: Kpi, terms: tuple[Term, ...], value) -> str:
    """``"errors (12) ÷ finished runs (300) = 4.0%"``, or ``"runs started ... (12,345)"``."""
    if not kpi.operator:
        return ", ".join(f"{term.label} ({_number(term)})" for term in terms)
    joined = f" {kpi.operator} ".join(f"{term.label} ({_number(term)})" for term in terms)
    return f"{joined} = {fmt.figure_text(value, kpi.unit)}"


def _previous_numbers(kpi: Kpi) -> str:
    if not kpi.operator:
        return fmt.figure_text(kpi.previous, kpi.unit)
    joined = f" {kpi.operator} ".join(_number(term) for term in kpi.previous_terms)
    return f"{joined} = {fmt.figure_text(kpi.previous, kpi.unit)}"


def help_text(kpi: Kpi, previous_span: str) -> str:
    """The card's help: formula with this period's numbers, notes, the previous period's."""
    text = f"{kpi.label} = {formula_text(kpi, kpi.terms, kpi.value)}."
    if kpi.notes:
        text += " " + "; ".join(f"{note.label}: {_number(note)}" for note in kpi.notes) + "."
    if kpi.new:
        return text + (
            f" The previous period, {previous_span}, holds no data (no run, no LLM call): "
            'nothing to compare with, hence "new".'
        )
    return text + f" Previous period, {previous_span}: {_previous_numbers(kpi)}."


def days_text(days: float) -> str:
    """A period's length in days: ``30 days``, ``1 day``, ``0.041667 days``."""
    if float(days).is_integer():
        return f"{int(days)} day{'s' * (days != 1)}"
    return f"{days:.6g} days"


def average_monthly_help(cost_usd: float, days: float, average_usd: float) -> str:
    """The average monthly cost card's help: its formula with the period's numbers."""
    return (
        f"Average monthly cost = total cost ({fmt.dollars(cost_usd)}) ÷ (days in the period "
        f"({days_text(days)}) ÷ {DAYS_PER_MONTH}) = {fmt.dollars(average_usd)}: the period's "
        f"daily rate over an average month of {DAYS_PER_MONTH} days (365.25 ÷ 12)."
    )
