"""CRM tools: plain typed functions over the episode's SQLite database.

Every tool takes the episode's connection ``db`` (and, where it needs them, the signed-in
``user_id`` and the world's ``now``) as injected arguments that the model never sees. Bad input raises
``CRMError`` with a message the model can act on. Tools enforce data integrity (ids exist,
stages are valid, closed deals stay closed); the *policy* (discount limits, ownership, who
may approve, which contacts are duplicates) is the agent's to follow and the verifier's to
check, so that an agent can break it and be scored for it.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any, Literal

from nemogym.envs.enterprise.crm.data import LOSS_REASONS, OPEN_STAGES, STAGES
from nemogym.envs.tools.schema import ToolError

Stage = Literal["prospecting", "qualification", "proposal", "negotiation", "closed_won", "closed_lost"]
LossReason = Literal["price", "competitor", "no_budget", "no_decision", "timing", "other"]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class CRMError(ToolError):
    """A tool was called with input it cannot act on; the message says why and what to do."""


def _row(db: sqlite3.Connection, sql: str, *args: Any) -> dict[str, Any] | None:
    r = db.execute(sql, args).fetchone()
    return dict(r) if r is not None else None


def _rows(db: sqlite3.Connection, sql: str, *args: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in db.execute(sql, args).fetchall()]


def _need(db: sqlite3.Connection, table: str, key: str, what: str) -> dict[str, Any]:
    if not isinstance(key, str) or not key.strip():
        raise CRMError(f"{what} id must be a non-empty string")
    row = _row(db, f"SELECT * FROM {table} WHERE id = ?", key.strip())
    if row is None:
        raise CRMError(f"no {what} with id {key!r}; search for it first")
    return row


def _next_id(db: sqlite3.Connection, table: str, prefix: str) -> str:
    n = db.execute(f"SELECT MAX(CAST(SUBSTR(id, {len(prefix) + 1}) AS INTEGER)) FROM {table}").fetchone()[0]
    return f"{prefix}{(n or 0) + 1}"


def _phone(value: str | None) -> str | None:
    """A phone number in E.164 form (``+`` and 8-15 digits), however it was typed."""
    if value is None:
        return None
    digits = "".join(ch for ch in value if ch.isdigit())
    if not 8 <= len(digits) <= 15:
        raise CRMError(f"{value!r} is not a phone number with country code (8-15 digits)")
    return "+" + digits


def _limit(limit: int) -> int:
    if not 1 <= limit <= 50:
        raise CRMError("limit must be between 1 and 50")
    return limit


def get_current_user(db: sqlite3.Connection, user_id: str) -> dict[str, Any]:
    """Return the profile of the sales user you are assisting: id, name, role, region, manager."""
    user = _need(db, "users", user_id, "user")
    manager = _row(db, "SELECT id, name FROM users WHERE id = ?", user["manager_id"])
    user["manager"] = manager
    if user["role"] == "manager":
        user["team"] = _rows(db, "SELECT id, name FROM users WHERE manager_id = ? ORDER BY id", user["id"])
    return user


def search_accounts(db: sqlite3.Connection, query: str = "", industry: str | None = None,
                    region: str | None = None, limit: int = 10) -> list[dict[str, Any]]:
    """Find accounts whose name contains ``query`` (case-insensitive), optionally by industry or region.

    Args:
        query: part of the account name; empty matches every account.
        industry: exact industry, e.g. "Software".
        region: one of NA-East, NA-West, EMEA, APAC.
        limit: at most this many results (1-50).
    """
    sql = ("SELECT a.id, a.name, a.industry, a.region, a.tier, a.owner_id, u.name AS owner_name "
           "FROM accounts a JOIN users u ON u.id = a.owner_id WHERE a.name LIKE ?")
    args: list[Any] = [f"%{query.strip()}%"]
    if industry:
        sql += " AND a.industry = ?"
        args.append(industry)
    if region:
        sql += " AND a.region = ?"
        args.append(region)
    return _rows(db, sql + " ORDER BY a.name LIMIT ?", *args, _limit(limit))


def get_account(db: sqlite3.Connection, account_id: str) -> dict[str, Any]:
    """Return one account with its owner, its active contacts and all its opportunities."""
    acc = _need(db, "accounts", account_id, "account")
    acc["owner_name"] = _row(db, "SELECT name FROM users WHERE id = ?", acc["owner_id"])["name"]
    acc["contacts"] = _rows(db, "SELECT id, first_name, last_name, email, title FROM contacts "
                                "WHERE account_id = ? AND status = 'active' ORDER BY id", acc["id"])
    acc["opportunities"] = _rows(db, "SELECT id, name, stage, amount, discount_pct, owner_id "
                                     "FROM opportunities WHERE account_id = ? ORDER BY id", acc["id"])
    return acc


def search_contacts(db: sqlite3.Connection, query: str = "", account_id: str | None = None,
                    email: str | None = None, include_merged: bool = False,
                    limit: int = 20) -> list[dict[str, Any]]:
    """Find contacts whose full name contains ``query``, optionally within one account or by exact email.

    Args:
        query: part of "first last" (case-insensitive); empty matches everyone.
        account_id: only contacts of this account.
        email: only contacts with exactly this email (case-insensitive).
        include_merged: also return records already merged into another contact.
        limit: at most this many results (1-50).
    """
    sql = "SELECT * FROM contacts WHERE (first_name || ' ' || last_name) LIKE ?"
    args: list[Any] = [f"%{query.strip()}%"]
    if account_id:
        sql += " AND account_id = ?"
        args.append(account_id.strip())
    if email:
        sql += " AND LOWER(email) = LOWER(?)"
        args.append(email.strip())
    if not include_merged:
        sql += " AND status = 'active'"
    return _rows(db, sql + " ORDER BY id LIMIT ?", *args, _limit(limit))


def create_contact(db: sqlite3.Connection, now: str, account_id: str, first_name: str, last_name: str,
                   email: str, phone: str | None = None, title: str | None = None) -> dict[str, Any]:
    """Create a contact on an account and return it (with its new id).

    Args:
        account_id: the account the person works for.
        first_name: given name.
        last_name: family name.
        email: work email address.
        phone: phone number with country code, if known (stored as E.164, e.g. +15554972253).
        title: job title, if known.
    """
    _need(db, "accounts", account_id, "account")
    if not first_name.strip() or not last_name.strip():
        raise CRMError("first_name and last_name must not be empty")
    if not _EMAIL.match(email.strip()):
        raise CRMError(f"{email!r} is not a valid email address")
    new_id = _next_id(db, "contacts", "C-")
    db.execute("INSERT INTO contacts VALUES (?,?,?,?,?,?,?,'active',NULL,?)",
               (new_id, account_id.strip(), first_name.strip(), last_name.strip(),
                email.strip().lower(), _phone(phone), title, now))
    return _row(db, "SELECT * FROM contacts WHERE id = ?", new_id)


def update_contact(db: sqlite3.Connection, contact_id: str, email: str | None = None,
                   phone: str | None = None, title: str | None = None) -> dict[str, Any]:
    """Change a contact's email, phone or title (fields left out stay as they are); returns the contact."""
    contact = _need(db, "contacts", contact_id, "contact")
    if contact["status"] != "active":
        raise CRMError(f"contact {contact['id']} was merged into {contact['merged_into']}; update that one")
    if email is None and phone is None and title is None:
        raise CRMError("nothing to update: give email, phone or title")
    if email is not None and not _EMAIL.match(email.strip()):
        raise CRMError(f"{email!r} is not a valid email address")
    phone = _phone(phone)
    for col, val in (("email", email and email.strip().lower()), ("phone", phone), ("title", title)):
        if val is not None:
            db.execute(f"UPDATE contacts SET {col} = ? WHERE id = ?", (val, contact["id"]))
    return _row(db, "SELECT * FROM contacts WHERE id = ?", contact["id"])


