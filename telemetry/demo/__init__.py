"""Demo data: a generated organization (slug ``demo``) that shows every page working.

``generate_demo`` fills it deterministically for a seed; ``remove_demo`` deletes
it again. It never touches other organizations.
"""

from telemetry.demo.catalog import DEMO_ORG, DEMO_ORG_NAME
from telemetry.demo.generator import DemoSummary, generate_demo, is_demo_org, remove_demo

__all__ = [
    "DEMO_ORG",
    "DEMO_ORG_NAME",
    "DemoSummary",
    "generate_demo",
    "is_demo_org",
    "remove_demo",
]
