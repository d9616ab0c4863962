"""The errors of alert rules, shared by the checks and the storage of rules."""

from __future__ import annotations


class RuleError(ValueError):
    """A rule that cannot be saved as given; the message says which field and why."""
