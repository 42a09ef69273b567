"""The ITSM tools: what a service-desk agent can do to the ticketing database.

Tools check that records exist and that a change is physically possible (``ToolError``
otherwise) but do NOT enforce the written policy: like a real privileged console they let the
agent break it, and ``ITSMEnv.policy_violations`` catches that. Every change is written to the
``history`` table (who, when, old -> new), which the policy checks read.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from typing import Any, Literal

from nemogym.envs.enterprise.common import row, rows, transfer_to_human
from nemogym.envs.enterprise.itsm.data import (
    CATEGORY_GROUP,
    OPEN_STATES,
    REOPEN_DAYS,
    SLA_MINUTES,
    parse_time,
    priority_for,
    sla_due,
)
from nemogym.envs.tools.schema import ToolError

Category = Literal["hardware", "network", "access", "software", "email", "database", "security", "inquiry"]
Group = Literal["Service Desk", "Desktop Support", "Network", "Identity & Access", "Applications",
                "Database", "Security", "Major Incident"]
Level = Literal[1, 2, 3]
ResolutionCode = Literal["fixed", "workaround", "duplicate", "no_fault_found", "user_error"]


# -- helpers ---------------------------------------------------------------------------------
def _ticket(db: sqlite3.Connection, ticket_id: str) -> dict[str, Any]:
    t = row(db, "SELECT * FROM tickets WHERE ticket_id = ?", (ticket_id.strip().upper(),))
    if t is None:
        raise ToolError(f"ticket {ticket_id} not found")
    return t


def _log(db: sqlite3.Connection, ticket_id: str, field: str, old: Any, new: Any, by: str, at: str,
         detail: dict[str, Any] | None = None) -> None:
    db.execute("INSERT INTO history (ticket_id, field, old_value, new_value, changed_by, changed_at, detail) "
               "VALUES (?,?,?,?,?,?,?)", (ticket_id, field, None if old is None else str(old),
                                          None if new is None else str(new), by, at,
                                          json.dumps(detail) if detail else None))


def _set(db: sqlite3.Connection, t: dict[str, Any], changes: dict[str, Any], by: str, now: str,
         detail: dict[str, Any] | None = None) -> None:
    """Apply ``changes`` to ticket ``t`` and log each changed field."""
    real = {k: v for k, v in changes.items() if t.get(k) != v}
    if not real:
        return
    cols = ", ".join(f"{k} = ?" for k in real)
    db.execute(f"UPDATE tickets SET {cols}, updated_at = ? WHERE ticket_id = ?",
               (*real.values(), now, t["ticket_id"]))
    for k, v in real.items():
        _log(db, t["ticket_id"], k, t.get(k), v, by, now, detail)
    t.update(real)


def sla_status(t: dict[str, Any], now: str) -> dict[str, Any]:
    """The resolution clock of ticket ``t`` at ``now``: due time, minutes left, breached, at risk."""
    due = parse_time(t["resolve_due"])
    left = int((due - parse_time(now)).total_seconds() // 60)
    window = SLA_MINUTES[t["priority"]][1]
    running = t["state"] in ("new", "in_progress")
    return {"resolve_due": t["resolve_due"], "minutes_left": left, "clock": "running" if running else "paused",
            "breached": running and left < 0, "at_risk": running and 0 <= left < window * 0.25}


def escalation_eligible(t: dict[str, Any], now: str) -> tuple[bool, str]:
    """The policy's escalation rule, for the checker (the tool itself does not enforce it)."""
    if t["state"] not in ("new", "in_progress"):
        return False, f"state is {t['state']}"
    if t["priority"] == 1:
        return True, "P1"
    s = sla_status(t, now)
    if s["breached"] or s["at_risk"]:
        return True, "SLA breached" if s["breached"] else "SLA at risk"
    return False, f"SLA not at risk ({s['minutes_left']} min left)"


def _summary(t: dict[str, Any]) -> dict[str, Any]:
    return {"ticket_id": t["ticket_id"], "type": t["type"], "short_description": t["short_description"],
            "state": t["state"], "priority": f"P{t['priority']}", "opened_at": t["opened_at"],
            "assignment_group": t["assignment_group"]}


