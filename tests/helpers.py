"""Constants and helpers shared by tests of every tier."""

from __future__ import annotations

import datetime as dt

from daivi_data import clock
from daivi_data.identity import Principal
from daivi_data.settings import PROJECT_ROOT

SEED = 7
FIXTURES = PROJECT_ROOT / "tests" / "fixtures"  # test data vendored with its licence: a plain clone runs every test
PERSONAS = ("admin", "finance", "ops", "teamlead")
PERSONA_ROLES = {"admin": "admin", "finance": "finance-analyst", "ops": "ops-engineer", "teamlead": "team-lead-payments"}
PAYMENTS_ACCOUNT_IDS = ("411111111101", "411111111102", "411111111103", "411111111104", "411111111105")


def demo_end_date() -> dt.date:
    """The small lakehouse ends yesterday (UTC), like a real export: the day before the session's stopped clock."""
    return clock.today() - dt.timedelta(days=1)


def principal(persona: str) -> Principal:
    """The principal of a demo persona (without going through Streamlit)."""
    role = PERSONA_ROLES[persona]
    return Principal(user_id=f"demo:{persona}", email=f"{persona}@daivi.example", display_name=persona, role=role)
