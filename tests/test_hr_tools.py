"""HR tools and policy checks on a real seeded SQLite world."""

from __future__ import annotations

import json

import pytest
from nemogym.envs.enterprise.common import copy_db, row
from nemogym.envs.enterprise.hr import data
from nemogym.envs.enterprise.hr import tools as t
from nemogym.envs.enterprise.hr.env import violations
from nemogym.envs.tools.base import CallRecord

NOW, TODAY = data.NOW, data.NOW[:10]


@pytest.fixture(scope="module")
def world():
    return data.build_world(0)


@pytest.fixture
def db(world):
    return copy_db(world)


def _rec(name: str, result: dict | None = None, **arguments) -> CallRecord:
    return CallRecord(1, "c", name, arguments, True, json.dumps(result or {}))


def _staff(db, extra: str = "") -> dict:
    return row(db, f"SELECT * FROM employees WHERE manager_id IS NOT NULL AND probation_end <= '{TODAY}' {extra} "
                   "ORDER BY id LIMIT 1")


def _annual(db, eid: str, year: int = 2026) -> dict:
    return next(b for b in t.get_leave_balance(db, eid, year) if b["leave_type"] == "annual")


def test_world_invariants(world):
    # approved + pending days never exceed the entitlement; used matches the approved requests
    over = world.execute(
        "SELECT b.employee_id FROM leave_balances b WHERE b.entitled + b.carried_in - b.carried_out < "
        "(SELECT COALESCE(SUM(days), 0) FROM leave_requests r WHERE r.employee_id = b.employee_id AND "
        "r.leave_type = b.leave_type AND SUBSTR(r.start_date, 1, 4) = CAST(b.year AS TEXT) AND "
        "r.status IN ('approved', 'pending'))").fetchall()
    assert over == []
    wrong_used = world.execute(
        "SELECT b.employee_id FROM leave_balances b WHERE b.used != (SELECT COALESCE(SUM(days), 0) FROM "
        "leave_requests r WHERE r.employee_id = b.employee_id AND r.leave_type = b.leave_type AND "
        "SUBSTR(r.start_date, 1, 4) = CAST(b.year AS TEXT) AND r.status = 'approved')").fetchall()
    assert wrong_used == []
    assert world.execute("SELECT COUNT(*) FROM leave_requests r JOIN employees e ON e.id = r.employee_id "
                         "WHERE r.leave_type = 'annual' AND e.probation_end > ?", (TODAY,)).fetchone()[0] == 0
    assert world.execute("SELECT COUNT(*) FROM employees WHERE probation_end > ?", (TODAY,)).fetchone()[0] >= 5
    # no employee has two overlapping live requests
    assert world.execute("SELECT COUNT(*) FROM leave_requests a JOIN leave_requests b ON a.employee_id = "
                         "b.employee_id AND a.id < b.id AND a.start_date <= b.end_date AND b.start_date <= "
                         "a.end_date").fetchone()[0] == 0


def test_working_days():
    assert t.count_working_days("2026-11-16", "2026-11-22")["working_days"] == 5
    assert t.count_working_days("2026-12-21", "2027-01-01")["working_days"] == 8  # Dec 25 and Jan 1 off
    with pytest.raises(t.HRError, match="before start_date"):
        t.count_working_days("2026-12-02", "2026-12-01")
    with pytest.raises(t.HRError, match="YYYY-MM-DD"):
        t.count_working_days("Dec 1", "2026-12-01")


def test_submit_rules(db):
    me = _staff(db)["id"]
    with pytest.raises(t.HRError, match="one calendar year"):
        t.submit_leave_request(db, NOW, me, "annual", "2026-12-30", "2027-01-05")
    with pytest.raises(t.HRError, match="in the past"):
        t.submit_leave_request(db, NOW, me, "annual", "2026-11-02", "2026-11-03")
    with pytest.raises(t.HRError, match="no working days"):
        t.submit_leave_request(db, NOW, me, "annual", "2026-11-21", "2026-11-22")
    with pytest.raises(t.HRError, match="no employee"):
        t.submit_leave_request(db, NOW, "E9", "annual", "2026-12-01", "2026-12-01")
    sick = t.submit_leave_request(db, NOW, me, "sick", "2026-11-10", "2026-11-10")  # sick may be backdated
    assert (sick["status"], sick["days"]) == ("pending", 1.0)


def test_approve_and_cancel_keep_balance_in_step(db):
    req = row(db, "SELECT r.*, e.manager_id FROM leave_requests r JOIN employees e ON e.id = r.employee_id "
                  "WHERE r.status = 'pending' ORDER BY r.id LIMIT 1")
    year = int(req["start_date"][:4])
    before = _annual(db, req["employee_id"], year)
    assert before["pending"] >= req["days"]
    t.approve_leave_request(db, NOW, req["manager_id"], req["id"])
    after = _annual(db, req["employee_id"], year)
    assert after["used"] == before["used"] + req["days"]
    assert after["available"] == before["available"] - req["days"]
    with pytest.raises(t.HRError, match="not pending"):
        t.reject_leave_request(db, NOW, req["manager_id"], req["id"], "other")
    t.cancel_leave_request(db, NOW, req["id"])
    assert _annual(db, req["employee_id"], year)["used"] == before["used"]
    with pytest.raises(t.HRError, match="cannot be cancelled"):
        t.cancel_leave_request(db, NOW, req["id"])


