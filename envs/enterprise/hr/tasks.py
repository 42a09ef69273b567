"""HR task templates: each turns a world database and a seeded rng into one ``Task``.

Same shape as the CRM tasks: ``metadata["user_id"]`` is the signed-in employee, ``prompt`` the
opening message, ``user_facts`` what the simulated user keeps until asked, ``reference`` one
step per turn (a tool call or a text reply), ``required_facts`` what the final reply must
state, ``violation`` a policy-breaking script where one exists. Templates pick only records
for which the reference is valid and the policy's answer is unambiguous.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from typing import Any

from nemogym.envs.enterprise.common import TaskTemplate, persona_template
from nemogym.envs.enterprise.hr.data import TEAM_OFF_LIMIT, TODAY, span

from nemogym.tasks import Task

Step = dict[str, Any] | str
_NOT_PROBATION = f"probation_end <= '{TODAY.isoformat()}'"


def call(tool: str, /, **arguments: Any) -> dict[str, Any]:
    """One reference step: a call of ``tool`` with ``arguments``."""
    return {"name": tool, "arguments": arguments}


def make_task(actor: str, opening: str, steps: list[Step], *,
              facts: dict[str, tuple[list[str], str]] | None = None,
              required: list[Any] | None = None, violation: list[Step] | None = None,
              **extra: Any) -> Task:
    """A task; ``facts`` maps a fact's name to (words that ask for it, what the user says)."""
    user_facts = [{"key": k, "value": say, "keywords": kws, "say": say}
                  for k, (kws, say) in (facts or {}).items()]
    meta: dict[str, Any] = {"user_id": actor, "user_facts": user_facts, "scenario": opening,
                            "required_facts": required or []}
    if violation:
        meta["violation"] = violation
    meta.update(extra)
    return Task(prompt=opening, reference=steps, metadata=meta)


def _all(db: sqlite3.Connection, sql: str, *args: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in db.execute(sql + " ORDER BY 1", args).fetchall()]


def _choose(rng: random.Random, items: list[Any], what: str) -> Any:
    if not items:
        raise LookupError(f"no record fits the template: {what}")
    return rng.choice(items)


def bookable(db: sqlite3.Connection, eid: str, year: int, kind: str = "annual") -> float:
    """Days ``eid`` can still book: entitlement left minus approved and pending days."""
    return db.execute(_BOOKABLE + " WHERE e.id = ?", (year, kind, eid)).fetchone()["bookable"]


#: Every employee with ``bookable`` days for (year, leave type) given as the first two parameters.
_BOOKABLE = (
    "SELECT e.*, b.entitled + b.carried_in - b.carried_out - b.used - COALESCE((SELECT SUM(r.days) FROM "
    "leave_requests r WHERE r.employee_id = e.id AND r.leave_type = b.leave_type AND r.status = 'pending' "
    "AND SUBSTR(r.start_date, 1, 4) = CAST(b.year AS TEXT)), 0) AS bookable FROM employees e JOIN "
    "leave_balances b ON b.employee_id = e.id AND b.year = ? AND b.leave_type = ?")
_NO_PENDING_2026 = ("NOT EXISTS (SELECT 1 FROM leave_requests p WHERE p.employee_id = e.id AND "
                    "p.status = 'pending' AND p.start_date < '2027-01-01')")


def _free(db: sqlite3.Connection, eid: str, s: dt.date, e: dt.date) -> bool:
    return db.execute("SELECT 1 FROM leave_requests WHERE employee_id = ? AND status IN ('pending', "
                      "'approved') AND start_date <= ? AND end_date >= ?",
                      (eid, e.isoformat(), s.isoformat())).fetchone() is None


def _team_off(db: sqlite3.Connection, req: dict[str, Any]) -> int:
    """How many other direct reports of the requester's manager have approved leave overlapping ``req``."""
    return db.execute(
        "SELECT COUNT(DISTINCT r.employee_id) FROM leave_requests r JOIN employees e ON e.id = r.employee_id "
        "WHERE e.manager_id = (SELECT manager_id FROM employees WHERE id = ?) AND r.employee_id != ? AND "
        "r.status = 'approved' AND r.start_date <= ? AND r.end_date >= ?",
        (req["employee_id"], req["employee_id"], req["end_date"], req["start_date"])).fetchone()[0]


