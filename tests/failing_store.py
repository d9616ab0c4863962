"""A store whose database refuses writes to one table, as a full disk would: real errors
raised by SQLite or PostgreSQL, for the tests of what a failed write leaves behind."""

from __future__ import annotations

from sqlalchemy import Engine, text

REASON = "no space left on device"


def refuse_audit_events(engine: Engine) -> None:
    """From now on the database refuses every new audit event, saying :data:`REASON`."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger AS "
                    f"$$ BEGIN RAISE EXCEPTION '{REASON}'; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON audit_event "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON audit_event "
                    f"BEGIN SELECT RAISE(ABORT, '{REASON}'); END"
                )
            )
