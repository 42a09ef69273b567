"""HR tools: plain typed functions over the episode's SQLite database.

Injected (hidden from the model): ``db`` (the episode's connection), ``user_id`` (the
signed-in employee) and ``now`` (the world's clock). Bad input raises ``HRError`` with a
message the model can act on. Tools enforce data integrity (ids exist, dates are valid and
working days, a request stays in one year, statuses move legally); the *policy* (who may act
for whom, balances, overlaps, probation, team coverage, carry-over limits, certificates) is
the agent's to follow and the verifier's to check.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any, Literal

from nemogym.envs.enterprise.common import row, rows, transfer_to_human
from nemogym.envs.enterprise.hr.data import YEARS, normalize_phone, working_days
from nemogym.envs.tools.schema import ToolError

LeaveType = Literal["annual", "sick", "unpaid"]
Status = Literal["pending", "approved", "rejected", "cancelled"]
RejectReason = Literal["insufficient_balance", "team_coverage", "overlap", "probation", "other"]
Topic = Literal["parental_leave", "carry_over_exception", "complaint", "payroll", "other"]


class HRError(ToolError):
    """A tool was called with input it cannot act on; the message says why and what to do."""


def _employee(db: sqlite3.Connection, employee_id: str) -> dict[str, Any]:
    emp = row(db, "SELECT * FROM employees WHERE id = ?", (employee_id.strip(),))
    if emp is None:
        raise HRError(f"no employee with id {employee_id!r}; use search_employees to find the id")
    return emp


def _request(db: sqlite3.Connection, request_id: str) -> dict[str, Any]:
    req = row(db, "SELECT * FROM leave_requests WHERE id = ?", (request_id.strip(),))
    if req is None:
        raise HRError(f"no leave request with id {request_id!r}; use list_leave_requests to find it")
    return req


def _date(value: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise HRError(f"{what} must be a date as YYYY-MM-DD, got {value!r}") from None


def _next_id(db: sqlite3.Connection, table: str, prefix: str) -> str:
    n = db.execute(f"SELECT MAX(CAST(SUBSTR(id, {len(prefix) + 1}) AS INTEGER)) FROM {table}").fetchone()[0]
    return f"{prefix}{(n or 0) + 1}"


def get_current_user(db: sqlite3.Connection, user_id: str) -> dict[str, Any]:
    """Return the signed-in employee you are helping: profile, manager, and direct reports if any."""
    emp = _employee(db, user_id)
    emp["manager"] = row(db, "SELECT id, name FROM employees WHERE id = ?", (emp["manager_id"],))
    emp["direct_reports"] = rows(db, "SELECT id, name FROM employees WHERE manager_id = ? ORDER BY id", (emp["id"],))
    return emp


def search_employees(db: sqlite3.Connection, query: str = "", department: str | None = None,
                     limit: int = 10) -> list[dict[str, Any]]:
    """Find employees whose name contains ``query`` (case-insensitive), optionally in one department.

    Args:
        query: part of the employee's name; empty matches everyone.
        department: exact department name, e.g. "Engineering".
        limit: at most this many results (1-50).
    """
    if not 1 <= limit <= 50:
        raise HRError("limit must be between 1 and 50")
    sql = ("SELECT e.id, e.name, e.title, d.name AS department, e.manager_id FROM employees e "
           "JOIN departments d ON d.id = e.department_id WHERE e.name LIKE ?")
    args: list[Any] = [f"%{query.strip()}%"]
    if department:
        sql += " AND d.name = ?"
        args.append(department.strip())
    return rows(db, sql + " ORDER BY e.name LIMIT ?", (*args, limit))


def get_employee(db: sqlite3.Connection, employee_id: str) -> dict[str, Any]:
    """Return one employee's record: title, department, manager, hire date, probation end, contact."""
    emp = _employee(db, employee_id)
    emp["department"] = row(db, "SELECT name FROM departments WHERE id = ?", (emp["department_id"],))["name"]
    emp["manager"] = row(db, "SELECT id, name FROM employees WHERE id = ?", (emp["manager_id"],))
    return emp


def get_direct_reports(db: sqlite3.Connection, manager_id: str) -> list[dict[str, Any]]:
    """List the employees who report directly to ``manager_id``."""
    _employee(db, manager_id)
    return rows(db, "SELECT id, name, title FROM employees WHERE manager_id = ? ORDER BY id", (manager_id.strip(),))


def get_leave_balance(db: sqlite3.Connection, employee_id: str, year: int = 2026) -> list[dict[str, Any]]:
    """Return an employee's annual and sick leave balance for ``year`` (2026 or 2027).

    ``available`` = entitled + carried_in - carried_out - used (approved days); ``pending``
    is the days in requests still waiting for approval. Days still bookable = available - pending.
    """
    _employee(db, employee_id)
    if year not in YEARS:
        raise HRError(f"balances exist for {YEARS[0]} and {YEARS[1]} only")
    out = rows(db, "SELECT * FROM leave_balances WHERE employee_id = ? AND year = ? ORDER BY leave_type",
               (employee_id.strip(), year))
    for b in out:
        b["pending"] = db.execute(
            "SELECT COALESCE(SUM(days), 0) FROM leave_requests WHERE employee_id = ? AND leave_type = ? "
            "AND status = 'pending' AND SUBSTR(start_date, 1, 4) = ?",
            (b["employee_id"], b["leave_type"], str(year))).fetchone()[0]
        b["available"] = b["entitled"] + b["carried_in"] - b["carried_out"] - b["used"]
    return out