def merge_contacts(db: sqlite3.Connection, now: str, primary_contact_id: str,
                   duplicate_contact_id: str) -> dict[str, Any]:
    """Merge a duplicate contact into the primary one; returns the merged primary record.

    The primary keeps its values and gains the duplicate's email, phone and title where its
    own are empty; opportunities pointing at the duplicate move to the primary; the
    duplicate is marked ``merged``. Both must be active contacts of the same account.
    """
    primary = _need(db, "contacts", primary_contact_id, "contact")
    dup = _need(db, "contacts", duplicate_contact_id, "contact")
    if primary["id"] == dup["id"]:
        raise CRMError("primary and duplicate are the same contact")
    for c in (primary, dup):
        if c["status"] != "active":
            raise CRMError(f"contact {c['id']} is already merged into {c['merged_into']}")
    if primary["account_id"] != dup["account_id"]:
        raise CRMError("contacts of different accounts cannot be merged")
    for col in ("email", "phone", "title"):
        if primary[col] is None and dup[col] is not None:
            db.execute(f"UPDATE contacts SET {col} = ? WHERE id = ?", (dup[col], primary["id"]))
    db.execute("UPDATE opportunities SET primary_contact_id = ?, updated_at = ? "
               "WHERE primary_contact_id = ?", (primary["id"], now, dup["id"]))
    db.execute("UPDATE contacts SET status = 'merged', merged_into = ? WHERE id = ?",
               (primary["id"], dup["id"]))
    return _row(db, "SELECT * FROM contacts WHERE id = ?", primary["id"])


