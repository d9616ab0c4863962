"""Shared bench helpers: a reusable large store, median timing, the product's server, PostgreSQL."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, select, text

from telemetry.db import init_store, make_engine
from telemetry.models import Observation, Organization, Trace, TraceDaily
from telemetry.rollups import rebuild_rollups
from tests.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache"
# How the README starts the product; benches that need a real server start it so.
SERVER_COMMAND = [str(ROOT / ".venv" / "bin" / "streamlit"), "run", "app.py"]
# The script app.py mounts (what AppTest-based benches run).
DASHBOARD_SCRIPT = ROOT / "ui" / "dashboard.py"
# A fixed end date keeps the generated store identical from one run to the next.
BENCH_END = date(2026, 10, 31)


def bench_store(traces: int, *, days: int = 365) -> Engine:
    """A SQLite store holding ``traces`` demo traces over ``days`` (built once, then reused)."""
    from telemetry.demo import generate_demo

    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"bench-{traces}-{days}d.db"
    engine = make_engine(f"sqlite:///{path}")
    init_store(engine)
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(Trace)).scalar()
    if stored < traces:
        print(f"building {path.name}: {traces:,} traces over {days} days (once; reused after)")
        started = time.perf_counter()
        last = [0.0]

        def progress(done: int, total: int) -> None:
            if time.perf_counter() - last[0] > 10:
                last[0] = time.perf_counter()
                print(f"  {done:,}/{total:,}", flush=True)

        generate_demo(engine, days=days, traces=traces, end=BENCH_END, progress=progress)
        print(f"built in {time.perf_counter() - started:.0f} s")
    _ensure_rollups(engine)
    with engine.connect() as conn:
        observations = conn.execute(select(func.count()).select_from(Observation)).scalar()
        stored = conn.execute(select(func.count()).select_from(Trace)).scalar()
    print(f"store: {stored:,} traces, {observations:,} observations ({path})")
    return engine


def _ensure_rollups(engine: Engine) -> None:
    """Rebuild the daily rollups of every organization whose rollups miss traces.

    The demo generator does not maintain them (yet), so a freshly built store
    would otherwise be read through empty rollups.
    """
    with engine.begin() as conn:
        for org in conn.execute(select(Organization.id)).scalars().all():
            stored = conn.execute(
                select(func.count()).select_from(Trace).where(Trace.org_id == org)
            ).scalar()
            rolled = conn.execute(
                select(func.coalesce(func.sum(TraceDaily.traces), 0)).where(
                    TraceDaily.org_id == org
                )
            ).scalar()
            if stored != rolled:
                print(f"rebuilding the daily rollups of organization {org} (once)")
                rebuild_rollups(conn, org)


def median_seconds(run: Callable[[], object], *, repeat: int) -> float:
    run()  # warm the page cache once; the figure is the steady state
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


# --- the product's server, started as its README says ------------------------------------


@dataclass
class BenchServer:
    process: subprocess.Popen
    url: str
    output: list[str]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


@contextmanager
def product_server(database_url: str, home: Path, **env: str) -> Iterator[BenchServer]:
    """The product's server on a free port, on ``database_url``, until the block ends.

    No demo data; the first admin's accounts file goes to ``home``. Waits until the
    server answers its health check (the first-start work is done by then).
    """
    port = free_port()
    environment = {
        **os.environ,
        "TELEMETRY_DATABASE_URL": database_url,
        "TELEMETRY_AUTH_FILE": str(home / "auth.yaml"),
        "TELEMETRY_REPORTS_DIR": str(home / "reports"),
        "TELEMETRY_DEMO": "0",
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    command = [*SERVER_COMMAND, "--server.port", str(port), "--server.headless", "true"]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    threading.Thread(
        target=lambda: output.extend(iter(process.stdout.readline, "")), daemon=True
    ).start()
    server = BenchServer(process, f"http://127.0.0.1:{port}", output)
    try:
        _wait_healthy(server)
        yield server
    finally:
        server.stop()


def _wait_healthy(server: BenchServer) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit("the server exited:\n" + "".join(server.output))
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("the server did not become healthy:\n" + "".join(server.output))


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its live descendants, plus the children it
    has reaped (Linux /proc; 0 where unavailable)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15]) / tick  # utime stime cutime cstime
        pids.extend(int(child) for child in children)
    return total


# --- PostgreSQL for the benches ------------------------------------------------------------


@contextmanager
def postgres(url: str | None = None) -> Iterator[tuple[str, int | None]]:
    """(maintenance URL, postmaster pid or None) of the PostgreSQL the benches use.

    ``url`` (e.g. ``--postgres-url``) is used as it is. Otherwise a throwaway server
    is started with Debian's binaries (as the tests do), durable as SQLite's WAL mode
    with synchronous=NORMAL is: fsync on, commits not waiting for the WAL flush.

    The throwaway server writes WAL files as a server that has run for a while does:
    one that has gone through a checkpoint reuses its old WAL files, while a new
    cluster creates each one and, by default, first fills its 16 MB with zeros. That
    first-run cost is not ingest's: it made the first of three runs cost PostgreSQL
    36 instead of 27 us of CPU per span (300k-span file; 1.7 kB of WAL per span), so
    new WAL files are not zero-filled here (``wal_init_zero=off``: 28 us on the first
    run, 27 on the next).
    """
    if url:
        yield url, None
        return
    from tests.pgserver import PostgresServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL is not installed (scripts/test.sh installs it)")
    server = PostgresServer(bindir, settings="-c synchronous_commit=off -c wal_init_zero=off")
    try:
        admin = server.start()
        pid = int((server.datadir / "postmaster.pid").read_text().split()[0])
        yield admin, pid
    finally:
        server.stop()


def fresh_postgres_database(admin_url: str, name: str, *, drop: Sequence[str] = ()) -> str:
    """An empty database ``name`` (dropped first if present), after dropping the
    databases ``drop``; returns its URL."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for old in {*drop, name}:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


