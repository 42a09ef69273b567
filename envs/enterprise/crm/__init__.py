"""CRM (``nemogym/CRM-v0``). Registration only; the env loads on ``make``."""

from nemogym.registry import register

register(
    "nemogym/CRM-v0",
    "nemogym.envs.enterprise.crm.env:CRMEnv",
    domain="enterprise",
    description="Sales CRM: accounts, contacts, opportunities and pipeline stages in SQLite, a "
                "discount-approval policy, ownership rules and duplicate-contact merging; "
                "scripted or LLM user.",
    multi_turn=True,
    uses_tools=True,
    data_source="procedural (seeded SQLite worlds)",
)
