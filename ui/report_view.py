"""The Reports page: choose, check the size, generate item by item, preview, download, keep.

Steps 1-3 (the choices) are drawn by :mod:`ui.report_form`; this module draws
the size warning, the Generate button with its progress bar, the preview with
its download and "Retry failed items" buttons, and the list of kept reports.
The teams of a report are always the View's (the sidebar, already limited to
the account's own teams), never a form field.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from functools import partial

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from telemetry import format as fmt
from telemetry import queries
from telemetry.accounts import Account
from telemetry.audit import record_event, report_details
from telemetry.filters import Filters
from telemetry.reports.archive import ArchivedReport, list_reports, read_report, save_report
from telemetry.reports.builder import build_report, error_text, estimate_size, retry_failed
from telemetry.reports.html import render_html
from telemetry.reports.model import Report, ReportFormat, ReportRequest
from telemetry.reports.pdf import render_pdf
from telemetry.timeutil import from_us, month_start, now_us
from ui import periods, plain
from ui.cache import cached_query, get_engine
from ui.filters import View, team_scope
from ui.periods import AUTO_GROUPING, utc_today
from ui.report_form import ReportChoice, report_choice

log = logging.getLogger(__name__)
LAST_KEY = "report_last"
KEPT_SHOWN = 50
PREVIEW_HEIGHT = 900
HOW_TO = (
    "Choose a period, a format and the items of each module, then **Generate**: each item is "
    "built on its own, and one that fails is marked in the preview and can be retried alone. "
    "Every report is kept and listed below for download again. Reports hold the teams and "
    "environments selected in the sidebar. To make reports on a schedule, run "
    "`python -m telemetry report` from cron (see `python -m telemetry report --help`)."
)


@dataclass(frozen=True)
class Generated:
    """The last report of this session: built items, the rendered file, where it was kept."""

    report: Report
    content: bytes | None
    entry: ArchivedReport | None
    problem: str = ""


def draw(view: View, account: Account) -> None:
    st.caption(HOW_TO)
    today = utc_today()
    choice = report_choice(
        view.filters,
        lambda: cached_query(queries.billing_months, view.filters, view.data_version, today=today),
        today,
    )
    st.markdown("**4. Generate**")
    filters = None if choice.problem else report_filters(view, choice)
    if filters is not None:
        size_warning(filters, view.data_version)
    clicked = st.button(
        "Generate report",
        type="primary",
        icon=":material/description:",
        disabled=bool(choice.problem),
        key="report_generate",
    )
    if choice.problem:
        st.caption(f"Generate is disabled: {choice.problem}")
    engine = get_engine()
    if clicked and filters is not None:
        request = ReportRequest(
            filters=filters,
            format=choice.format,
            items=choice.items,
            generated_by=account.username,
            generated_at_us=now_us(),
            billing_month=choice.billing_month,
        )
        st.session_state[LAST_KEY] = generate(engine, request)
    generated = st.session_state.get(LAST_KEY)
    if generated is not None:
        result(engine, generated)
    kept_reports(account)


def report_filters(view: View, choice: ReportChoice) -> Filters:
    """The View's organization, teams and environments over the chosen days or window.

    Teams are intersected with the account's allowed teams once more, so a
    report can never hold another team, whatever reached the View.
    """
    filters = view.filters
    teams = team_scope(list(filters.teams or ()), view.allowed_teams)
    if choice.last is not None:
        period = periods.preset_filters(choice.last, periods.utc_now_us())
    else:
        period = Filters(start=choice.start, end=choice.end)
    grouping = periods.resolve_grouping(
        st.session_state.get("group", AUTO_GROUPING), period.length_us
    )
    return replace(
        period,
        org=filters.org,
        teams=teams,
        environments=filters.environments,
        grouping=grouping,
    )


def size_warning(filters: Filters, version: int) -> None:
    """Step 4: warn before a large report, from the rollups' counts (cheap)."""
    size = cached_query(estimate_size, filters, version)
    if size.large:
        st.warning(
            f"Large report: about {size.rows:,} traces and LLM calls in "
            f"{fmt.day_span(filters)}, roughly {size.seconds:,.0f} s to build. A narrower "
            "period is faster.",
            icon=":material/hourglass:",
        )
    else:
        st.caption(f"About {size.rows:,} traces and LLM calls; a few seconds to build.")


def generate(engine: Engine, request: ReportRequest) -> Generated:
    """Step 5: build item by item under a progress bar, render, keep."""
    bar = st.progress(0.0, text="Building the report…")

    def progress(done: int, total: int, title: str) -> None:
        bar.progress(done / total, text=f"Built {done} of {total} items: {title}")

    report = build_report(engine, request, progress=progress)
    record_event(
        engine,
        request.filters.org,
        "report.generate",
        actor=request.generated_by,
        target=request.format.value,
        details=report_details(request, "dashboard"),
    )
    bar.progress(1.0, text=f"Writing the {request.format.value.upper()} file…")
    generated = render_and_keep(report)
    bar.empty()
    return generated


def retry(engine: Engine, generated: Generated) -> Generated:
    bar = st.progress(0.0, text="Retrying the failed items…")

    def progress(done: int, total: int, title: str) -> None:
        bar.progress(done / total, text=f"Rebuilt {done} of {total} failed items: {title}")

    report = retry_failed(engine, generated.report, progress=progress)
    generated = render_and_keep(report)
    bar.empty()
    return generated


