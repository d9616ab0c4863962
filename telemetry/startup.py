"""What the server does once per process start: schema, first-start demo data, first admin.

Demo data is loaded only into a brand-new store (no trace in any organization)
and only once: an audit event ``demo_loaded`` (a dashboard event) marks
it, so removing the demo later does not bring it back on the next start. Set
``TELEMETRY_DEMO=0`` to skip it. The first admin's random password is printed
to the terminal exactly once, when the accounts file is created.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine, select

from telemetry import accounts
from telemetry.audit import record_audit
from telemetry.db import init_store
from telemetry.models import AuditEvent, Trace

DEMO_ENV = "TELEMETRY_DEMO"
DEMO_LOADED = "demo_loaded"


def store_is_new(engine: Engine) -> bool:
    """No trace anywhere and demo data never loaded before."""
    with engine.connect() as conn:
        has_trace = conn.execute(select(Trace.id).limit(1)).first() is not None
        demo_before = (
            conn.execute(
                select(AuditEvent.id).where(AuditEvent.action == DEMO_LOADED).limit(1)
            ).first()
            is not None
        )
    return not has_trace and not demo_before


def demo_wanted() -> bool:
    return os.environ.get(DEMO_ENV, "1").strip().lower() not in {"0", "false", "no", "off"}


def load_demo_once(engine: Engine, *, out: TextIO = sys.stdout) -> bool:
    """Fill a brand-new store with the demo organization; True when it did."""
    if not demo_wanted() or not store_is_new(engine):
        return False
    # Imported here: the generator is only needed on a first start.
    from telemetry.demo import DEMO_ORG, generate_demo

    print(f"First start: generating demo data in organization {DEMO_ORG!r} ...", file=out)
    out.flush()
    generate_demo(engine, progress=_percent_printer(out))
    _mark_demo_loaded(engine, DEMO_ORG)
    print(
        f"Demo data ready (organization {DEMO_ORG!r}); remove it any time with "
        "`python -m telemetry demo --remove`.",
        file=out,
    )
    return True


def _percent_printer(out: TextIO):
    shown: set[int] = set()

    def progress(done: int, total: int) -> None:
        tenth = 10 * done // max(total, 1)
        if tenth not in shown:
            shown.add(tenth)
            print(f"  {10 * tenth}%", end="\n" if tenth >= 10 else "", file=out, flush=True)

    return progress


def _mark_demo_loaded(engine: Engine, demo_org: str) -> None:
    with engine.begin() as conn:
        record_audit(conn, None, DEMO_LOADED, actor="system", target=demo_org)


def announce_first_admin(credentials: tuple[str, str], path: Path, *, out: TextIO) -> None:
    username, password = credentials
    rule = "=" * 66
    print(
        f"\n{rule}\n"
        f"  First start: created the dashboard account {username!r}\n"
        f"  password: {password}\n"
        f"  This password is shown once. Log in, then keep it safe or change it:\n"
        f"  python -m telemetry users passwd {username}\n"
        f"  (accounts file: {path})\n"
        f"{rule}\n",
        file=out,
    )
    out.flush()


def prepare_server(engine: Engine, *, out: TextIO = sys.stdout) -> None:
    """Bring the store up to date, load demo data on a new store, create the first admin."""
    init_store(engine)
    load_demo_once(engine, out=out)
    path = accounts.accounts_path()
    created = accounts.ensure_first_admin(path)
    if created:
        announce_first_admin(created, path, out=out)
