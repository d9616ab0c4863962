"""``python -m telemetry``: see ``python -m telemetry --help``."""

from telemetry.cli import main

raise SystemExit(main())