# -- read tools ------------------------------------------------------------------------------
def find_user(db: sqlite3.Connection, email: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
    """Look up employees by exact email address or by part of their name.

    Args:
        email: the employee's email address (exact, case-insensitive).
        name: part of the employee's full name.
    """
    if email:
        return rows(db, "SELECT user_id, name, email, department, location, title, vip FROM users "
                        "WHERE lower(email) = lower(?)", (email.strip(),))
    if name:
        return rows(db, "SELECT user_id, name, email, department, location, title, vip FROM users "
                        "WHERE name LIKE ? ORDER BY user_id LIMIT 10", (f"%{name.strip()}%",))
    raise ToolError("give an email or a name to search for")


def find_ci(db: sqlite3.Connection, name: str) -> list[dict[str, Any]]:
    """Find configuration items (services, devices, applications) by part of their name.

    Args:
        name: part of the configuration item's name, e.g. "VPN" or "Printer LON".
    """
    return rows(db, "SELECT ci_id, name, ci_type, category, location, owner_group FROM cis "
                    "WHERE name LIKE ? ORDER BY ci_id LIMIT 10", (f"%{name.strip()}%",))


def search_tickets(db: sqlite3.Connection, caller_id: str | None = None, ci_id: str | None = None,
                   state: Literal["open", "new", "in_progress", "on_hold", "resolved", "closed",
                                  "cancelled"] | None = None,
                   text: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """Search tickets by caller, configuration item, state and/or words in the short description.

    Args:
        caller_id: the caller's user id, e.g. "U1042".
        ci_id: a configuration item id, e.g. "CI2003".
        state: a ticket state, or "open" for new, in_progress and on_hold.
        text: words that appear in the short description.
        limit: the most tickets to return (1-50).
    """
    where, params = [], []
    if caller_id:
        where.append("caller_id = ?")
        params.append(caller_id)
    if ci_id:
        where.append("ci_id = ?")
        params.append(ci_id)
    if state == "open":
        where.append(f"state IN ({','.join('?' * len(OPEN_STATES))})")
        params.extend(OPEN_STATES)
    elif state:
        where.append("state = ?")
        params.append(state)
    if text:
        where.append("short_description LIKE ?")
        params.append(f"%{text}%")
    if not where:
        raise ToolError("give at least one filter (caller_id, ci_id, state or text)")
    found = rows(db, f"SELECT * FROM tickets WHERE {' AND '.join(where)} ORDER BY opened_at DESC LIMIT ?",
                 (*params, max(1, min(50, limit))))
    return [_summary(t) for t in found]


def get_ticket(db: sqlite3.Connection, now: str, ticket_id: str) -> dict[str, Any]:
    """Everything about one ticket: fields, SLA clock, notes.

    Args:
        ticket_id: e.g. "INC0001042" or "REQ0005017".
    """
    t = _ticket(db, ticket_id)
    out = {**t, "priority": f"P{t['priority']}", "sla": sla_status(t, now)}
    out["notes"] = rows(db, "SELECT kind, author, body, created_at FROM notes WHERE ticket_id = ? "
                            "ORDER BY note_id", (t["ticket_id"],))
    return out


# -- write tools -----------------------------------------------------------------------------
def create_ticket(db: sqlite3.Connection, user_id: str, now: str, caller_id: str,
                  type: Literal["incident", "request"], short_description: str, category: Category,
                  impact: Level, urgency: Level, ci_id: str | None = None, description: str = "",
                  related_ticket_id: str | None = None) -> dict[str, Any]:
    """Open a new incident or request. Priority and SLA follow from impact and urgency; the
    assignment group from the category.

    Args:
        caller_id: the user id of the person the ticket is for.
        type: "incident" (something is broken) or "request" (something is wanted).
        short_description: one line saying what is wrong or wanted.
        category: the category (for an incident on a configuration item, the item's category).
        impact: 1 = a department, site or more; 2 = a team or several people; 3 = one person.
        urgency: 1 = work stopped, no workaround; 2 = work degraded or a workaround exists;
            3 = an inconvenience.
        ci_id: the affected configuration item, if any.
        description: details.
        related_ticket_id: an earlier ticket this one follows up.
    """
    if row(db, "SELECT 1 AS x FROM users WHERE user_id = ?", (caller_id,)) is None:
        raise ToolError(f"caller {caller_id} not found")
    if ci_id and row(db, "SELECT 1 AS x FROM cis WHERE ci_id = ?", (ci_id,)) is None:
        raise ToolError(f"configuration item {ci_id} not found")
    if related_ticket_id:
        related_ticket_id = _ticket(db, related_ticket_id)["ticket_id"]
    prefix, start = ("INC", 1000) if type == "incident" else ("REQ", 5000)
    last = db.execute("SELECT max(CAST(substr(ticket_id, 4) AS INTEGER)) FROM tickets WHERE ticket_id LIKE ?",
                      (f"{prefix}%",)).fetchone()[0]
    tid = f"{prefix}{(last or start) + 1:07d}"
    prio = priority_for(impact, urgency)
    resp_due, res_due = sla_due(now, prio)
    group = CATEGORY_GROUP[category]
    db.execute("INSERT INTO tickets (ticket_id, type, caller_id, short_description, description, category, "
               "ci_id, impact, urgency, priority, state, assignment_group, assigned_to, escalation_level, "
               "opened_at, updated_at, response_due, resolve_due, related_id) "
               "VALUES (?,?,?,?,?,?,?,?,?,?, 'new', ?, NULL, 0, ?, ?, ?, ?, ?)",
               (tid, type, caller_id, short_description, description, category, ci_id, impact, urgency,
                prio, group, now, now, resp_due, res_due, related_ticket_id))
    _log(db, tid, "state", None, "new", user_id, now)
    return {"ticket_id": tid, "priority": f"P{prio}", "assignment_group": group, "state": "new",
            "response_due": resp_due, "resolve_due": res_due}


def update_ticket(db: sqlite3.Connection, user_id: str, now: str, ticket_id: str,
                  impact: Level | None = None, urgency: Level | None = None,
                  priority: Literal[1, 2, 3, 4] | None = None, category: Category | None = None,
                  state: Literal["in_progress", "on_hold"] | None = None,
                  short_description: str | None = None) -> dict[str, Any]:
    """Change fields of an open ticket. Changing impact or urgency recomputes the priority and
    the SLA due times.

    Args:
        ticket_id: the ticket to change.
        impact: new impact (1-3).
        urgency: new urgency (1-3).
        priority: set the priority directly (1-4).
        category: new category.
        state: "in_progress" or "on_hold".
        short_description: new one-line summary.
    """
    t = _ticket(db, ticket_id)
    if t["state"] not in OPEN_STATES:
        raise ToolError(f"{t['ticket_id']} is {t['state']}; only open tickets can be updated")
    changes: dict[str, Any] = {}
    for k, v in (("impact", impact), ("urgency", urgency), ("category", category), ("state", state),
                 ("short_description", short_description)):
        if v is not None:
            changes[k] = v
    new_prio = priority if priority is not None else priority_for(changes.get("impact", t["impact"]),
                                                                 changes.get("urgency", t["urgency"]))
    if new_prio != t["priority"]:
        changes["priority"] = new_prio
        changes["response_due"], changes["resolve_due"] = sla_due(t["opened_at"], new_prio)
    _set(db, t, changes, user_id, now)
    return {"ticket_id": t["ticket_id"], "priority": f"P{t['priority']}", "impact": t["impact"],
            "urgency": t["urgency"], "state": t["state"], "resolve_due": t["resolve_due"]}


def assign_ticket(db: sqlite3.Connection, user_id: str, now: str, ticket_id: str, group: Group,
                  agent_id: str | None = None) -> dict[str, Any]:
    """Assign an open ticket to an assignment group and optionally to one of its agents.

    Args:
        ticket_id: the ticket to assign.
        group: the assignment group.
        agent_id: an agent of that group, e.g. "A105"; leave empty to assign to the group only.
    """
    t = _ticket(db, ticket_id)
    if t["state"] not in OPEN_STATES:
        raise ToolError(f"{t['ticket_id']} is {t['state']}; only open tickets can be assigned")
    if agent_id is not None and row(db, "SELECT 1 AS x FROM agents WHERE agent_id = ? AND group_name = ?",
                                    (agent_id, group)) is None:
        raise ToolError(f"agent {agent_id} is not in group {group}")
    _set(db, t, {"assignment_group": group, "assigned_to": agent_id}, user_id, now)
    return _summary(t) | {"assigned_to": agent_id}


def add_note(db: sqlite3.Connection, user_id: str, now: str, ticket_id: str, body: str,
             kind: Literal["comment", "work_note"] = "work_note") -> dict[str, Any]:
    """Add a note to a ticket: a "comment" is visible to the caller, a "work_note" is internal.

    Args:
        ticket_id: the ticket.
        body: the text of the note.
        kind: "comment" or "work_note".
    """
    t = _ticket(db, ticket_id)
    if not body.strip():
        raise ToolError("the note is empty")
    cur = db.execute("INSERT INTO notes (ticket_id, kind, author, body, created_at) VALUES (?,?,?,?,?)",
                     (t["ticket_id"], kind, user_id, body, now))
    return {"note_id": cur.lastrowid, "ticket_id": t["ticket_id"], "kind": kind}


def escalate_ticket(db: sqlite3.Connection, user_id: str, now: str, ticket_id: str, reason: str) -> dict[str, Any]:
    """Escalate an open ticket one level: a P1 goes to the Major Incident group, anything else
    to the lead of its current group. Records the reason as a work note.

    Args:
        ticket_id: the ticket to escalate.
        reason: why it is escalated.
    """
    t = _ticket(db, ticket_id)
    if t["state"] not in OPEN_STATES:
        raise ToolError(f"{t['ticket_id']} is {t['state']}; only open tickets can be escalated")
    eligible, why = escalation_eligible(t, now)
    group = "Major Incident" if t["priority"] == 1 else t["assignment_group"]
    lead = row(db, "SELECT lead_agent_id FROM groups WHERE group_name = ?", (group,))["lead_agent_id"]
    _set(db, t, {"escalation_level": t["escalation_level"] + 1, "assignment_group": group, "assigned_to": lead},
         user_id, now, {"escalation": True, "eligible": eligible, "why": why})
    db.execute("INSERT INTO notes (ticket_id, kind, author, body, created_at) VALUES (?,?,?,?,?)",
               (t["ticket_id"], "work_note", user_id, f"Escalated: {reason}", now))
    return {"ticket_id": t["ticket_id"], "escalation_level": t["escalation_level"],
            "assignment_group": group, "assigned_to": lead}


def resolve_ticket(db: sqlite3.Connection, user_id: str, now: str, ticket_id: str,
                   resolution_code: ResolutionCode, resolution_notes: str) -> dict[str, Any]:
    """Mark an open ticket resolved with a resolution code and notes.

    Args:
        ticket_id: the ticket.
        resolution_code: fixed, workaround, duplicate, no_fault_found or user_error.
        resolution_notes: what was done.
    """
    t = _ticket(db, ticket_id)
    if t["state"] not in OPEN_STATES:
        raise ToolError(f"{t['ticket_id']} is {t['state']}; only open tickets can be resolved")
    _set(db, t, {"state": "resolved", "resolved_at": now, "resolution_code": resolution_code,
                 "resolution_notes": resolution_notes}, user_id, now)
    return _summary(t) | {"resolved_at": now}


def close_ticket(db: sqlite3.Connection, user_id: str, now: str, ticket_id: str) -> dict[str, Any]:
    """Close a ticket.

    Args:
        ticket_id: the ticket.
    """
    t = _ticket(db, ticket_id)
    if t["state"] in ("closed", "cancelled"):
        raise ToolError(f"{t['ticket_id']} is already {t['state']}")
    _set(db, t, {"state": "closed", "closed_at": now}, user_id, now)
    return _summary(t) | {"closed_at": now}


def reopen_ticket(db: sqlite3.Connection, user_id: str, now: str, ticket_id: str, reason: str) -> dict[str, Any]:
    """Reopen a resolved or closed ticket (back to in_progress, resolution cleared).

    Args:
        ticket_id: the ticket.
        reason: why it is reopened.
    """
    t = _ticket(db, ticket_id)
    if t["state"] not in ("resolved", "closed"):
        raise ToolError(f"{t['ticket_id']} is {t['state']}; only resolved or closed tickets can be reopened")
    resp_due, res_due = sla_due(now, t["priority"])
    eligible = t["state"] == "resolved" and days_since(t["resolved_at"], now) <= REOPEN_DAYS
    _set(db, t, {"state": "in_progress", "resolved_at": None, "closed_at": None, "resolution_code": None,
                 "resolution_notes": None, "response_due": resp_due, "resolve_due": res_due}, user_id, now,
         {"reopen": True, "eligible": eligible, "was": t["state"]})
    db.execute("INSERT INTO notes (ticket_id, kind, author, body, created_at) VALUES (?,?,?,?,?)",
               (t["ticket_id"], "work_note", user_id, f"Reopened: {reason}", now))
    return _summary(t) | {"resolve_due": res_due}


def cancel_ticket(db: sqlite3.Connection, user_id: str, now: str, ticket_id: str, reason: str) -> dict[str, Any]:
    """Cancel a ticket.

    Args:
        ticket_id: the ticket.
        reason: why it is cancelled.
    """
    t = _ticket(db, ticket_id)
    if t["state"] == "cancelled":
        raise ToolError(f"{t['ticket_id']} is already cancelled")
    _set(db, t, {"state": "cancelled", "resolution_notes": reason}, user_id, now)
    return _summary(t)


def days_since(ts: str | None, now: str) -> float:
    """Days from ``ts`` to ``now`` (inf if ``ts`` is None)."""
    if not ts:
        return float("inf")
    return (parse_time(now) - parse_time(ts)) / timedelta(days=1)


TOOLS = [find_user, find_ci, search_tickets, get_ticket, create_ticket, update_ticket, assign_ticket,
         add_note, escalate_ticket, resolve_ticket, close_ticket, reopen_ticket, cancel_ticket,
         transfer_to_human]
WRITE_TOOLS = {"create_ticket", "update_ticket", "assign_ticket", "add_note", "escalate_ticket",
               "resolve_ticket", "close_ticket", "reopen_ticket", "cancel_ticket"}