def search_opportunities(db: sqlite3.Connection, account_id: str | None = None,
                         stage: Stage | None = None, owner_id: str | None = None,
                         query: str = "", limit: int = 20) -> list[dict[str, Any]]:
    """Find opportunities by account, stage, owner or part of their name.

    Args:
        account_id: only this account's opportunities.
        stage: only opportunities in this stage.
        owner_id: only opportunities owned by this user id.
        query: part of the opportunity name (case-insensitive).
        limit: at most this many results (1-50).
    """
    sql = "SELECT * FROM opportunities WHERE name LIKE ?"
    args: list[Any] = [f"%{query.strip()}%"]
    for col, val in (("account_id", account_id), ("stage", stage), ("owner_id", owner_id)):
        if val:
            sql += f" AND {col} = ?"
            args.append(val.strip())
    if stage and stage not in STAGES:
        raise CRMError(f"unknown stage {stage!r}; stages are {', '.join(STAGES)}")
    return _rows(db, sql + " ORDER BY id LIMIT ?", *args, _limit(limit))


def get_opportunity(db: sqlite3.Connection, opportunity_id: str) -> dict[str, Any]:
    """Return one opportunity with its owner's name and its discount-approval requests."""
    opp = _need(db, "opportunities", opportunity_id, "opportunity")
    opp["owner_name"] = _row(db, "SELECT name FROM users WHERE id = ?", opp["owner_id"])["name"]
    opp["discount_approvals"] = _rows(db, "SELECT * FROM discount_approvals WHERE opportunity_id = ? "
                                          "ORDER BY id", opp["id"])
    return opp


def _open_opp(db: sqlite3.Connection, opportunity_id: str) -> dict[str, Any]:
    opp = _need(db, "opportunities", opportunity_id, "opportunity")
    if opp["stage"] not in OPEN_STAGES:
        raise CRMError(f"opportunity {opp['id']} is {opp['stage']}; closed opportunities cannot change")
    return opp


def _check_date(value: str, what: str) -> str:
    if not _DATE.match(value.strip()):
        raise CRMError(f"{what} must be a date as YYYY-MM-DD, got {value!r}")
    return value.strip()


