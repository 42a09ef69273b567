"""ITSM ticketing (``nemogym/ITSM-v0``). Registration only; the env loads on ``make``."""

from nemogym.registry import register

register(
    "nemogym/ITSM-v0",
    "nemogym.envs.enterprise.itsm.env:ITSMEnv",
    domain="enterprise",
    description="IT service desk: incidents and requests in SQLite, priority from impact x urgency, "
                "SLA timers, assignment groups, escalation and closure rules; scripted or LLM user.",
    multi_turn=True,
    uses_tools=True,
    data_source="procedural (seeded SQLite worlds)",
)
