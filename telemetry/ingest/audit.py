"""Kept for the call sites that import from here: the audit trail lives in telemetry.audit."""

from __future__ import annotations

from telemetry.audit import changes, current_actor, record_audit

__all__ = ["changes", "current_actor", "record_audit"]