def create_opportunity(db: sqlite3.Connection, now: str, user_id: str, account_id: str, name: str,
                       amount: int, close_date: str,
                       primary_contact_id: str | None = None) -> dict[str, Any]:
    """Open a new opportunity (stage ``prospecting``, owned by you) and return it.

    Args:
        account_id: the account the deal is with.
        name: a short name for the deal.
        amount: expected deal value in whole US dollars, greater than 0.
        close_date: expected close date, YYYY-MM-DD.
        primary_contact_id: the account's contact leading the deal, if known.
    """
    _need(db, "accounts", account_id, "account")
    if not name.strip():
        raise CRMError("name must not be empty")
    if amount <= 0:
        raise CRMError("amount must be greater than 0")
    if primary_contact_id is not None:
        _check_contact_of(db, primary_contact_id, account_id.strip())
    new_id = _next_id(db, "opportunities", "OPP-")
    db.execute("INSERT INTO opportunities VALUES (?,?,?,'prospecting',?,0,?,?,?,NULL,?)",
               (new_id, account_id.strip(), name.strip(), int(amount),
                _check_date(close_date, "close_date"), user_id, primary_contact_id, now))
    return _row(db, "SELECT * FROM opportunities WHERE id = ?", new_id)


def _check_contact_of(db: sqlite3.Connection, contact_id: str, account_id: str) -> None:
    contact = _need(db, "contacts", contact_id, "contact")
    if contact["account_id"] != account_id or contact["status"] != "active":
        raise CRMError(f"contact {contact['id']} is not an active contact of account {account_id}")


def update_opportunity(db: sqlite3.Connection, now: str, opportunity_id: str, amount: int | None = None,
                       close_date: str | None = None,
                       primary_contact_id: str | None = None) -> dict[str, Any]:
    """Change an open opportunity's amount, close date or primary contact; returns it."""
    opp = _open_opp(db, opportunity_id)
    if amount is None and close_date is None and primary_contact_id is None:
        raise CRMError("nothing to update: give amount, close_date or primary_contact_id")
    if amount is not None and amount <= 0:
        raise CRMError("amount must be greater than 0")
    if close_date is not None:
        close_date = _check_date(close_date, "close_date")
    if primary_contact_id is not None:
        _check_contact_of(db, primary_contact_id, opp["account_id"])
    for col, val in (("amount", amount), ("close_date", close_date),
                     ("primary_contact_id", primary_contact_id and primary_contact_id.strip())):
        if val is not None:
            db.execute(f"UPDATE opportunities SET {col} = ?, updated_at = ? WHERE id = ?", (val, now, opp["id"]))
    return _row(db, "SELECT * FROM opportunities WHERE id = ?", opp["id"])


def update_opportunity_stage(db: sqlite3.Connection, now: str, opportunity_id: str, stage: Stage,
                             loss_reason: LossReason | None = None) -> dict[str, Any]:
    """Move an open opportunity to ``stage``; returns it.

    Stages advance one at a time (prospecting, qualification, proposal, negotiation), then
    ``closed_won`` (from negotiation, with a primary contact set) or ``closed_lost`` (from
    any open stage, with a ``loss_reason``). Closed opportunities cannot change.
    """
    opp = _open_opp(db, opportunity_id)
    if stage not in STAGES:
        raise CRMError(f"unknown stage {stage!r}; stages are {', '.join(STAGES)}")
    current = STAGES.index(opp["stage"])
    if stage == "closed_lost":
        if loss_reason not in LOSS_REASONS:
            raise CRMError(f"closing as lost needs loss_reason, one of {', '.join(LOSS_REASONS)}")
    elif loss_reason is not None:
        raise CRMError("loss_reason is only for stage closed_lost")
    elif stage == "closed_won":
        if opp["stage"] != "negotiation":
            raise CRMError(f"only negotiation can close as won; {opp['id']} is in {opp['stage']}")
        if opp["primary_contact_id"] is None:
            raise CRMError("set a primary contact (update_opportunity) before closing as won")
    elif STAGES.index(stage) != current + 1:
        raise CRMError(f"{opp['id']} is in {opp['stage']}; it can only move to "
                       f"{STAGES[current + 1] if current < 3 else 'closed_won'} or closed_lost")
    db.execute("UPDATE opportunities SET stage = ?, loss_reason = ?, updated_at = ? WHERE id = ?",
               (stage, loss_reason, now, opp["id"]))
    return _row(db, "SELECT * FROM opportunities WHERE id = ?", opp["id"])


