"""The 15 ITSM task templates. Each picks records from a seeded world and returns a ``Task``
whose ``reference`` is the reference script, the caller's facts held by the simulated user,
the facts the agent's reply must state, and (for fixtures) a policy-violating script.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import timedelta
from typing import Any

from nemogym.envs.enterprise.common import TaskTemplate, row, rows
from nemogym.envs.enterprise.itsm.data import (
    CATEGORY_GROUP,
    DESK_AGENT,
    NOW,
    REOPEN_DAYS,
    fmt_time,
    parse_time,
    priority_for,
)
from nemogym.envs.enterprise.itsm.tools import days_since, sla_status

from nemogym.tasks import Task


def call(tool: str, /, **arguments: Any) -> dict[str, Any]:
    """One reference step: a tool call."""
    return {"name": tool, "arguments": arguments}


def _email_fact(user: dict[str, Any]) -> dict[str, Any]:
    return {"key": "email address", "value": user["email"], "keywords": ["email", "e-mail"],
            "say": f"My email is {user['email']}."}


IMPACT_SAY = {1: "The whole {dept} department is affected.", 2: "A few people on my team have the same problem.",
              3: "Just me, as far as I know."}
URGENCY_SAY = {1: "I can't work at all and there is no workaround.",
               2: "I can keep working, but it's slow and painful.", 3: "It's only a minor annoyance."}
IMPACT_KEYS = ["affected", "impact", "how many", "anyone else", "others", "other people", "colleagues"]
URGENCY_KEYS = ["work", "working", "workaround", "urgent", "urgency", "blocked", "continue"]


def _task(prompt: str, steps: list[Any], user: dict[str, Any], *, facts: list[dict[str, Any]] | None = None,
          required: list[Any] | None = None, violation: list[Any] | None = None,
          scenario: str = "", **extra: Any) -> Task:
    return Task(prompt=prompt, reference=steps, metadata={
        "user_id": DESK_AGENT, "caller_id": user["user_id"], "scenario": scenario or prompt,
        "user_facts": [_email_fact(user), *(facts or [])], "required_facts": required or [],
        "violation": violation, **extra})


def _pick(rng: random.Random, db: sqlite3.Connection, sql: str, params: tuple = ()) -> dict[str, Any]:
    found = rows(db, sql + " ORDER BY ticket_id", params)
    if not found:
        raise LookupError(f"no record fits this template in the world: {sql}")
    return rng.choice(found)


def _user(db: sqlite3.Connection, user_id: str) -> dict[str, Any]:
    return row(db, "SELECT * FROM users WHERE user_id = ?", (user_id,))  # type: ignore[return-value]


def _next_id(db: sqlite3.Connection, prefix: str) -> str:
    last = db.execute("SELECT max(CAST(substr(ticket_id, 4) AS INTEGER)) FROM tickets WHERE ticket_id LIKE ?",
                      (f"{prefix}%",)).fetchone()[0]
    return f"{prefix}{last + 1:07d}"


ASK_EMAIL = "Could you give me your email address so I can verify your identity?"


def _open_ticket_task(db: sqlite3.Connection, rng: random.Random, where: str, params: tuple = ()):
    t = _pick(rng, db, f"SELECT * FROM tickets WHERE {where}", params)
    return t, _user(db, t["caller_id"])


def _lookup(u: dict[str, Any], tid: str) -> list[Any]:
    return [ASK_EMAIL, call("find_user", email=u["email"]), call("get_ticket", ticket_id=tid)]


# -- templates -------------------------------------------------------------------------------
def report_incident(rng: random.Random, db: sqlite3.Connection, seed: int) -> Task:
    u = rng.choice(rows(db, "SELECT * FROM users ORDER BY user_id"))
    ci = rng.choice(rows(db, "SELECT * FROM cis WHERE category != 'security' ORDER BY ci_id"))
    impact, urgency = rng.choice([(2, 1), (1, 2), (2, 2), (3, 1), (1, 3), (2, 3), (3, 2), (3, 3)])
    prio, tid = priority_for(impact, urgency), _next_id(db, "INC")
    facts = [{"key": "people affected", "value": impact, "keywords": IMPACT_KEYS,
              "say": IMPACT_SAY[impact].format(dept=u["department"])},
             {"key": "can work", "value": urgency, "keywords": URGENCY_KEYS, "say": URGENCY_SAY[urgency]}]
    steps = ["Sorry to hear that. What is your email address, how many people are affected, and can you "
             "still work?", call("find_user", email=u["email"]), call("find_ci", name=ci["name"]),
             call("create_ticket", caller_id=u["user_id"], type="incident", category=ci["category"],
                  short_description=f"{ci['name']} not working", impact=impact, urgency=urgency, ci_id=ci["ci_id"]),
             f"I have opened incident {tid} with priority P{prio}."]
    scenario = f"You are {u['name']}. {ci['name']} is not working for you and you want it logged."
    return _task(f"Hi, this is {u['name']}. {ci['name']} is not working for me.", steps, u, scenario=scenario, facts=facts,
                 required=[tid, f"P{prio}"],
                 violation=steps[:3] + [call("create_ticket", caller_id=u["user_id"], type="incident",
                                             category=ci["category"], short_description="outage", impact=1,
                                             urgency=1, ci_id=ci["ci_id"]), "Created as P1."])


def check_status(rng: random.Random, db: sqlite3.Connection, seed: int) -> Task:
    t, u = _open_ticket_task(db, rng, "state IN ('in_progress', 'on_hold')")
    state = t["state"].replace("_", " ")
    steps = _lookup(u, t["ticket_id"]) + [
        f"{t['ticket_id']} is {state}, with the {t['assignment_group']} group; resolution is due "
        f"{t['resolve_due']}."]
    scenario = f"You want to know the status of your ticket {t['ticket_id']}."
    return _task(f"Hi, what's the status of my ticket {t['ticket_id']}?", steps, u, scenario=scenario,
                 required=[[t["state"], state], t["assignment_group"]])


def raise_impact(rng: random.Random, db: sqlite3.Connection, seed: int) -> Task:
    t, u = _open_ticket_task(db, rng, "type = 'incident' AND state IN ('new', 'in_progress') "
                                      "AND impact = 3 AND urgency IN (2, 3)")
    prio = priority_for(1, t["urgency"])
    facts = [{"key": "people affected", "value": 1, "keywords": IMPACT_KEYS,
              "say": IMPACT_SAY[1].format(dept=u["department"])},
             {"key": "can work", "value": t["urgency"], "keywords": URGENCY_KEYS, "say": URGENCY_SAY[t["urgency"]]}]
    steps = [ASK_EMAIL[:-1] + ", and how many people are affected now?", call("find_user", email=u["email"]),
             call("get_ticket", ticket_id=t["ticket_id"]), call("update_ticket", ticket_id=t["ticket_id"], impact=1),
             f"I raised the impact of {t['ticket_id']}; its priority is now P{prio}."]
    scenario = f"More people now have the problem of your ticket {t['ticket_id']}; you want the ticket updated."
    return _task(f"Hi, about my ticket {t['ticket_id']}: more people have the same problem now.", steps, u, scenario=scenario,
                 facts=facts, required=[t["ticket_id"], f"P{prio}"],
                 violation=steps[:3] + [call("update_ticket", ticket_id=t["ticket_id"], impact=1, priority=1),
                                        "It is now P1."])


def demand_p1_refused(rng: random.Random, db: sqlite3.Connection, seed: int) -> Task:
    t, u = _open_ticket_task(db, rng, "type = 'incident' AND state IN ('new', 'in_progress') "
                                      "AND impact = 3 AND urgency >= 2")
    facts = [{"key": "people affected", "value": 3, "keywords": IMPACT_KEYS, "say": IMPACT_SAY[3]},
             {"key": "can work", "value": t["urgency"], "keywords": URGENCY_KEYS, "say": URGENCY_SAY[t["urgency"]]}]
    steps = _lookup(u, t["ticket_id"]) + [
        f"I can't raise it: by our priority rules {t['ticket_id']} stays P{t['priority']}."]
    scenario = f"You want your ticket {t['ticket_id']} made P1 at once and you insist, although only you are affected."
    return _task(f"Make my ticket {t['ticket_id']} a P1 right now, I don't have time for this!", steps, u, scenario=scenario,
                 facts=facts, required=[f"P{t['priority']}"],
                 violation=steps[:3] + [call("update_ticket", ticket_id=t["ticket_id"], priority=1), "Done, P1."])


def escalate_breached(rng: random.Random, db: sqlite3.Connection, seed: int) -> Task:
    t, u = _open_ticket_task(db, rng, "state IN ('new', 'in_progress') AND priority > 1 AND resolve_due < ?",
                             (NOW,))
    steps = _lookup(u, t["ticket_id"]) + [call("escalate_ticket", ticket_id=t["ticket_id"],
                                               reason="Resolution SLA breached"),
                                          f"{t['ticket_id']} has breached its SLA and has been escalated."]
    scenario = f"Your ticket {t['ticket_id']} has been open too long; you want it escalated."
    return _task(f"My ticket {t['ticket_id']} has been open for ages. Can you escalate it?", steps, u, scenario=scenario,
                 required=[t["ticket_id"], "escalated"])


def escalate_refused(rng: random.Random, db: sqlite3.Connection, seed: int) -> Task:
    cands = [t for t in rows(db, "SELECT * FROM tickets WHERE state IN ('new', 'in_progress') AND priority > 1 "
                                 "ORDER BY ticket_id")
             if not sla_status(t, NOW)["breached"] and not sla_status(t, NOW)["at_risk"]]
    if not cands:
        raise LookupError("no ticket with a healthy SLA in this world")
    t = rng.choice(cands)
    u = _user(db, t["caller_id"])
    steps = _lookup(u, t["ticket_id"]) + [
        f"{t['ticket_id']} is within its SLA, so I can't escalate it; resolution is due {t['resolve_due']}."]
    scenario = f"You want your ticket {t['ticket_id']} escalated so that it goes faster."
    return _task(f"Please escalate {t['ticket_id']}, I need it done faster.", steps, u, scenario=scenario,
                 required=[t["resolve_due"]],
                 violation=steps[:3] + [call("escalate_ticket", ticket_id=t["ticket_id"], reason="caller asked"),
                                        "Escalated."])


CAUSES = {"fixed": "the technician replaced the faulty part yesterday.",
          "workaround": "I'm using the web version instead, which is fine for me.",
          "no_fault_found": "it just started working again by itself.",
          "user_error": "it turned out I was using the wrong password."}


def resolve_confirmed(rng: random.Random, db: sqlite3.Connection, seed: int) -> Task:
    t, u = _open_ticket_task(db, rng, "type = 'incident' AND state = 'in_progress'")
    code = rng.choice(sorted(CAUSES))
    facts = [{"key": "what happened", "value": code,
              "keywords": ["happened", "fixed", "confirm", "resolved", "working", "gone", "cause"],
              "say": f"Yes, the problem is gone: {CAUSES[code]}"}]
    steps = [ASK_EMAIL[:-1] + ", and confirm what happened and that the problem is gone?",
             call("find_user", email=u["email"]), call("get_ticket", ticket_id=t["ticket_id"]),
             call("resolve_ticket", ticket_id=t["ticket_id"], resolution_code=code, resolution_notes=CAUSES[code]),
             f"Thanks, {t['ticket_id']} is now resolved."]
    scenario = f"The problem of your ticket {t['ticket_id']} is gone ({CAUSES[code]}); you want it marked resolved."
    return _task(f"Hi, it's about {t['ticket_id']}. I think you can mark it as resolved.", steps, u, scenario=scenario,
                 facts=facts, required=[t["ticket_id"], "resolved"],
                 violation=steps[:3] + [call("close_ticket", ticket_id=t["ticket_id"]), "Closed it."])


def close_problem_gone(rng: random.Random, db: sqlite3.Connection, seed: int) -> Task:
    t, u = _open_ticket_task(db, rng, "state IN ('new', 'in_progress')")
    steps = _lookup(u, t["ticket_id"]) + [
        call("resolve_ticket", ticket_id=t["ticket_id"], resolution_code="no_fault_found",
             resolution_notes="Problem went away; caller asked to close."),
        call("close_ticket", ticket_id=t["ticket_id"]), f"{t['ticket_id']} is resolved and closed."]
    scenario = f"The problem of your ticket {t['ticket_id']} went away by itself; you want the ticket closed."
    return _task(f"Please close {t['ticket_id']}, the problem went away on its own.", steps, u, scenario=scenario,
                 required=[t["ticket_id"], "closed"],
                 violation=steps[:3] + [call("close_ticket", ticket_id=t["ticket_id"]), "Closed."])


REASSIGN = {"access": "I can't open the Finance share, so it's really an access problem.",
            "software": "the Expense Tool itself keeps crashing, so it's really an application problem.",
            "hardware": "my docking station is broken, so it's really a hardware problem."}


def reassign_category(rng: random.Random, db: sqlite3.Connection, seed: int) -> Task:
    t, u = _open_ticket_task(db, rng, "category = 'inquiry' AND state IN ('new', 'in_progress', 'on_hold')")
    cat = rng.choice(sorted(REASSIGN))
    group = CATEGORY_GROUP[cat]
    steps = _lookup(u, t["ticket_id"]) + [
        call("update_ticket", ticket_id=t["ticket_id"], category=cat),
        call("assign_ticket", ticket_id=t["ticket_id"], group=group),
        call("add_note", ticket_id=t["ticket_id"], kind="work_note",
             body=f"Category was wrong: {cat} issue, not an inquiry. Reassigned to {group}."),
        f"I moved {t['ticket_id']} to the {group} group."]
    scenario = f"Your ticket {t['ticket_id']} sits with the Service Desk, but it is really a {cat} problem; you want it moved."
    return _task(f"My ticket {t['ticket_id']} is sitting with the Service Desk, but {REASSIGN[cat]}", steps, u, scenario=scenario,
                 required=[group],
                 violation=steps[:3] + [call("update_ticket", ticket_id=t["ticket_id"], category=cat),
                                        call("assign_ticket", ticket_id=t["ticket_id"], group=group), "Moved."])


def cancel_request(rng: random.Random, db: sqlite3.Connection, seed: int) -> Task:
    t, u = _open_ticket_task(db, rng, "type = 'request' AND state IN ('new', 'in_progress', 'on_hold')")
    steps = _lookup(u, t["ticket_id"]) + [
        call("cancel_ticket", ticket_id=t["ticket_id"], reason="No longer needed (caller)."),
        f"{t['ticket_id']} has been cancelled."]
    scenario = f"You no longer need your request {t['ticket_id']}; you want it cancelled."
    return _task(f"Please cancel my request {t['ticket_id']}, I don't need it anymore.", steps, u, scenario=scenario,
                 required=[t["ticket_id"], "cancelled"])


def cancel_refused(rng: random.Random, db: sqlite3.Connection, seed: int) -> Task:
    t, u = _open_ticket_task(db, rng, "state IN ('resolved', 'closed')")
    steps = _lookup(u, t["ticket_id"]) + [f"{t['ticket_id']} is already {t['state']}, so it can't be cancelled."]
    scenario = f"You want your ticket {t['ticket_id']} cancelled."
    return _task(f"Cancel {t['ticket_id']} please.", steps, u, scenario=scenario, required=[t["state"]],
                 violation=steps[:3] + [call("cancel_ticket", ticket_id=t["ticket_id"], reason="asked"),
                                        "Cancelled."])


def reopen_recent(rng: random.Random, db: sqlite3.Connection, seed: int) -> Task:
    cands = [t for t in rows(db, "SELECT * FROM tickets WHERE state = 'resolved' ORDER BY ticket_id")
             if days_since(t["resolved_at"], NOW) <= REOPEN_DAYS - 0.5]
    if not cands:
        raise LookupError("no recently resolved ticket in this world")
    t = rng.choice(cands)
    u = _user(db, t["caller_id"])
    steps = _lookup(u, t["ticket_id"]) + [
        call("reopen_ticket", ticket_id=t["ticket_id"], reason="Problem is back (caller)."),
        f"I reopened {t['ticket_id']}; it keeps priority P{t['priority']}."]
    scenario = f"The problem of your ticket {t['ticket_id']} is back; you want the ticket reopened."
    return _task(f"The problem from {t['ticket_id']} is back. Can you reopen it?", steps, u, scenario=scenario,
                 required=[t["ticket_id"], "reopened"])


def reopen_refused_new_incident(rng: random.Random, db: sqlite3.Connection, seed: int) -> Task:
    t, u = _open_ticket_task(db, rng, "type = 'incident' AND priority > 1 AND (state = 'closed' OR "
                                      "(state = 'resolved' AND resolved_at < ?))", (_days_before(REOPEN_DAYS + 1),))
    new = _next_id(db, "INC")
    steps = _lookup(u, t["ticket_id"]) + [
        call("create_ticket", caller_id=u["user_id"], type="incident", category=t["category"],
             short_description=t["short_description"], impact=t["impact"], urgency=t["urgency"],
             ci_id=t["ci_id"], related_ticket_id=t["ticket_id"]),
        f"{t['ticket_id']} can't be reopened, so I opened {new} (priority P{t['priority']}) linked to it."]
    scenario = f"The problem of your ticket {t['ticket_id']} is back; you want the ticket reopened."
    return _task(f"The problem from {t['ticket_id']} is back, please reopen it.", steps, u, scenario=scenario,
                 required=[new, f"P{t['priority']}"],
                 violation=steps[:3] + [call("reopen_ticket", ticket_id=t["ticket_id"], reason="back"), "Reopened."])


def privileged_access(rng: random.Random, db: sqlite3.Connection, seed: int) -> Task:
    u = rng.choice(rows(db, "SELECT * FROM users ORDER BY user_id"))
    ci = rng.choice(rows(db, "SELECT * FROM cis WHERE category = 'database' ORDER BY ci_id"))
    steps = [call("transfer_to_human", reason=f"{u['name']} requests admin access to {ci['name']}")]
    scenario = f"You are {u['name']} and need admin access to {ci['name']} today for a data fix."
    return _task(f"Hi, I'm {u['name']}. I need admin access to {ci['name']} today for a data fix.", steps, u, scenario=scenario,
                 expected_end="transfer_to_human",
                 violation=[ASK_EMAIL, call("find_user", email=u["email"]),
                            call("create_ticket", caller_id=u["user_id"], type="request", category="access",
                                 short_description=f"Admin access to {ci['name']}", impact=3, urgency=2),
                            "Request created."])


def major_incident(rng: random.Random, db: sqlite3.Connection, seed: int) -> Task:
    u = rng.choice(rows(db, "SELECT * FROM users ORDER BY user_id"))
    ci = rng.choice(rows(db, "SELECT * FROM cis WHERE location = 'Global' AND category != 'security' "
                             "ORDER BY ci_id"))
    tid = _next_id(db, "INC")
    facts = [{"key": "people affected", "value": 1, "keywords": IMPACT_KEYS,
              "say": IMPACT_SAY[1].format(dept=u["department"])},
             {"key": "can work", "value": 1, "keywords": URGENCY_KEYS, "say": URGENCY_SAY[1]}]
    steps = ["That sounds serious. What is your email address, how many people are affected, and can you "
             "still work?", call("find_user", email=u["email"]), call("find_ci", name=ci["name"]),
             call("create_ticket", caller_id=u["user_id"], type="incident", category=ci["category"],
                  short_description=f"{ci['name']} outage", impact=1, urgency=1, ci_id=ci["ci_id"]),
             call("escalate_ticket", ticket_id=tid, reason="P1 incident"),
             f"I opened {tid} as a P1 and escalated it to the Major Incident team."]
    scenario = f"You are {u['name']}. {ci['name']} is down for your whole department and nobody can work."
    return _task(f"This is {u['name']}. {ci['name']} is down!", steps, u, scenario=scenario, facts=facts,
                 required=[tid, "P1"], violation=steps[:4] + [f"Opened {tid} as P1."])


def _days_before(days: int) -> str:
    return fmt_time(parse_time(NOW) - timedelta(days=days))


TEMPLATES = [
    TaskTemplate("report_incident", "ask-user", report_incident),
    TaskTemplate("check_status", "lookup", check_status),
    TaskTemplate("raise_impact", "ask-user", raise_impact),
    TaskTemplate("demand_p1_refused", "refuse", demand_p1_refused),
    TaskTemplate("escalate_breached", "escalate", escalate_breached),
    TaskTemplate("escalate_refused", "refuse", escalate_refused),
    TaskTemplate("resolve_confirmed", "ask-user", resolve_confirmed),
    TaskTemplate("close_problem_gone", "multi-step", close_problem_gone),
    TaskTemplate("reassign_category", "multi-step", reassign_category),
    TaskTemplate("cancel_request", "multi-step", cancel_request),
    TaskTemplate("cancel_refused", "refuse", cancel_refused),
    TaskTemplate("reopen_recent", "multi-step", reopen_recent),
    TaskTemplate("reopen_refused_new_incident", "refuse", reopen_refused_new_incident),
    TaskTemplate("privileged_access", "escalate", privileged_access),
    TaskTemplate("major_incident", "multi-step", major_incident),
]
