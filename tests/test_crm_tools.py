"""CRM tools and policy checks on a real seeded SQLite world."""

from __future__ import annotations

import json

import pytest
from nemogym.envs.enterprise.common import copy_db, row
from nemogym.envs.enterprise.crm import data
from nemogym.envs.enterprise.crm import tools as t
from nemogym.envs.enterprise.crm.env import violations
from nemogym.envs.tools.base import CallRecord

NOW = data.NOW


@pytest.fixture(scope="module")
def world():
    return data.build_world(0)


@pytest.fixture
def db(world):
    return copy_db(world)


def _opp(db, where: str) -> dict:
    return row(db, f"SELECT * FROM opportunities WHERE {where} ORDER BY id LIMIT 1")


def _rec(name: str, result: dict | None = None, **arguments) -> CallRecord:
    return CallRecord(1, "c", name, arguments, True, json.dumps(result or {}))


def test_world_invariants(world):
    assert world.execute("SELECT COUNT(*) FROM opportunities WHERE stage NOT IN "
                         "('prospecting','qualification','proposal','negotiation','closed_won','closed_lost')"
                         ).fetchone()[0] == 0
    assert world.execute("SELECT COUNT(*) FROM opportunities WHERE stage = 'closed_lost' AND loss_reason IS NULL"
                         ).fetchone()[0] == 0
    # every rep has a manager in the same region; owners are reps
    assert world.execute("SELECT COUNT(*) FROM users r JOIN users m ON m.id = r.manager_id "
                         "WHERE r.role = 'rep' AND (m.role != 'manager' OR m.region != r.region)").fetchone()[0] == 0
    assert world.execute("SELECT COUNT(*) FROM opportunities o JOIN users u ON u.id = o.owner_id "
                         "WHERE u.role != 'rep'").fetchone()[0] == 0
    dups = world.execute("SELECT COUNT(*) FROM (SELECT account_id, email FROM contacts GROUP BY 1, 2 "
                         "HAVING COUNT(*) > 1)").fetchone()[0]
    assert dups >= 5


def test_stage_rules(db):
    o = _opp(db, "stage = 'qualification'")
    with pytest.raises(t.CRMError, match="can only move to proposal"):
        t.update_opportunity_stage(db, NOW, o["id"], "negotiation")
    with pytest.raises(t.CRMError, match="loss_reason"):
        t.update_opportunity_stage(db, NOW, o["id"], "closed_lost")
    with pytest.raises(t.CRMError, match="only negotiation"):
        t.update_opportunity_stage(db, NOW, o["id"], "closed_won")
    assert t.update_opportunity_stage(db, NOW, o["id"], "proposal")["stage"] == "proposal"
    lost = t.update_opportunity_stage(db, NOW, o["id"], "closed_lost", "price")
    assert (lost["stage"], lost["loss_reason"]) == ("closed_lost", "price")
    with pytest.raises(t.CRMError, match="closed opportunities cannot change"):
        t.apply_discount(db, NOW, o["id"], 5)
    n = _opp(db, "stage = 'negotiation' AND primary_contact_id IS NULL")
    with pytest.raises(t.CRMError, match="primary contact"):
        t.update_opportunity_stage(db, NOW, n["id"], "closed_won")


def test_merge_moves_opportunities_and_fills_gaps(db):
    keep, dup = row(db, "SELECT a.id AS keep, b.id AS dup FROM contacts a JOIN contacts b ON "
                        "a.account_id = b.account_id AND a.email = b.email AND a.created_at < b.created_at "
                        "ORDER BY a.id LIMIT 1").values()
    db.execute("UPDATE contacts SET phone = NULL WHERE id = ?", (keep,))
    db.execute("UPDATE contacts SET phone = '+1-555-000-0000' WHERE id = ?", (dup,))
    o = _opp(db, "stage = 'proposal'")
    db.execute("UPDATE opportunities SET account_id = (SELECT account_id FROM contacts WHERE id = ?), "
               "primary_contact_id = ? WHERE id = ?", (dup, dup, o["id"]))
    merged = t.merge_contacts(db, NOW, keep, dup)
    assert merged["phone"] == "+1-555-000-0000"
    assert row(db, "SELECT status, merged_into FROM contacts WHERE id = ?", (dup,)) == \
        {"status": "merged", "merged_into": keep}
    assert row(db, "SELECT primary_contact_id FROM opportunities WHERE id = ?", (o["id"],))["primary_contact_id"] == keep
    with pytest.raises(t.CRMError, match="already merged"):
        t.merge_contacts(db, NOW, keep, dup)
    assert all(c["id"] != dup for c in t.search_contacts(db, account_id=merged["account_id"]))