def _check_pct(discount_pct: float) -> float:
    if not 0 <= discount_pct <= 100:
        raise CRMError("discount_pct must be between 0 and 100")
    return float(discount_pct)


def apply_discount(db: sqlite3.Connection, now: str, opportunity_id: str, discount_pct: float) -> dict[str, Any]:
    """Set the discount (percent of the amount) on an open opportunity; returns it."""
    opp = _open_opp(db, opportunity_id)
    db.execute("UPDATE opportunities SET discount_pct = ?, updated_at = ? WHERE id = ?",
               (_check_pct(discount_pct), now, opp["id"]))
    return _row(db, "SELECT * FROM opportunities WHERE id = ?", opp["id"])


def request_discount_approval(db: sqlite3.Connection, now: str, user_id: str, opportunity_id: str,
                              discount_pct: float, justification: str) -> dict[str, Any]:
    """Ask the opportunity owner's manager to approve a discount; returns the pending request.

    The discount is not applied until the manager approves it.

    Args:
        opportunity_id: the open opportunity.
        discount_pct: the discount asked for, in percent.
        justification: why the customer needs it (shown to the approver).
    """
    opp = _open_opp(db, opportunity_id)
    pct = _check_pct(discount_pct)
    if not justification.strip():
        raise CRMError("justification must not be empty: ask the user why the discount is needed")
    if _row(db, "SELECT id FROM discount_approvals WHERE opportunity_id = ? AND status = 'pending'", opp["id"]):
        raise CRMError(f"{opp['id']} already has a pending discount request")
    owner = _row(db, "SELECT manager_id, role FROM users WHERE id = ?", opp["owner_id"])
    approver = owner["manager_id"] or opp["owner_id"]
    new_id = _next_id(db, "discount_approvals", "DA-")
    db.execute("INSERT INTO discount_approvals VALUES (?,?,?,?,?,?,'pending',?,NULL)",
               (new_id, opp["id"], pct, justification.strip(), user_id, approver, now))
    return _row(db, "SELECT * FROM discount_approvals WHERE id = ?", new_id)


def decide_discount_approval(db: sqlite3.Connection, now: str, user_id: str, approval_id: str,
                             decision: Literal["approve", "reject"]) -> dict[str, Any]:
    """Approve or reject a pending discount request (approving applies the discount); returns it."""
    req = _need(db, "discount_approvals", approval_id, "discount approval")
    if req["status"] != "pending":
        raise CRMError(f"{req['id']} is already {req['status']}")
    if decision not in ("approve", "reject"):
        raise CRMError("decision must be 'approve' or 'reject'")
    status = "approved" if decision == "approve" else "rejected"
    if status == "approved":
        _open_opp(db, req["opportunity_id"])
    db.execute("UPDATE discount_approvals SET status = ?, approver_id = ?, decided_at = ? WHERE id = ?",
               (status, user_id, now, req["id"]))
    if status == "approved":
        db.execute("UPDATE opportunities SET discount_pct = ?, updated_at = ? WHERE id = ?",
                   (req["requested_pct"], now, req["opportunity_id"]))
    return _row(db, "SELECT * FROM discount_approvals WHERE id = ?", req["id"])


TOOLS = [get_current_user, search_accounts, get_account, search_contacts, create_contact,
         update_contact, merge_contacts, search_opportunities, get_opportunity,
         create_opportunity, update_opportunity, update_opportunity_stage, apply_discount,
         request_discount_approval, decide_discount_approval]
