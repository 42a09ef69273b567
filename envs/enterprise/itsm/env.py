"""``nemogym/ITSM-v0``: an IT service desk over a seeded SQLite ticketing database.

The model is a desk agent following ``policy.md`` (the system prompt), talking to a caller
(scripted by default, or ``user=LLMUser(policy)``) and using 14 tools. Reward: the final
database equals the one the reference solution produces, the reply states the required facts,
and no policy rule was broken (see ``policy_violations``).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, ClassVar

from nemogym.envs.enterprise.common import EnterpriseEnv, TaskTemplate
from nemogym.envs.enterprise.itsm.data import DESK_AGENT, NOW, build_world
from nemogym.envs.enterprise.itsm.tasks import TEMPLATES
from nemogym.envs.enterprise.itsm.tools import TOOLS, WRITE_TOOLS

from nemogym.env import Episode

POLICY = (Path(__file__).with_name("policy.md")).read_text(encoding="utf-8")


class ITSMEnv(EnterpriseEnv):
    """IT service desk: incidents, requests, priorities, SLAs, escalation and closure rules."""

    policy_text = POLICY
    tools = TOOLS
    templates: ClassVar[list[TaskTemplate]] = TEMPLATES
    now = NOW
    compared_tables = ("tickets", "users", "cis", "groups", "agents", "sla")
    ignore_columns: ClassVar[dict[str, list[str]]] = {
        "tickets": ["short_description", "description", "resolution_notes", "updated_at"]}

    @staticmethod
    def build_world(seed: int) -> sqlite3.Connection:
        return build_world(seed)

    def policy_violations(self, episode: Episode, db: sqlite3.Connection) -> list[str]:
        """Rules of ``policy.md`` the episode broke, read from the calls and the final database."""
        out = self._unverified(episode, db)
        if episode.task.metadata.get("expected_end") == "transfer_to_human":
            out += [f"{c.name} on a request the policy reserves for a human" for c in self.ok_calls(episode)
                    if c.name in WRITE_TOOLS]
        out += [f"{r[0]}: priority P{r[1]} does not follow impact {r[2]} x urgency {r[3]}" for r in db.execute(
            "SELECT ticket_id, priority, impact, urgency FROM tickets WHERE priority != min(4, impact + urgency - 1)")]
        for h in db.execute("SELECT * FROM history ORDER BY hist_id"):
            detail = json.loads(h["detail"]) if h["detail"] else {}
            if h["field"] == "state" and h["new_value"] == "closed" and h["old_value"] != "resolved":
                out.append(f"{h['ticket_id']}: closed while {h['old_value']} (close only resolved tickets)")
            if h["field"] == "state" and h["new_value"] == "cancelled" and h["old_value"] in ("resolved", "closed"):
                out.append(f"{h['ticket_id']}: cancelled while {h['old_value']}")
            if h["field"] == "state" and detail.get("reopen") and not detail.get("eligible"):
                out.append(f"{h['ticket_id']}: reopened although {detail.get('was')} / resolved over 7 days ago")
            if h["field"] == "escalation_level" and not detail.get("eligible", True):
                out.append(f"{h['ticket_id']}: escalated although not eligible ({detail.get('why')})")
            if h["field"] == "assignment_group" and not detail.get("escalation") and not db.execute(
                    "SELECT 1 FROM notes WHERE ticket_id = ? AND kind = 'work_note' AND author = ? AND created_at = ?",
                    (h["ticket_id"], DESK_AGENT, NOW)).fetchone():
                out.append(f"{h['ticket_id']}: reassigned to {h['new_value']} without a work note")
        out += [f"{r[0]}: P1 incident created but not escalated" for r in db.execute(
            "SELECT t.ticket_id FROM tickets t JOIN history h ON h.ticket_id = t.ticket_id AND h.field = 'state' "
            "AND h.old_value IS NULL WHERE t.priority = 1 AND t.escalation_level = 0")]
        return sorted(set(out))

    def _unverified(self, episode: Episode, db: sqlite3.Connection) -> list[str]:
        """Ticket actions for a caller who was not identified by email first, and an answer to
        the task's caller given without ever identifying them (the policy: identify the caller
        before you discuss any ticket)."""
        verified: set[str] = set()
        out = []
        for c in self.ok_calls(episode):
            if c.name == "find_user" and c.arguments.get("email"):
                verified.update(u["user_id"] for u in _json_list(c.result))
                continue
            if c.name not in WRITE_TOOLS and c.name != "get_ticket":
                continue
            caller = c.arguments.get("caller_id") if c.name == "create_ticket" else _caller(db, c.arguments)
            if caller is not None and caller not in verified:
                out.append(f"{c.name} for caller {caller} before identifying them by email")
        caller = episode.task.metadata.get("caller_id")
        if (caller and caller not in verified and episode.data.get("finished_by") != "transfer_to_human"
                and self.agent_text(episode)):
            out.append(f"answered caller {caller} without identifying them by email")
        return out


def _caller(db: sqlite3.Connection, arguments: dict[str, Any]) -> str | None:
    tid = str(arguments.get("ticket_id", "")).strip().upper()
    r = db.execute("SELECT caller_id FROM tickets WHERE ticket_id = ?", (tid,)).fetchone()
    return r[0] if r else None


def _json_list(text: str) -> list[dict[str, Any]]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return []
    return [v for v in value if isinstance(v, dict) and "user_id" in v] if isinstance(value, list) else []