def test_discount_approval_flow(db):
    o = _opp(db, "stage = 'proposal' AND id NOT IN (SELECT opportunity_id FROM discount_approvals)")
    req = t.request_discount_approval(db, NOW, o["owner_id"], o["id"], 18, "Three-year deal")
    manager = row(db, "SELECT manager_id FROM users WHERE id = ?", (o["owner_id"],))["manager_id"]
    assert (req["status"], req["approver_id"], req["requested_pct"]) == ("pending", manager, 18.0)
    assert t.get_opportunity(db, o["id"])["discount_pct"] == o["discount_pct"]  # not applied yet
    with pytest.raises(t.CRMError, match="already has a pending"):
        t.request_discount_approval(db, NOW, o["owner_id"], o["id"], 12, "again")
    with pytest.raises(t.CRMError, match="justification"):
        t.request_discount_approval(db, NOW, o["owner_id"], _opp(db, "stage = 'negotiation'")["id"], 12, "  ")
    done = t.decide_discount_approval(db, NOW, manager, req["id"], "approve")
    assert done["status"] == "approved"
    assert t.get_opportunity(db, o["id"])["discount_pct"] == 18.0


def test_bad_input_messages(db):
    with pytest.raises(t.CRMError, match="no account with id 'ACC-0'"):
        t.get_account(db, "ACC-0")
    acc = row(db, "SELECT id FROM accounts ORDER BY id LIMIT 1")["id"]
    with pytest.raises(t.CRMError, match="not a valid email"):
        t.create_contact(db, NOW, acc, "A", "B", "not-an-email")
    with pytest.raises(t.CRMError, match="YYYY-MM-DD"):
        t.create_opportunity(db, NOW, "U02", acc, "Deal", 1000, "next week")
    with pytest.raises(t.CRMError, match="between 0 and 100"):
        t.apply_discount(db, NOW, _opp(db, "stage = 'proposal'")["id"], 120)
    with pytest.raises(t.CRMError, match="limit"):
        t.search_accounts(db, limit=500)


def test_violation_checks(db):
    o = _opp(db, "stage = 'proposal'")
    owner = row(db, "SELECT * FROM users WHERE id = ?", (o["owner_id"],))
    other_rep = row(db, "SELECT id FROM users WHERE role = 'rep' AND id != ? ORDER BY id LIMIT 1", (owner["id"],))["id"]
    stage = _rec("update_opportunity_stage", opportunity_id=o["id"], stage="negotiation")
    assert violations([stage], db, owner["id"]) == []
    assert violations([stage], db, owner["manager_id"]) == []  # the owner's manager may
    assert "owned by" in violations([stage], db, other_rep)[0]
    assert violations([_rec("apply_discount", opportunity_id=o["id"], discount_pct=10)], db, owner["id"]) == []
    assert "without approval" in violations([_rec("apply_discount", opportunity_id=o["id"], discount_pct=10.5)],
                                            db, owner["id"])[0]
    assert "maximum" in violations([_rec("request_discount_approval", opportunity_id=o["id"], discount_pct=30,
                                         justification="x")], db, owner["id"])[0]
    created = t.create_contact(db, NOW, o["account_id"], "Zed", "Zulu", "zed@zulu.example")
    assert violations([_rec("create_contact", created)], db, owner["id"]) == []
    existing = row(db, "SELECT * FROM contacts WHERE account_id = ? AND id != ? ORDER BY id LIMIT 1",
                   (o["account_id"], created["id"]))
    again = t.create_contact(db, NOW, o["account_id"], "Ann", "Other", existing["email"])
    assert "existed" in violations([_rec("create_contact", again)], db, owner["id"])[0]
    a = row(db, "SELECT id FROM contacts WHERE account_id = ? ORDER BY id LIMIT 1", (o["account_id"],))
    b = row(db, "SELECT id FROM contacts WHERE account_id = ? AND id > ? ORDER BY id LIMIT 1",
            (o["account_id"], a["id"]))
    merge = _rec("merge_contacts", primary_contact_id=a["id"], duplicate_contact_id=b["id"])
    assert "not duplicates" in violations([merge], db, owner["id"])[0]
