"""HR (``nemogym/HR-v0``). Registration only; the env loads on ``make``."""

from nemogym.registry import register

register(
    "nemogym/HR-v0",
    "nemogym.envs.enterprise.hr.env:HREnv",
    domain="enterprise",
    description="HR self-service: employees, managers, leave balances and requests in SQLite, "
                "approvals with team-coverage rules, overlaps, probation, carry-over limits and "
                "escalation to HR; scripted or LLM user.",
    multi_turn=True,
    uses_tools=True,
    data_source="procedural (seeded SQLite worlds)",
)