def render_and_keep(report: Report) -> Generated:
    """The rendered file, kept in the archive; a problem for people when either step fails."""
    kind = report.request.format
    try:
        content = render(report)
    except Exception as error:  # the report's items are still shown; say why no file
        log.exception("report rendering failed")
        return Generated(
            report,
            None,
            None,
            f"The {kind.value.upper()} could not be written: {plain.text(error_text(error))} "
            "Try HTML, or fewer items.",
        )
    try:
        entry = save_report(report, content)
    except OSError as error:
        log.exception("report could not be kept")
        problem = (
            "The report could not be kept in the reports folder "
            f"({plain.text(error.strerror)}); download it now. An admin can check that the "
            "folder is writable."
        )
        return Generated(report, content, None, problem)
    return Generated(report, content, entry)


def render(report: Report) -> bytes:
    if report.request.format is ReportFormat.PDF:
        return render_pdf(report)
    return render_html(report).encode("utf-8")


def result(engine: Engine, generated: Generated) -> None:
    """Step 6: what was built, failed items and their retry, the preview and the download."""
    report = generated.report
    st.subheader("Preview")
    total = len(report.results)
    built = total - len(report.failed)
    seconds = sum(item.seconds for item in report.results)
    kept = f" · kept as {plain.text(generated.entry.file_name)}" if generated.entry else ""
    st.caption(f"{built} of {total} items built in {seconds:.1f} s{kept}.")
    if report.failed:
        st.warning(
            f"{len(report.failed)} item(s) failed; the others are in the report.",
            icon=":material/warning:",
        )
        failures = pd.DataFrame(
            {"Item": [r.title for r in report.failed], "Error": [r.error for r in report.failed]}
        )
        st.dataframe(failures, hide_index=True, width="stretch")
        if st.button("Retry failed items", icon=":material/refresh:", key="report_retry"):
            st.session_state[LAST_KEY] = retry(engine, generated)
            st.rerun()
    if generated.problem:
        st.error(generated.problem, icon=":material/error:")
    if generated.content is None:
        return
    name = generated.entry.file_name if generated.entry else _file_name(report)
    kind = report.request.format
    st.download_button(
        f"Download {kind.value.upper()}",
        generated.content,
        file_name=name,
        mime="application/pdf" if kind is ReportFormat.PDF else "text/html",
        icon=":material/download:",
        on_click="ignore",
        type="primary",
        key="report_download",
    )
    preview(generated)


def preview(generated: Generated) -> None:
    """HTML: the file itself. PDF: the same report rendered as HTML (not every browser can
    show a PDF inside a page; headless ones cannot), said above the preview."""
    report = generated.report
    if report.request.format is ReportFormat.HTML:
        html = generated.content.decode("utf-8")
    else:
        st.caption(
            "Preview of the same report as HTML: the PDF holds the same items and numbers, "
            "with the charts as images. Download it above."
        )
        html = render_html(report)
    st.iframe(html, height=PREVIEW_HEIGHT)


def _file_name(report: Report) -> str:
    request = report.request
    stamp = from_us(request.generated_at_us).strftime("%Y%m%d-%H%M%S")
    return f"report-{stamp}.{request.format.value}"


def kept_reports(account: Account) -> None:
    """Kept reports for download again: every account's for an admin, a manager's own."""
    st.subheader("Kept reports")
    whose = "every account's" if account.is_admin else "your"
    entries = list_reports(None, account)
    if not entries:
        st.caption(f"No kept report yet: {whose} generated reports appear here.")
        return
    st.caption(f"{whose.capitalize()} generated reports, newest first.")
    shown = entries[:KEPT_SHOWN]
    st.dataframe(kept_table(shown), hide_index=True, width="stretch")
    chosen = st.selectbox(
        "Kept report",
        range(len(shown)),
        format_func=lambda index: shown[index].file_name,
        key="report_kept_choice",
    )
    entry = shown[chosen]
    st.download_button(
        f"Download {plain.text(entry.file_name)}",
        partial(read_report, entry),
        file_name=entry.file_name,
        mime=entry.media_type,
        icon=":material/download:",
        on_click="ignore",
        key="report_kept_download",
    )
    if len(entries) > KEPT_SHOWN:
        st.caption(f"The newest {KEPT_SHOWN} of {len(entries)} are listed.")


def kept_table(entries: list[ArchivedReport]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Generated (UTC)": [f"{from_us(e.generated_at_us):%Y-%m-%d %H:%M}" for e in entries],
            "By": [e.generated_by for e in entries],
            "Organization": [e.org for e in entries],
            "Period": [fmt.day_span(e.period) for e in entries],
            "Billing month": [
                "" if e.billing_month is None else f"{month_start(e.billing_month):%B %Y}"
                for e in entries
            ],
            "Teams": [fmt.team_text(e.teams) for e in entries],
            "Environments": [fmt.environment_text(e.environments) for e in entries],
            "Format": [e.format.value.upper() for e in entries],
            "Items": [len(e.items) for e in entries],
            "Failed": [len(e.failed_items) for e in entries],
            "File": [e.file_name for e in entries],
        }
    )
