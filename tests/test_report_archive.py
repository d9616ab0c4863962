"""Kept reports: file + sidecar, safe names, newest first, admins see all, managers their own."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from datetime import date

from telemetry.accounts import Account
from telemetry.reports.archive import list_reports, read_report, save_report
from telemetry.reports.model import Report, ReportFormat
from tests.report_samples import BILLING_MONTH, GENERATED_AT_US, sample_report

ADMIN = Account(username="root", name="Root", role="admin")
MIA = Account(username="mia", name="Mia", role="manager", teams=(("default", ("alpha",)),))
LEO = Account(username="leo", name="Leo", role="manager", teams=(("default", ("beta",)),))
HOUR_US = 3_600 * 1_000_000


def _report(by: str, hours_later: int = 0, org: str = "default") -> Report:
    report = sample_report(ReportFormat.PDF)
    request = dataclasses.replace(
        report.request,
        generated_by=by,
        generated_at_us=GENERATED_AT_US + hours_later * HOUR_US,
        filters=dataclasses.replace(report.request.filters, org=org),
    )
    return dataclasses.replace(report, request=request)


def test_saved_report_reads_back_with_who_when_and_its_filters(tmp_path):
    entry = save_report(_report("mia"), b"%PDF-1.4 mia", tmp_path)
    [listed] = list_reports(tmp_path, ADMIN)
    assert read_report(listed) == b"%PDF-1.4 mia"
    assert listed == entry
    assert (listed.generated_by, listed.generated_at_us) == ("mia", GENERATED_AT_US)
    assert (listed.org, listed.organization_name) == ("default", "Acme Corp")
    assert (listed.start, listed.end) == (date(2026, 3, 2), date(2026, 3, 8))
    assert listed.billing_month == BILLING_MONTH
    assert listed.teams == ("alpha", "beta") and listed.environments is None
    assert listed.items[:2] == ("overview.kpis", "overview.activity")
    assert listed.failed_items == ("billing.forecast", "users.top")
    assert listed.format is ReportFormat.PDF and listed.media_type == "application/pdf"
    sidecar = json.loads(listed.sidecar.read_text())
    assert sidecar["generated_by"] == "mia" and sidecar["from"] == "2026-03-02"


def test_admins_list_every_report_newest_first_managers_only_their_own(tmp_path):
    save_report(_report("mia", hours_later=0), b"first", tmp_path)
    save_report(_report("leo", hours_later=1), b"second", tmp_path)
    save_report(_report("mia", hours_later=2), b"third", tmp_path)
    assert [read_report(e) for e in list_reports(tmp_path, ADMIN)] == [
        b"third",
        b"second",
        b"first",
    ]
    assert [read_report(e) for e in list_reports(tmp_path, MIA)] == [b"third", b"first"]
    assert [read_report(e) for e in list_reports(tmp_path, LEO)] == [b"second"]


def test_file_names_hold_no_user_controlled_path_parts(tmp_path):
    report = _report("../../etc", org="../../Evil Org/x")
    entry = save_report(report, b"x", tmp_path)
    assert entry.path.parent == tmp_path
    assert re.fullmatch(r"evil-org-x-20260309-073000-[0-9a-f]{8}\.pdf", entry.path.name)
    assert sorted(p.name for p in tmp_path.iterdir()) == [entry.path.name, entry.sidecar.name]


def test_two_reports_in_the_same_second_get_different_files(tmp_path):
    first = save_report(_report("mia"), b"one", tmp_path)
    second = save_report(_report("mia"), b"two", tmp_path)
    assert first.path != second.path
    assert (read_report(first), read_report(second)) == (b"one", b"two")


def test_corrupt_or_stray_sidecars_are_skipped_with_a_warning(tmp_path, caplog):
    good = save_report(_report("mia"), b"good", tmp_path)
    (tmp_path / "broken.pdf.json").write_text("{not json")
    (tmp_path / "partial.pdf.json").write_text(json.dumps({"file": "partial.pdf"}))
    # A sidecar cannot send the listing outside the directory.
    outside = tmp_path.parent / "secret.pdf"
    outside.write_bytes(b"secret")
    escaping = json.loads(good.sidecar.read_text()) | {"file": "../secret.pdf"}
    (tmp_path / "escaping.pdf.json").write_text(json.dumps(escaping))
    with caplog.at_level(logging.WARNING, logger="telemetry.reports.archive"):
        listed = list_reports(tmp_path, ADMIN)
    assert [read_report(entry) for entry in listed] == [b"good"]
    warned = " ".join(record.getMessage() for record in caplog.records)
    for name in ("broken.pdf.json", "partial.pdf.json", "escaping.pdf.json"):
        assert name in warned


def test_an_empty_or_missing_directory_lists_nothing(tmp_path):
    assert list_reports(tmp_path / "nowhere", ADMIN) == []
    assert list_reports(tmp_path, MIA) == []


def test_html_reports_keep_their_format(tmp_path):
    report = _report("mia")
    request = dataclasses.replace(report.request, format=ReportFormat.HTML)
    entry = save_report(dataclasses.replace(report, request=request), b"<html>", tmp_path)
    assert entry.path.suffix == ".html" and entry.media_type == "text/html"