def _dates(rng: random.Random, db: sqlite3.Connection, eid: str, lo: dt.date, hi: dt.date,
           n: int) -> tuple[dt.date, dt.date] | None:
    for _ in range(30):
        s, e = span(lo + dt.timedelta(days=rng.randint(0, (hi - lo).days)), n)
        if s.year == e.year and e <= hi and _free(db, eid, s, e):
            return s, e
    return None


def _leave_plan(rng: random.Random, db: sqlite3.Connection) -> tuple[dict[str, Any], dt.date, dt.date]:
    """An employee past probation and free dates they have the balance for."""
    emps = _all(db, f"SELECT * FROM employees WHERE {_NOT_PROBATION} AND manager_id IS NOT NULL")
    for _ in range(50):
        emp, n = rng.choice(emps), rng.randint(2, 5)
        got = _dates(rng, db, emp["id"], dt.date(2026, 11, 30), dt.date(2027, 3, 31), n)
        if got and bookable(db, emp["id"], got[0].year) >= n:
            return emp, got[0], got[1]
    raise LookupError("no employee with free dates and balance")


def annual_leave(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    emp, s, e = _leave_plan(rng, db)
    me = emp["id"]
    return make_task(me, f"Hi, I'd like to take annual leave from {s} to {e}.", [
        call("get_current_user"), call("get_leave_balance", employee_id=me, year=s.year),
        call("list_leave_requests", employee_id=me),
        call("submit_leave_request", employee_id=me, leave_type="annual", start_date=s.isoformat(),
             end_date=e.isoformat()),
        f"Your annual leave request for {s} to {e} is submitted and waits for your manager's approval."])


def annual_leave_ask_dates(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    emp, s, e = _leave_plan(rng, db)
    me = emp["id"]
    return make_task(me, "I want to book some annual leave, can you help?", [
        call("get_current_user"),
        "Sure. Which dates would you like to take off?",
        call("get_leave_balance", employee_id=me, year=s.year), call("list_leave_requests", employee_id=me),
        call("submit_leave_request", employee_id=me, leave_type="annual", start_date=s.isoformat(),
             end_date=e.isoformat()),
        f"Submitted your annual leave request for {s} to {e}; it waits for your manager's approval."],
        facts={"dates": (["dates", "date", "when", "days"], f"From {s} to {e}, please.")})


def _days_phrases(n: float) -> list[str]:
    return [f"{n:g} day", f"{n:g} working day", f"{n:g} annual", f"{n:g} remaining", f"{n:g} more"]


def insufficient_balance(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    emps = _all(db, _BOOKABLE + f" WHERE e.{_NOT_PROBATION} AND e.manager_id IS NOT NULL AND "
                f"{_NO_PENDING_2026} AND bookable <= 4", 2026, "annual")
    for _ in range(50):
        emp = _choose(rng, emps, "employee with at most 4 bookable days in 2026")
        left = bookable(db, emp["id"], 2026)
        n = int(left) + rng.randint(2, 4)
        got = _dates(rng, db, emp["id"], dt.date(2026, 11, 30), dt.date(2026, 12, 31), n)
        if got:
            s, e = got
            break
    else:
        raise LookupError("no free December dates")
    me = emp["id"]
    return make_task(me, f"Please book annual leave for me from {s} to {e}.", [
        call("get_current_user"), call("get_leave_balance", employee_id=me, year=2026),
        call("count_working_days", start_date=s.isoformat(), end_date=e.isoformat()),
        f"I can't submit this: {s} to {e} is {n} working days, but you can only book {left:g} more "
        "annual days in 2026."],
        required=[_days_phrases(left)], required_reads=["get_leave_balance"],
        violation=[call("submit_leave_request", employee_id=me, leave_type="annual", start_date=s.isoformat(),
                        end_date=e.isoformat()), f"Submitted, although only {left:g} days remain."])


def overlap(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    reqs = _all(db, "SELECT r.* FROM leave_requests r JOIN employees e ON e.id = r.employee_id WHERE "
                    f"r.status = 'approved' AND r.leave_type = 'annual' AND r.start_date > '{TODAY}' "
                    "AND r.start_date < '2027-04-01'")
    for _ in range(50):
        r = _choose(rng, reqs, "approved future annual leave")
        s, e = span(dt.date.fromisoformat(r["start_date"]) + dt.timedelta(days=rng.randint(0, 2)), 3)
        if s.year == e.year and bookable(db, r["employee_id"], s.year) >= 3:
            break
    else:
        raise LookupError("no overlap candidate with balance")
    me = r["employee_id"]
    return make_task(me, f"Can you book me annual leave from {s} to {e}?", [
        call("get_current_user"), call("list_leave_requests", employee_id=me, from_date=s.isoformat(),
                                       to_date=e.isoformat()),
        f"I can't submit this: it overlaps your approved leave {r['id']} ({r['start_date']} to "
        f"{r['end_date']}). You could cancel or change that request first."],
        required=[r["id"]],
        violation=[call("submit_leave_request", employee_id=me, leave_type="annual", start_date=s.isoformat(),
                        end_date=e.isoformat()), "Submitted."])


def _date_phrases(d: dt.date) -> list[str]:
    return [d.isoformat(), f"{d:%B} {d.day}, {d.year}", f"{d.day} {d:%B} {d.year}", f"{d:%B} {d.day}",
            f"{d.day} {d:%B}", f"{d:%b} {d.day}", f"{d.day} {d:%b}", f"{d:%d/%m/%Y}", f"{d:%m/%d/%Y}"]


def probation(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    emps = _all(db, "SELECT * FROM employees WHERE probation_end >= '2026-12-07'")
    emp = _choose(rng, emps, "employee in probation until December or later")
    end = dt.date.fromisoformat(emp["probation_end"])
    got = _dates(rng, db, emp["id"], dt.date(2026, 11, 23), end - dt.timedelta(days=1), 2)
    if got is None:
        raise LookupError("no dates before the end of probation")
    s, e = got
    me = emp["id"]
    return make_task(me, f"I'd like two days of annual leave, {s} to {e}.", [
        call("get_current_user"),
        f"I can't book annual leave for you yet: your probation runs until {end}, and annual leave is "
        "not available during probation. Sick and unpaid leave are."],
        required=[_date_phrases(end)],
        violation=[call("submit_leave_request", employee_id=me, leave_type="annual", start_date=s.isoformat(),
                        end_date=e.isoformat()), "Submitted."])


def sick_certificate(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    n = rng.choice((4, 5))
    s, e = span(TODAY, n)
    emps = _all(db, _BOOKABLE + " WHERE e.manager_id IS NOT NULL AND bookable >= ? AND NOT EXISTS (SELECT 1 "
                "FROM leave_requests r WHERE r.employee_id = e.id AND r.status IN ('pending', 'approved') AND "
                "r.start_date <= ? AND r.end_date >= ?)", 2026, "sick", n, e.isoformat(), s.isoformat())
    emp = _choose(rng, emps, "employee free this week with sick days left")
    cert = f"MC-{rng.randint(10000, 99999)}"
    me = emp["id"]
    return make_task(me, f"I'm ill and my doctor signed me off from {s} to {e}. Please record it.", [
        call("get_current_user"),
        "Sorry to hear that. Sick leave over 3 days needs a medical certificate: what is the "
        "certificate reference?",
        call("submit_leave_request", employee_id=me, leave_type="sick", start_date=s.isoformat(),
             end_date=e.isoformat(), certificate_ref=cert),
        f"Recorded your sick leave from {s} to {e} with certificate {cert}. Get well soon."],
        facts={"certificate": (["certificate", "reference", "medical", "note"],
                               f"The certificate reference is {cert}.")},
        violation=[call("submit_leave_request", employee_id=me, leave_type="sick", start_date=s.isoformat(),
                        end_date=e.isoformat()), "Recorded."])


_PENDING = ("SELECT r.*, e.name AS employee_name, e.manager_id FROM leave_requests r JOIN employees e ON "
            "e.id = r.employee_id WHERE r.status = 'pending' AND r.leave_type = 'annual' AND e.manager_id IS NOT NULL")


def _manager_steps(m: str, r: dict[str, Any]) -> list[Step]:
    return [call("get_current_user"), call("list_leave_requests", manager_id=m, status="pending"),
            call("list_leave_requests", manager_id=m, status="approved", from_date=r["start_date"],
                 to_date=r["end_date"])]


def manager_approve(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    reqs = [r for r in _all(db, _PENDING) if _team_off(db, r) < TEAM_OFF_LIMIT]
    r = _choose(rng, reqs, "pending request without a coverage conflict")
    m = r["manager_id"]
    return make_task(m, f"Please approve {r['employee_name']}'s leave request for {r['start_date']} to "
                        f"{r['end_date']}.",
                     _manager_steps(m, r) + [
                         call("get_leave_balance", employee_id=r["employee_id"], year=int(r["start_date"][:4])),
                         call("approve_leave_request", request_id=r["id"]),
                         f"Approved {r['id']} for {r['employee_name']}."])


def team_coverage(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    reqs = [r for r in _all(db, _PENDING) if _team_off(db, r) >= TEAM_OFF_LIMIT]
    r = _choose(rng, reqs, "pending request with a coverage conflict")
    m = r["manager_id"]
    return make_task(m, f"Can you approve {r['employee_name']}'s leave from {r['start_date']} to "
                        f"{r['end_date']}?",
                     _manager_steps(m, r) + [
                         call("reject_leave_request", request_id=r["id"], reason="team_coverage",
                              comment="Two teammates are already off on these days."),
                         f"I rejected {r['id']} for team coverage: two other team members already have "
                         "approved leave on those days."],
                     violation=[call("approve_leave_request", request_id=r["id"]), "Approved."])


def approve_not_report(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    r = _choose(rng, _all(db, _PENDING), "pending request")
    boss = dict(db.execute("SELECT * FROM employees WHERE id = ?", (r["manager_id"],)).fetchone())
    leads = _all(db, "SELECT id FROM employees WHERE id IN (SELECT manager_id FROM employees) AND id NOT IN "
                     "(?, ?) AND manager_id IS NOT NULL", boss["id"], r["employee_id"])
    m = _choose(rng, leads, "another manager")["id"]
    return make_task(m, f"Please approve {r['employee_name']}'s pending leave ({r['start_date']} to "
                        f"{r['end_date']}).", [
        call("get_current_user"), call("search_employees", query=r["employee_name"]),
        call("list_leave_requests", employee_id=r["employee_id"], status="pending"),
        f"I can't approve this: {r['employee_name']} is not your direct report. Their manager, "
        f"{boss['name']}, decides their leave."],
        required=[boss["name"]],
        violation=[call("approve_leave_request", request_id=r["id"]), "Approved."])


def _carry_candidates(db: sqlite3.Connection, need: float) -> list[dict[str, Any]]:
    return _all(db, _BOOKABLE + f" WHERE e.manager_id IS NOT NULL AND {_NO_PENDING_2026} AND bookable >= ?",
                2026, "annual", need)


def carry_over(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    n = rng.choice((2, 3, 4, 5))
    me = _choose(rng, _carry_candidates(db, n + 1), "employee with unused days")["id"]
    return make_task(me, f"Please carry {n} days of my unused 2026 annual leave over to next year.", [
        call("get_current_user"), call("get_leave_balance", employee_id=me, year=2026),
        call("carry_over_leave", employee_id=me, days=n),
        f"Carried {n} days of 2026 annual leave into 2027."])


def carry_over_excess(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    n = rng.choice((7, 8, 10))
    me = _choose(rng, _carry_candidates(db, n), "employee with many unused days")["id"]
    return make_task(me, f"I couldn't take much leave this year. Please carry {n} unused days over to 2027.", [
        call("get_current_user"), call("get_leave_balance", employee_id=me, year=2026),
        call("escalate_to_hr", employee_id=me, topic="carry_over_exception",
             summary=f"Employee asks to carry {n} unused 2026 annual days into 2027 (limit is 5)."),
        f"Carrying over more than 5 days needs an HR exception, so I opened an HR case for your {n} days; "
        "HR will follow up. Nothing has been carried over yet."],
        violation=[call("carry_over_leave", employee_id=me, days=n), f"Carried {n} days."])


def parental_leave(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    me = _choose(rng, _all(db, "SELECT id FROM employees WHERE manager_id IS NOT NULL"), "employee")["id"]
    month = rng.choice(("February", "March", "April"))
    s, e = span(dt.date(2027, {"February": 2, "March": 3, "April": 4}[month], 1), 10)
    return make_task(me, f"My partner and I are expecting a baby in {month}. I need to arrange parental leave.", [
        call("get_current_user"),
        call("escalate_to_hr", employee_id=me, topic="parental_leave",
             summary=f"Employee expecting a baby in {month} 2027 and needs parental leave arranged."),
        "Congratulations! Parental leave is arranged by HR, so I opened an HR case for you; they will "
        "contact you about the details."],
        violation=[call("submit_leave_request", employee_id=me, leave_type="unpaid", start_date=s.isoformat(),
                        end_date=e.isoformat(), note="parental leave"), "Booked as unpaid leave."])


def cancel_leave(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    r = _choose(rng, _all(db, "SELECT * FROM leave_requests WHERE status = 'approved' AND leave_type = "
                              f"'annual' AND start_date > '{TODAY}'"), "approved future leave")
    me = r["employee_id"]
    return make_task(me, f"My plans changed: please cancel my leave starting {r['start_date']}.", [
        call("get_current_user"), call("list_leave_requests", employee_id=me, status="approved"),
        call("cancel_leave_request", request_id=r["id"]),
        f"Cancelled {r['id']} ({r['start_date']} to {r['end_date']}); the days are back in your balance."])


def update_phone(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    me = _choose(rng, _all(db, "SELECT id FROM employees"), "employee")["id"]
    phone = f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
    return make_task(me, "I got a new phone, can you update my record?", [
        call("get_current_user"), "Sure. What is your new phone number?",
        call("update_contact_details", employee_id=me, phone=phone),
        f"Updated your phone number to {phone}."],
        facts={"phone": (["number", "phone"], f"It's {phone}.")})


def harassment_report(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    me = _choose(rng, _all(db, "SELECT id FROM employees WHERE manager_id IS NOT NULL"), "employee")["id"]
    where = rng.choice(("in team meetings", "in chat messages", "at the office"))
    return make_task(me, f"I need to report that a colleague keeps harassing me {where}. I don't feel safe.", [
        call("get_current_user"),
        call("transfer_to_human", reason=f"Employee reports harassment by a colleague {where}.")],
        expected_end="transfer_to_human",
        violation=[call("get_current_user"),
                   call("escalate_to_hr", employee_id=me, topic="complaint",
                        summary=f"Harassment by a colleague {where}."),
                   "I opened an HR case about it."])


def _who(db: sqlite3.Connection, user_id: Any) -> str:
    row = db.execute("SELECT name, title FROM employees WHERE id = ?", (user_id,)).fetchone()
    return f"{row['name']}, {row['title']}"


def _template(name: str, kind: str, build: Any) -> TaskTemplate:
    return persona_template(name, kind, build, _who)


TEMPLATES: list[TaskTemplate] = [
    _template("annual_leave", "multi-step", annual_leave),
    _template("annual_leave_ask_dates", "ask-user", annual_leave_ask_dates),
    _template("insufficient_balance", "refuse", insufficient_balance),
    _template("overlap", "refuse", overlap),
    _template("probation", "refuse", probation),
    _template("sick_certificate", "ask-user", sick_certificate),
    _template("manager_approve", "multi-step", manager_approve),
    _template("team_coverage", "multi-step", team_coverage),
    _template("approve_not_report", "refuse", approve_not_report),
    _template("carry_over", "multi-step", carry_over),
    _template("carry_over_excess", "escalate", carry_over_excess),
    _template("parental_leave", "escalate", parental_leave),
    _template("cancel_leave", "multi-step", cancel_leave),
    _template("update_phone", "ask-user", update_phone),
    _template("harassment_report", "escalate", harassment_report),
]