def list_leave_requests(db: sqlite3.Connection, employee_id: str | None = None,
                        manager_id: str | None = None, status: Status | None = None,
                        from_date: str | None = None, to_date: str | None = None) -> list[dict[str, Any]]:
    """List leave requests, newest first (at most 50).

    Args:
        employee_id: only this employee's requests.
        manager_id: only requests of this manager's direct reports.
        status: only requests in this status.
        from_date: only requests that end on or after this date (YYYY-MM-DD).
        to_date: only requests that start on or before this date (YYYY-MM-DD).
    """
    sql = ("SELECT r.*, e.name AS employee_name FROM leave_requests r JOIN employees e "
           "ON e.id = r.employee_id WHERE 1 = 1")
    args: list[Any] = []
    if employee_id:
        sql += " AND r.employee_id = ?"
        args.append(employee_id.strip())
    if manager_id:
        sql += " AND e.manager_id = ?"
        args.append(manager_id.strip())
    if status:
        sql += " AND r.status = ?"
        args.append(status)
    if from_date:
        sql += " AND r.end_date >= ?"
        args.append(_date(from_date, "from_date").isoformat())
    if to_date:
        sql += " AND r.start_date <= ?"
        args.append(_date(to_date, "to_date").isoformat())
    return rows(db, sql + " ORDER BY r.start_date DESC, r.id LIMIT 50", args)


def count_working_days(start_date: str, end_date: str) -> dict[str, Any]:
    """Count the working days (Mon-Fri, excluding public holidays) from start_date to end_date inclusive."""
    s, e = _date(start_date, "start_date"), _date(end_date, "end_date")
    if e < s:
        raise HRError("end_date is before start_date")
    return {"start_date": s.isoformat(), "end_date": e.isoformat(), "working_days": working_days(s, e)}


def submit_leave_request(db: sqlite3.Connection, now: str, employee_id: str, leave_type: LeaveType,
                         start_date: str, end_date: str, note: str = "",
                         certificate_ref: str | None = None) -> dict[str, Any]:
    """Submit a leave request (status ``pending``) and return it, with its working ``days``.

    Args:
        employee_id: whose leave it is.
        leave_type: annual, sick or unpaid.
        start_date: first day off, YYYY-MM-DD.
        end_date: last day off, YYYY-MM-DD (same calendar year as start_date).
        note: optional note for the approver.
        certificate_ref: medical certificate reference, for sick leave.
    """
    emp = _employee(db, employee_id)
    s, e = _date(start_date, "start_date"), _date(end_date, "end_date")
    today = dt.date.fromisoformat(now[:10])
    if e < s:
        raise HRError("end_date is before start_date")
    if s.year != e.year:
        raise HRError("a request must stay within one calendar year: split it into two requests")
    if s.year not in YEARS:
        raise HRError(f"leave can be requested for {YEARS[0]} and {YEARS[1]} only")
    earliest = today - dt.timedelta(days=14) if leave_type == "sick" else today
    if s < earliest:
        raise HRError(f"start_date {s} is in the past (today is {today})")
    days = working_days(s, e)
    if days == 0:
        raise HRError("the period contains no working days")
    new_id = _next_id(db, "leave_requests", "LR-")
    db.execute("INSERT INTO leave_requests VALUES (?,?,?,?,?,?,'pending',?,?,NULL,NULL,NULL,?,NULL)",
               (new_id, emp["id"], leave_type, s.isoformat(), e.isoformat(), float(days),
                certificate_ref.strip() if certificate_ref else None, note, now))
    return row(db, "SELECT * FROM leave_requests WHERE id = ?", (new_id,))


def _adjust_used(db: sqlite3.Connection, req: dict[str, Any], sign: int) -> None:
    if req["leave_type"] != "unpaid":
        db.execute("UPDATE leave_balances SET used = used + ? WHERE employee_id = ? AND year = ? "
                   "AND leave_type = ?", (sign * req["days"], req["employee_id"],
                                          int(req["start_date"][:4]), req["leave_type"]))


def cancel_leave_request(db: sqlite3.Connection, now: str, request_id: str) -> dict[str, Any]:
    """Cancel a pending request, or an approved one that has not started (its days are returned)."""
    req = _request(db, request_id)
    if req["status"] not in ("pending", "approved"):
        raise HRError(f"{req['id']} is {req['status']} and cannot be cancelled")
    if req["status"] == "approved" and req["start_date"] <= now[:10]:
        raise HRError(f"{req['id']} has already started; ask HR to change past leave")
    if req["status"] == "approved":
        _adjust_used(db, req, -1)
    db.execute("UPDATE leave_requests SET status = 'cancelled', decided_at = ? WHERE id = ?", (now, req["id"]))
    return row(db, "SELECT * FROM leave_requests WHERE id = ?", (req["id"],))


