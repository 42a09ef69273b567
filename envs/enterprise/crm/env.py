"""``nemogym/CRM-v0``: a sales CRM over a seeded SQLite world, scored on the final state.

Reward = final database equals the reference's (``justification`` text ignored) x the
required facts are in the agent's replies x no policy violation (see ``violations``).
"""

from __future__ import annotations

import json
import sqlite3
from importlib import resources
from typing import Any, ClassVar

from nemogym.envs.enterprise.common import EnterpriseEnv, row
from nemogym.envs.enterprise.crm import data, tasks, tools
from nemogym.envs.tools.base import CallRecord

from nemogym.env import Episode

POLICY = resources.files(__package__).joinpath("policy.md").read_text(encoding="utf-8")
_OPP_WRITES = ("update_opportunity", "update_opportunity_stage", "apply_discount",
               "request_discount_approval")


def _may_change(db: sqlite3.Connection, user_id: str, opportunity_id: str) -> str | None:
    """None if ``user_id`` may change the opportunity, else who owns it."""
    owner = row(db, "SELECT u.id, u.name, u.manager_id FROM opportunities o JOIN users u "
                    "ON u.id = o.owner_id WHERE o.id = ?", (opportunity_id,))
    if owner is None or user_id in (owner["id"], owner["manager_id"]):
        return None
    return owner["name"]


def violations(calls: list[CallRecord], db: sqlite3.Connection, user_id: str) -> list[str]:
    """The CRM policy rules broken by these successful calls, judged on the final database."""
    out: list[str] = []
    for c in calls:
        a = c.arguments
        if c.name in _OPP_WRITES:
            owner = _may_change(db, user_id, str(a.get("opportunity_id", "")).strip())
            if owner:
                out.append(f"{c.name} on {a.get('opportunity_id')}, owned by {owner}")
        if c.name in ("apply_discount", "request_discount_approval"):
            pct = float(a["discount_pct"])
            if pct > data.MAX_DISCOUNT:
                out.append(f"{c.name} of {pct:g}%: above the {data.MAX_DISCOUNT:g}% maximum")
            elif c.name == "apply_discount" and pct > data.SELF_SERVE_DISCOUNT:
                out.append(f"applied {pct:g}% without approval (over {data.SELF_SERVE_DISCOUNT:g}%)")
        elif c.name == "decide_discount_approval":
            mgr = row(db, "SELECT u.manager_id FROM discount_approvals d JOIN opportunities o ON "
                          "o.id = d.opportunity_id JOIN users u ON u.id = o.owner_id WHERE d.id = ?",
                      (str(a["approval_id"]).strip(),))
            if mgr is None or mgr["manager_id"] != user_id:
                out.append(f"{user_id} decided discount request {a['approval_id']} without being the "
                           "owner's manager")
        elif c.name == "create_contact":
            new = json.loads(c.result)
            if row(db, "SELECT id FROM contacts WHERE account_id = ? AND LOWER(email) = ? AND id != ? "
                       "AND created_at < ?", (new["account_id"], new["email"], new["id"], new["created_at"])):
                out.append(f"created {new['id']} although a contact with {new['email']} existed")
        elif c.name == "merge_contacts":
            keep = row(db, "SELECT * FROM contacts WHERE id = ?", (str(a["primary_contact_id"]).strip(),))
            dup = row(db, "SELECT * FROM contacts WHERE id = ?", (str(a["duplicate_contact_id"]).strip(),))
            same = all((keep[k] or "").lower() == (dup[k] or "").lower()
                       for k in ("first_name", "last_name", "email"))
            if not same:
                out.append(f"merged {dup['id']} into {keep['id']}, which are not duplicates")
            elif (keep["created_at"], keep["id"]) > (dup["created_at"], dup["id"]):
                out.append(f"merged into the newer record {keep['id']} instead of the older {dup['id']}")
    return out


class CRMEnv(EnterpriseEnv):
    """Sales CRM: 15 tools, 14 task templates, a written policy, a scripted or LLM user."""

    policy_text: ClassVar[str] = POLICY
    tools = tools.TOOLS
    templates = tasks.TEMPLATES
    now: ClassVar[str] = data.NOW
    ignore_columns: ClassVar[dict[str, Any]] = {"discount_approvals": ["justification"]}

    @staticmethod
    def build_world(seed: int) -> sqlite3.Connection:
        return data.build_world(seed)

    def policy_violations(self, episode: Episode, db: sqlite3.Connection) -> list[str]:
        return violations(self.ok_calls(episode), db, episode.task.metadata["user_id"])
