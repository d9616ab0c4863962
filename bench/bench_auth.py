"""What logins cost: the per-click login check, a throttled attempt, the password rules.

Run: .venv/bin/python -m bench.bench_auth (SQLite in a temporary folder; prints medians).
The per-click check is what every dashboard run adds (one primary-key read of
the login record); an attempt adds the throttle's check and, when wrong, its
update, on top of bcrypt (about 0.2 s, the deliberate cost).
"""

from __future__ import annotations

import secrets
import statistics
import tempfile
import time
from pathlib import Path

from telemetry import accounts, login_throttle, sessions
from telemetry.db import init_store, make_engine
from telemetry.passwords import check_password_rules
from telemetry.timeutil import US_PER_SECOND, now_us


def median_ms(run, repeat: int = 200) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'telemetry.db'}")
        init_store(engine)
        auth_file = Path(folder) / "auth.yaml"
        accounts.add_account("mia", role="admin", password="correct-horse-battery", path=auth_file)
        mia = accounts.find_account(accounts.load_config(auth_file), "mia")
        for _ in range(1000):  # a store that has seen a thousand logins
            sessions.start_session(engine, mia, lifetime_us=86_400 * US_PER_SECOND)
        record = sessions.start_session(engine, mia, lifetime_us=86_400 * US_PER_SECOND).record
        names = iter(range(10**9))
        longest = secrets.token_urlsafe(54)  # 72 characters, the most bcrypt takes

        def wrong_attempt() -> None:
            name, at = f"user{next(names) % 50}", now_us()
            login_throttle.check_attempt(engine, name, "203.0.113.9", at_us=at)
            login_throttle.record_failure(engine, name, "203.0.113.9", at_us=at)

        figures = {
            "login check per click": median_ms(lambda: sessions.session_by_id(engine, record.id)),
            "throttle check + failure": median_ms(wrong_attempt),
            "password rules, 21 chars": median_ms(
                lambda: check_password_rules("correct-horse-battery")
            ),
            "password rules, 72 chars": median_ms(lambda: check_password_rules(longest), 50),
        }
        for label, value in figures.items():
            print(f"{label:<26} {value:7.2f} ms")
        engine.dispose()


if __name__ == "__main__":
    main()