def _pending(db: sqlite3.Connection, request_id: str) -> dict[str, Any]:
    req = _request(db, request_id)
    if req["status"] != "pending":
        raise HRError(f"{req['id']} is {req['status']}, not pending")
    return req


def approve_leave_request(db: sqlite3.Connection, now: str, user_id: str, request_id: str) -> dict[str, Any]:
    """Approve a pending leave request as the signed-in manager; its days count as used."""
    req = _pending(db, request_id)
    _adjust_used(db, req, +1)
    db.execute("UPDATE leave_requests SET status = 'approved', decided_by = ?, decided_at = ? WHERE id = ?",
               (user_id, now, req["id"]))
    return row(db, "SELECT * FROM leave_requests WHERE id = ?", (req["id"],))


def reject_leave_request(db: sqlite3.Connection, now: str, user_id: str, request_id: str,
                         reason: RejectReason, comment: str = "") -> dict[str, Any]:
    """Reject a pending leave request as the signed-in manager.

    Args:
        request_id: the pending request.
        reason: insufficient_balance, team_coverage, overlap, probation or other.
        comment: optional explanation for the employee.
    """
    req = _pending(db, request_id)
    db.execute("UPDATE leave_requests SET status = 'rejected', decided_by = ?, reject_reason = ?, "
               "reject_comment = ?, decided_at = ? WHERE id = ?", (user_id, reason, comment, now, req["id"]))
    return row(db, "SELECT * FROM leave_requests WHERE id = ?", (req["id"],))


def carry_over_leave(db: sqlite3.Connection, employee_id: str, days: float) -> list[dict[str, Any]]:
    """Move ``days`` of unused 2026 annual leave into 2027; returns both years' annual balances."""
    emp = _employee(db, employee_id)
    if days <= 0 or days != int(days * 2) / 2:
        raise HRError("days must be a positive number of whole or half days")
    bal = row(db, "SELECT * FROM leave_balances WHERE employee_id = ? AND year = 2026 AND leave_type = 'annual'",
              (emp["id"],))
    free = bal["entitled"] + bal["carried_in"] - bal["carried_out"] - bal["used"]
    if days > free:
        raise HRError(f"only {free:g} unused 2026 annual days are left to carry over")
    db.execute("UPDATE leave_balances SET carried_out = carried_out + ? WHERE employee_id = ? AND year = 2026 "
               "AND leave_type = 'annual'", (days, emp["id"]))
    db.execute("UPDATE leave_balances SET carried_in = carried_in + ? WHERE employee_id = ? AND year = 2027 "
               "AND leave_type = 'annual'", (days, emp["id"]))
    return rows(db, "SELECT * FROM leave_balances WHERE employee_id = ? AND leave_type = 'annual' ORDER BY year",
                (emp["id"],))


def escalate_to_hr(db: sqlite3.Connection, now: str, user_id: str, employee_id: str, topic: Topic,
                   summary: str) -> dict[str, Any]:
    """Open a case for the HR team and return it; HR follows up with the employee.

    Args:
        employee_id: the employee the case is about.
        topic: parental_leave, carry_over_exception, complaint, payroll or other.
        summary: what the employee needs, in a sentence or two.
    """
    emp = _employee(db, employee_id)
    if not summary.strip():
        raise HRError("summary must not be empty")
    new_id = _next_id(db, "hr_cases", "HR-")
    db.execute("INSERT INTO hr_cases VALUES (?,?,?,?,?,'open',?)", (new_id, emp["id"], user_id, topic,
                                                                     summary.strip(), now))
    return row(db, "SELECT * FROM hr_cases WHERE id = ?", (new_id,))


def update_contact_details(db: sqlite3.Connection, employee_id: str, phone: str | None = None,
                           emergency_contact: str | None = None) -> dict[str, Any]:
    """Change an employee's phone number (stored as E.164, e.g. +15554972253) or emergency contact.

    Fields left out stay as they are; returns the updated record.
    """
    emp = _employee(db, employee_id)
    if phone is None and emergency_contact is None:
        raise HRError("nothing to update: give phone or emergency_contact")
    if phone is not None:
        try:
            phone = normalize_phone(phone)
        except ValueError as e:
            raise HRError(str(e)) from None
    for col, val in (("phone", phone), ("emergency_contact", emergency_contact)):
        if val is not None:
            db.execute(f"UPDATE employees SET {col} = ? WHERE id = ?", (val.strip(), emp["id"]))
    return row(db, "SELECT * FROM employees WHERE id = ?", (emp["id"],))


TOOLS = [get_current_user, search_employees, get_employee, get_direct_reports, get_leave_balance,
         list_leave_requests, count_working_days, submit_leave_request, cancel_leave_request,
         approve_leave_request, reject_leave_request, carry_over_leave, escalate_to_hr,
         update_contact_details, transfer_to_human]
