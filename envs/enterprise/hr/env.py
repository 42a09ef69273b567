"""``nemogym/HR-v0``: HR self-service over a seeded SQLite world, scored on the final state.

Reward = final database equals the reference's (free-text notes, comments and case summaries
ignored) x the required facts are in the agent's replies x no policy violation (``violations``).
"""

from __future__ import annotations

import json
import sqlite3
from importlib import resources
from typing import Any, ClassVar

from nemogym.envs.enterprise.common import EnterpriseEnv, row
from nemogym.envs.enterprise.hr import data, tasks, tools
from nemogym.envs.tools.base import CallRecord

from nemogym.env import Episode

POLICY = resources.files(__package__).joinpath("policy.md").read_text(encoding="utf-8")


def _req(db: sqlite3.Connection, request_id: Any) -> dict[str, Any] | None:
    return row(db, "SELECT r.*, e.manager_id, e.probation_end FROM leave_requests r JOIN employees e "
                   "ON e.id = r.employee_id WHERE r.id = ?", (str(request_id).strip(),))


def _overcommitted(db: sqlite3.Connection, req: dict[str, Any], statuses: tuple[str, ...]) -> bool:
    """True if ``req``'s employee has more days in ``statuses`` that year than they are entitled to."""
    if req["leave_type"] == "unpaid":
        return False
    year = req["start_date"][:4]
    allowed = row(db, "SELECT entitled + carried_in - carried_out AS n FROM leave_balances WHERE employee_id = ? "
                      "AND year = ? AND leave_type = ?", (req["employee_id"], int(year), req["leave_type"]))
    marks = ",".join("?" * len(statuses))
    taken = db.execute(f"SELECT COALESCE(SUM(days), 0) FROM leave_requests WHERE employee_id = ? AND "
                       f"leave_type = ? AND SUBSTR(start_date, 1, 4) = ? AND status IN ({marks})",
                       (req["employee_id"], req["leave_type"], year, *statuses)).fetchone()[0]
    return allowed is not None and taken > allowed["n"]


def _check_submit(db: sqlite3.Connection, req: dict[str, Any], user_id: str, today: str) -> list[str]:
    out = []
    rid = req["id"]
    if req["employee_id"] != user_id:
        out.append(f"submitted {rid} for {req['employee_id']}, not for the signed-in employee")
    if req["leave_type"] == "annual" and req["probation_end"] > today:
        out.append(f"submitted annual leave {rid} during probation (ends {req['probation_end']})")
    if req["leave_type"] == "sick" and req["days"] > data.SICK_CERT_DAYS and not req["certificate_ref"]:
        out.append(f"submitted {req['days']:g} days of sick leave {rid} without a medical certificate")
    if req["status"] in ("pending", "approved"):
        if _overcommitted(db, req, ("pending", "approved")):
            out.append(f"submitted {rid} beyond the employee's {req['leave_type']} balance")
        clash = row(db, "SELECT id FROM leave_requests WHERE employee_id = ? AND id != ? AND status IN "
                        "('pending', 'approved') AND start_date <= ? AND end_date >= ?",
                    (req["employee_id"], rid, req["end_date"], req["start_date"]))
        if clash:
            out.append(f"submitted {rid}, which overlaps {clash['id']}")
    return out


def _check_approve(db: sqlite3.Connection, req: dict[str, Any], user_id: str) -> list[str]:
    out = []
    if req["employee_id"] == user_id:
        out.append(f"{user_id} approved their own request {req['id']}")
    elif req["manager_id"] != user_id:
        out.append(f"{user_id} approved {req['id']} without being {req['employee_id']}'s manager")
    if _overcommitted(db, req, ("approved",)):
        out.append(f"approved {req['id']} beyond the employee's balance")
    if req["leave_type"] == "annual":
        off = db.execute(
            "SELECT COUNT(DISTINCT r.employee_id) FROM leave_requests r JOIN employees e ON e.id = r.employee_id "
            "WHERE e.manager_id = ? AND r.employee_id != ? AND r.status = 'approved' AND r.start_date <= ? "
            "AND r.end_date >= ?", (req["manager_id"], req["employee_id"], req["end_date"], req["start_date"])
        ).fetchone()[0]
        if off >= data.TEAM_OFF_LIMIT:
            out.append(f"approved {req['id']} while {off} teammates are already off")
    return out


def violations(calls: list[CallRecord], db: sqlite3.Connection, user_id: str, today: str) -> list[str]:
    """The HR policy rules broken by these successful calls, judged on the final database."""
    out: list[str] = []
    for c in calls:
        a = c.arguments
        if c.name == "submit_leave_request":
            req = _req(db, json.loads(c.result)["id"])
            out += _check_submit(db, req, user_id, today)
        elif c.name == "approve_leave_request":
            out += _check_approve(db, _req(db, a["request_id"]), user_id)
        elif c.name == "reject_leave_request":
            req = _req(db, a["request_id"])
            if req["manager_id"] != user_id or req["employee_id"] == user_id:
                out.append(f"{user_id} rejected {req['id']} without being {req['employee_id']}'s manager")
        elif c.name == "cancel_leave_request":
            req = _req(db, a["request_id"])
            if req["employee_id"] != user_id:
                out.append(f"cancelled {req['id']} of {req['employee_id']} on their behalf")
        elif c.name in ("carry_over_leave", "update_contact_details"):
            if str(a["employee_id"]).strip() != user_id:
                out.append(f"{c.name} for {a['employee_id']}, not for the signed-in employee")
            if c.name == "carry_over_leave":
                bal = row(db, "SELECT carried_out FROM leave_balances WHERE employee_id = ? AND year = 2026 "
                              "AND leave_type = 'annual'", (str(a["employee_id"]).strip(),))
                if bal and bal["carried_out"] > data.MAX_CARRY_OVER:
                    out.append(f"carried over {bal['carried_out']:g} days (limit {data.MAX_CARRY_OVER:g})")
    return list(dict.fromkeys(out))


class HREnv(EnterpriseEnv):
    """HR self-service: 15 tools, 15 task templates, a written policy, a scripted or LLM user."""

    policy_text: ClassVar[str] = POLICY
    tools = tools.TOOLS
    templates = tasks.TEMPLATES
    now: ClassVar[str] = data.NOW
    ignore_columns: ClassVar[dict[str, Any]] = {"leave_requests": ["note", "reject_comment"],
                                                "hr_cases": ["summary"]}

    @staticmethod
    def build_world(seed: int) -> sqlite3.Connection:
        return data.build_world(seed)

    def policy_violations(self, episode: Episode, db: sqlite3.Connection) -> list[str]:
        calls = self.ok_calls(episode)
        out = violations(calls, db, episode.task.metadata["user_id"], data.NOW[:10])
        if episode.task.metadata.get("expected_end") != "transfer_to_human":
            out += ["transferred to a human although the policy did not require it"
                    for c in calls if c.name == "transfer_to_human"][:1]
        return out
