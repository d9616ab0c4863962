"""Generated reports kept on disk: the file plus a JSON sidecar saying who made it, when, for what.

Files live in ``REPORTS_DIR`` (``TELEMETRY_REPORTS_DIR`` or ``<repo>/reports``). Names
are built from a cleaned organization slug, the generation time and a random suffix,
never from anything a user typed, so no report can be written outside the directory.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from telemetry.accounts import Account
from telemetry.db import PROJECT_ROOT
from telemetry.filters import Filters
from telemetry.reports.model import Report, ReportFormat
from telemetry.timeutil import from_us

REPORTS_DIR_ENV = "TELEMETRY_REPORTS_DIR"
REPORTS_DIR = Path(os.environ.get(REPORTS_DIR_ENV) or PROJECT_ROOT / "reports")
SIDECAR_SUFFIX = ".json"
MEDIA_TYPES = {ReportFormat.PDF: "application/pdf", ReportFormat.HTML: "text/html"}
_SIDECAR_VERSION = 1
_UNSAFE = re.compile(r"[^a-z0-9]+")
log = logging.getLogger(__name__)


class ArchiveError(ValueError):
    """A kept report that cannot be read back."""


@dataclass(frozen=True)
class ArchivedReport:
    """One kept report: its file and what its sidecar says about it."""

    path: Path
    format: ReportFormat
    generated_by: str
    generated_at_us: int
    org: str
    organization_name: str
    start: date
    end: date
    billing_month: int | None
    teams: tuple[str, ...] | None
    environments: tuple[str, ...] | None
    items: tuple[str, ...]
    failed_items: tuple[str, ...]
    size: int
    since_us: int | None = None  # a window's start (see Filters); None for whole days
    until_us: int | None = None

    @property
    def period(self) -> Filters:
        """The report's period (organization only, no team or environment)."""
        return Filters(
            start=self.start, end=self.end, since_us=self.since_us, until_us=self.until_us
        )

    @property
    def file_name(self) -> str:
        return self.path.name

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]

    @property
    def sidecar(self) -> Path:
        return self.path.with_name(self.path.name + SIDECAR_SUFFIX)


def reports_dir(directory: Path | None = None) -> Path:
    """The directory asked for, else ``TELEMETRY_REPORTS_DIR`` as set now, else ``REPORTS_DIR``."""
    if directory is not None:
        return Path(directory)
    configured = os.environ.get(REPORTS_DIR_ENV)
    return Path(configured) if configured else REPORTS_DIR


def file_name_for(report: Report) -> str:
    """``<org>-<YYYYmmdd-HHMMSS>-<random>.<pdf|html>``, made only of [a-z0-9.-]."""
    request = report.request
    slug = _UNSAFE.sub("-", request.filters.org.lower()).strip("-")[:40] or "org"
    stamp = from_us(request.generated_at_us).strftime("%Y%m%d-%H%M%S")
    return f"{slug}-{stamp}-{secrets.token_hex(4)}.{ReportFormat(request.format).value}"


def save_report(report: Report, content: bytes, directory: Path | None = None) -> ArchivedReport:
    """Keep ``content`` (the rendered report) and its sidecar; returns the listing entry."""
    folder = reports_dir(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name_for(report)
    while path.exists():  # a clash of 32 random bits in the same second: draw again
        path = folder / file_name_for(report)
    entry = _entry_of(report, path, len(content))
    _write_atomically(path, content)
    _write_atomically(entry.sidecar, json.dumps(_sidecar_of(entry), indent=2).encode("utf-8"))
    return entry


def list_reports(directory: Path | None, account: Account) -> list[ArchivedReport]:
    """Kept reports ``account`` may download, newest first: admins all, others their own."""
    folder = reports_dir(directory)
    if not folder.is_dir():
        return []
    entries = []
    for sidecar in folder.glob(f"*{SIDECAR_SUFFIX}"):
        entry = _read_sidecar(sidecar)
        if entry is None:
            continue
        if account.is_admin or entry.generated_by == account.username:
            entries.append(entry)
    return sorted(entries, key=lambda entry: (entry.generated_at_us, entry.path.name), reverse=True)


def read_report(entry: ArchivedReport) -> bytes:
    """The kept file's bytes; raises :class:`ArchiveError` when it is gone."""
    try:
        return entry.path.read_bytes()
    except OSError as error:
        raise ArchiveError(
            f"report {entry.file_name} cannot be read ({error.strerror}); generate it again"
        ) from None


# --- sidecars -------------------------------------------------------------------


def _entry_of(report: Report, path: Path, size: int) -> ArchivedReport:
    request = report.request
    filters = request.filters
    return ArchivedReport(
        path=path,
        format=ReportFormat(request.format),
        generated_by=request.generated_by,
        generated_at_us=request.generated_at_us,
        org=filters.org,
        organization_name=request.organization_name,
        start=filters.start,
        end=filters.end,
        billing_month=request.billing_month,
        teams=filters.teams,
        environments=filters.environments,
        items=tuple(result.key for result in report.results) or request.items,
        failed_items=tuple(result.key for result in report.failed),
        size=size,
        since_us=filters.since_us,
        until_us=filters.until_us,
    )


def _sidecar_of(entry: ArchivedReport) -> dict[str, Any]:
    return {
        "version": _SIDECAR_VERSION,
        "file": entry.path.name,
        "format": entry.format.value,
        "generated_by": entry.generated_by,
        "generated_at_us": entry.generated_at_us,
        "generated_at": from_us(entry.generated_at_us).isoformat(),
        "org": entry.org,
        "organization_name": entry.organization_name,
        "from": entry.start.isoformat(),
        "to": entry.end.isoformat(),
        "billing_month": entry.billing_month,
        "teams": list(entry.teams) if entry.teams is not None else None,
        "environments": list(entry.environments) if entry.environments is not None else None,
        "items": list(entry.items),
        "failed_items": list(entry.failed_items),
        "size": entry.size,
        "since_us": entry.since_us,
        "until_us": entry.until_us,
    }


def _read_sidecar(sidecar: Path) -> ArchivedReport | None:
    """The entry a sidecar describes, or None (with a warning) when it is unreadable."""
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
        # The file must sit next to its sidecar: a sidecar cannot point elsewhere.
        path = sidecar.with_name(Path(data["file"]).name)
        if not path.is_file():
            raise ArchiveError(f"its report file {path.name} is missing")
        return ArchivedReport(
            path=path,
            format=ReportFormat(data["format"]),
            generated_by=str(data["generated_by"]),
            generated_at_us=int(data["generated_at_us"]),
            org=str(data["org"]),
            organization_name=str(data.get("organization_name", "")),
            start=date.fromisoformat(data["from"]),
            end=date.fromisoformat(data["to"]),
            billing_month=_optional_int(data.get("billing_month")),
            teams=_optional_names(data.get("teams")),
            environments=_optional_names(data.get("environments")),
            items=tuple(str(key) for key in data.get("items", ())),
            failed_items=tuple(str(key) for key in data.get("failed_items", ())),
            size=int(data.get("size", path.stat().st_size)),
            since_us=_optional_int(data.get("since_us")),
            until_us=_optional_int(data.get("until_us")),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        log.warning("skipping kept report %s: unreadable sidecar (%s)", sidecar, error)
        return None


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _optional_names(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise TypeError(f"expected a list of names, got {type(value).__name__}")
    return tuple(str(name) for name in value)


def _write_atomically(path: Path, content: bytes) -> None:
    # Write next to the target, then rename: a listing never sees half a file.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