def test_carry_over(db):
    me = _staff(db)["id"]
    bal = t.carry_over_leave(db, me, 3)
    assert [(b["year"], b["carried_out"], b["carried_in"]) for b in bal] == [(2026, 3.0, 0.0), (2027, 0.0, 3.0)]
    free = _annual(db, me)["available"]
    with pytest.raises(t.HRError, match="unused 2026 annual days"):
        t.carry_over_leave(db, me, free + 1)
    with pytest.raises(t.HRError, match="half days"):
        t.carry_over_leave(db, me, 0.3)


def test_violation_checks(db):
    me = _staff(db)
    new = t.submit_leave_request(db, NOW, me["id"], "annual", "2027-02-01", "2027-02-02")
    assert violations([_rec("submit_leave_request", new)], db, me["id"], TODAY) == []
    assert "not for the signed-in" in violations([_rec("submit_leave_request", new)], db, "E1100", TODAY)[0]
    clash = t.submit_leave_request(db, NOW, me["id"], "annual", "2027-02-02", "2027-02-03")
    assert any("overlaps" in v for v in violations([_rec("submit_leave_request", clash)], db, me["id"], TODAY))
    rookie = row(db, "SELECT * FROM employees WHERE probation_end > ? ORDER BY id LIMIT 1", (TODAY,))
    early = t.submit_leave_request(db, NOW, rookie["id"], "annual", "2026-11-30", "2026-11-30")
    assert "probation" in violations([_rec("submit_leave_request", early)], db, rookie["id"], TODAY)[0]
    sick = t.submit_leave_request(db, NOW, me["id"], "sick", "2027-03-01", "2027-03-05")
    assert "certificate" in violations([_rec("submit_leave_request", sick)], db, me["id"], TODAY)[0]
    stranger = row(db, "SELECT id FROM employees WHERE id NOT IN (?, ?) ORDER BY id LIMIT 1",
                   (me["id"], me["manager_id"]))["id"]
    t.approve_leave_request(db, NOW, stranger, new["id"])
    approve = _rec("approve_leave_request", request_id=new["id"])
    assert "manager" in violations([approve], db, stranger, TODAY)[0]
    assert not [v for v in violations([approve], db, me["manager_id"], TODAY) if "manager" in v]
    t.carry_over_leave(db, me["id"], 6)
    assert "limit 5" in violations([_rec("carry_over_leave", employee_id=me["id"], days=6)], db, me["id"], TODAY)[0]


def test_phone_numbers_are_stored_in_one_form(db):
    me = _staff(db)["id"]
    assert t.update_contact_details(db, me, phone="+1 (555) 497-2253")["phone"] == "+15554972253"
    with pytest.raises(t.HRError, match="country code"):
        t.update_contact_details(db, me, phone="555-12")


def test_reformatted_phone_still_scores_one():
    from nemogym.envs.tools.base import run_script, step_message

    import nemogym

    env = nemogym.make("nemogym/HR-v0")
    i = [tpl.name for tpl in env.templates].index("update_phone")
    steps = env.reference_steps(env.tasks.get(i))
    digits = "".join(ch for ch in steps[2]["arguments"]["phone"] if ch.isdigit())
    steps[2] = {**steps[2], "arguments": {**steps[2]["arguments"], "phone": f"+{digits[0]} {digits[1:4]} {digits[4:]}"}}
    verdict, _ = run_script(env, [step_message(s, k) for k, s in enumerate(steps)], task_index=i)
    assert verdict.reward == 1.0, verdict.reason


def test_count_working_days_is_exact_and_cheap_on_any_range():
    """The model picks the dates: a range of centuries used to loop day by day (seconds of
    event-loop time per call) and the year-9999 end overflowed."""
    import datetime as dt
    import random
    import time

    from nemogym.envs.enterprise.hr.data import is_working_day, working_days
    from nemogym.envs.enterprise.hr.tools import count_working_days

    rng = random.Random(7)
    for _ in range(300):
        s = dt.date(2025, 12, 1) + dt.timedelta(days=rng.randrange(800))
        e = s + dt.timedelta(days=rng.randrange(60))
        brute = sum(is_working_day(s + dt.timedelta(days=i)) for i in range((e - s).days + 1))
        assert working_days(s, e) == brute, (s, e)
    t0 = time.perf_counter()
    out = count_working_days("0001-01-01", "9999-12-31")
    assert time.perf_counter() - t0 < 0.05
    assert out["working_days"] == 2608608  # counted day by day once, offline