# --- a fresh store per run, on each backend asked for ----------------------------------


class Store:
    """A fresh store per run on one backend."""

    def __init__(self, backend: str, admin_url: str | None, postmaster: int | None) -> None:
        self.backend = backend
        self.admin_url = admin_url
        self.postmaster = postmaster
        self.made: list[str] = []  # PostgreSQL databases of earlier runs

    def fresh(self, name: str) -> str:
        if self.backend == "postgresql":
            # Earlier runs' databases go: PostgreSQL would vacuum and analyze them in the
            # background, on the CPU of the runs that follow (the HTTP runs after the
            # 1M-span file measured 52-55 us of PostgreSQL's CPU per span, 42 without).
            url = fresh_postgres_database(self.admin_url, name, drop=self.made)
            self.made = [name]
        else:
            path = CACHE / f"{name}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            url = f"sqlite:///{path}"
        engine = make_engine(url)
        init_store(engine)
        engine.dispose()
        return url

    def server_cpu(self) -> float:
        return cpu_seconds(self.postmaster) if self.postmaster else 0.0


def backend_stores(backends: str, postgres_url: str | None) -> Iterator[Store]:
    """A :class:`Store` per comma-separated backend; PostgreSQL's server (a throwaway one
    unless ``postgres_url``) runs until the caller moves on to the next backend."""
    for backend in backends.split(","):
        if backend == "postgresql":
            with postgres(postgres_url) as (admin_url, postmaster):
                yield Store(backend, admin_url, postmaster)
        else:
            yield Store(backend, None, None)


def add_backend_options(parser) -> None:
    """--backend and --postgres-url, as every bench that runs on both backends takes them."""
    parser.add_argument("--backend", default="sqlite,postgresql", help="comma-separated")
    parser.add_argument("--postgres-url", help="a maintenance database URL (default: throwaway)")


def run_on_backends(args, bench_one: Callable[[Store, object], list[str]]) -> int:
    """``bench_one(store, args)`` on each backend asked for; then the lines it returned."""
    CACHE.mkdir(exist_ok=True)
    results = []
    for store in backend_stores(args.backend, args.postgres_url):
        results += bench_one(store, args)
    print("\nmedians:")
    print("\n".join(results))
    return 0
