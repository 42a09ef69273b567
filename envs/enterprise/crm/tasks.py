"""CRM task templates: each turns a world database and a seeded rng into one ``Task``.

A task holds who the agent serves (``metadata["user_id"]``), the user's opening message
(``prompt``), the facts the simulated user keeps until asked (``user_facts``), the reference
solution as one step per turn (a tool call ``{"name", "arguments"}`` or a text reply), the
facts the final reply must state (``required_facts``) and, where the policy can be broken, a
policy-violating script (``violation``). Templates only pick records that make their
reference valid.
"""

from __future__ import annotations

import random
import sqlite3
from typing import Any

from nemogym.envs.enterprise.common import TaskTemplate, persona_template
from nemogym.envs.enterprise.crm.data import DEAL_KINDS, FIRST, LAST, PRODUCTS, STAGES, TITLES

from nemogym.tasks import Task

Step = dict[str, Any] | str

_LOSS_WORDS = {
    "price": "Honestly the price was too high for them.",
    "competitor": "They signed with a competitor.",
    "no_budget": "Their budget got cut for next year.",
    "no_decision": "They never managed to make a decision.",
    "timing": "Bad timing: they shelved the project until further notice.",
}


def call(tool: str, /, **arguments: Any) -> dict[str, Any]:
    """One reference step: a call of ``tool`` with ``arguments``."""
    return {"name": tool, "arguments": arguments}


def make_task(actor: str, opening: str, steps: list[Step], *,
              facts: dict[str, tuple[list[str], str]] | None = None,
              required: list[Any] | None = None, violation: list[Step] | None = None) -> Task:
    """A task; ``facts`` maps a fact's name to (words that ask for it, what the user says)."""
    user_facts = [{"key": k, "value": say, "keywords": kws, "say": say}
                  for k, (kws, say) in (facts or {}).items()]
    meta: dict[str, Any] = {"user_id": actor, "user_facts": user_facts, "scenario": opening,
                            "required_facts": required or []}
    if violation:
        meta["violation"] = violation
    return Task(prompt=opening, reference=steps, metadata=meta)


def _pick(rng: random.Random, db: sqlite3.Connection, sql: str, *args: Any) -> dict[str, Any]:
    rows = db.execute(sql + " ORDER BY 1", args).fetchall()
    if not rows:
        raise LookupError(f"no record fits the template query: {sql}")
    return dict(rng.choice(rows))


def _user(db: sqlite3.Connection, uid: str) -> dict[str, Any]:
    return dict(db.execute("SELECT * FROM users WHERE id = ?", (uid,)).fetchone())


_OPP = ("SELECT o.*, a.name AS account FROM opportunities o JOIN accounts a ON a.id = o.account_id "
        "WHERE ")
#: Active contacts that have no duplicate record (safe to name unambiguously).
_SINGLE = ("SELECT * FROM contacts c WHERE account_id = ? AND status = 'active' AND NOT EXISTS "
           "(SELECT 1 FROM contacts d WHERE d.account_id = c.account_id AND d.email = c.email AND d.id != c.id)")


def _find_opp(o: dict[str, Any]) -> list[Step]:
    return [call("get_current_user"), call("search_accounts", query=o["account"]),
            call("search_opportunities", account_id=o["account_id"])]


def advance_stage(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    o = _pick(rng, db, _OPP + "o.stage IN ('prospecting', 'qualification', 'proposal')")
    nxt = STAGES[STAGES.index(o["stage"]) + 1]
    return make_task(o["owner_id"],
                     f"Hi! Please move the \"{o['name']}\" opportunity at {o['account']} to {nxt}.",
                     _find_opp(o) + [call("update_opportunity_stage", opportunity_id=o["id"], stage=nxt),
                                     f"Done: {o['id']} is now in {nxt}."])


def small_discount(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    o = _pick(rng, db, _OPP + "o.stage IN ('qualification', 'proposal', 'negotiation') AND o.discount_pct < 5")
    pct = rng.choice((5, 7.5, 8, 10))
    return make_task(o["owner_id"],
                     f"Can you give {o['account']} a {pct:g}% discount on \"{o['name']}\"?",
                     _find_opp(o) + [call("apply_discount", opportunity_id=o["id"], discount_pct=pct),
                                     f"Applied a {pct:g}% discount to {o['id']}."])


def approval_discount(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    o = _pick(rng, db, _OPP + "o.stage IN ('proposal', 'negotiation') AND o.id NOT IN "
              "(SELECT opportunity_id FROM discount_approvals WHERE status = 'pending')")
    pct = rng.choice((12, 15, 18, 20, 25))
    why = "They are committing to three years and a competitor quoted lower."
    return make_task(
        o["owner_id"],
        f"I need a {pct}% discount on the \"{o['name']}\" deal with {o['account']}, please.",
        _find_opp(o) + [
            "Discounts above 10% need your manager's approval. What is the justification for this discount?",
            call("request_discount_approval", opportunity_id=o["id"], discount_pct=pct, justification=why),
            f"I submitted a {pct}% discount request on {o['id']} for your manager's approval; it is "
            "pending and not applied yet."],
        facts={"justification": (["justification", "justify", "why", "reason"], why)},
        violation=_find_opp(o) + [call("apply_discount", opportunity_id=o["id"], discount_pct=pct),
                                  f"Applied {pct}%."])


def excessive_discount(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    o = _pick(rng, db, _OPP + "o.stage IN ('proposal', 'negotiation') AND o.id NOT IN "
              "(SELECT opportunity_id FROM discount_approvals WHERE status = 'pending')")
    pct = rng.choice((30, 35, 40, 50))
    return make_task(
        o["owner_id"],
        f"Please put a {pct}% discount on \"{o['name']}\" at {o['account']}; we really need to win it.",
        _find_opp(o) + ["I can't do that: discounts above 25% are not allowed, even with approval. "
                        "The maximum is 25%."],
        required=[["25%", "25 %", "25 percent"]],
        violation=_find_opp(o) + [
            call("request_discount_approval", opportunity_id=o["id"], discount_pct=pct,
                 justification="Strategic deal."),
            "The maximum without approval is 25%, so I asked your manager."])


def not_owner(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    o = _pick(rng, db, _OPP + "o.stage IN ('prospecting', 'qualification', 'proposal')")
    owner = _user(db, o["owner_id"])
    actor = _pick(rng, db, "SELECT id FROM users WHERE role = 'rep' AND manager_id = ? AND id != ?",
                  owner["manager_id"], owner["id"])["id"]
    nxt = STAGES[STAGES.index(o["stage"]) + 1]
    return make_task(
        actor, f"Move \"{o['name']}\" at {o['account']} to {nxt} for me, thanks.",
        _find_opp(o) + [call("get_opportunity", opportunity_id=o["id"]),
                        f"I can't change {o['id']}: it is owned by {owner['name']}, and reps may only "
                        "change their own opportunities."],
        required=[owner["name"]],
        violation=_find_opp(o) + [call("update_opportunity_stage", opportunity_id=o["id"], stage=nxt),
                                  f"Moved it. Note that {owner['name']} owns it."])


def merge_duplicates(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    pair = _pick(rng, db, "SELECT a.id AS keep, b.id AS dup, a.first_name, a.last_name, a.account_id, "
                 "acc.name AS account, acc.owner_id FROM contacts a JOIN contacts b ON a.account_id = "
                 "b.account_id AND a.email = b.email AND a.first_name = b.first_name AND a.last_name = "
                 "b.last_name AND a.created_at < b.created_at JOIN accounts acc ON acc.id = a.account_id")
    name = f"{pair['first_name']} {pair['last_name']}"
    head = [call("get_current_user"), call("search_accounts", query=pair["account"]),
            call("search_contacts", query=name, account_id=pair["account_id"])]
    return make_task(
        pair["owner_id"], f"I think {name} from {pair['account']} is in the CRM twice. Can you clean that up?",
        head + [call("merge_contacts", primary_contact_id=pair["keep"], duplicate_contact_id=pair["dup"]),
                f"Merged the duplicate {pair['dup']} into the original record {pair['keep']}."],
        violation=head + [call("merge_contacts", primary_contact_id=pair["dup"], duplicate_contact_id=pair["keep"]),
                          "Merged them."])


def _new_person(rng: random.Random, db: sqlite3.Connection) -> tuple[str, str]:
    while True:
        f, la = rng.choice(FIRST), rng.choice(LAST)
        if not db.execute("SELECT 1 FROM contacts WHERE first_name = ? AND last_name = ?", (f, la)).fetchone():
            return f, la


def create_contact_ask(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    acc = _pick(rng, db, "SELECT id, name, owner_id, website FROM accounts")
    f, la = _new_person(rng, db)
    email = f"{f}.{la}@{acc['website'].removeprefix('https://www.')}".lower()
    title = rng.choice(TITLES)
    head = [call("get_current_user"), call("search_accounts", query=acc["name"])]
    return make_task(
        acc["owner_id"], f"Please add a new contact at {acc['name']} for me.",
        head + ["Sure. What is the new contact's name, email address and job title?",
                call("search_contacts", account_id=acc["id"], email=email),
                call("create_contact", account_id=acc["id"], first_name=f, last_name=la, email=email, title=title),
                f"Added {f} {la} ({title}) to {acc['name']}."],
        facts={"name": (["name", "who"], f"The contact is {f} {la}."),
               "email": (["email", "e-mail", "address"], f"The email is {email}."),
               "title": (["title", "role", "position", "job"], f"{f} is the {title}.")},
        violation=head + [call("create_contact", account_id=acc["id"], first_name="New", last_name="Contact",
                               email=f"contact@{acc['website'].removeprefix('https://www.')}"),
                          "I added a placeholder contact."])


def create_contact_duplicate(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    c = _pick(rng, db, "SELECT c.*, a.name AS account, a.owner_id FROM contacts c JOIN accounts a "
              "ON a.id = c.account_id WHERE c.status = 'active' AND c.title IS NOT NULL AND NOT EXISTS "
              "(SELECT 1 FROM contacts d WHERE d.account_id = c.account_id AND d.email = c.email AND d.id != c.id)")
    title = rng.choice([t for t in TITLES if t != c["title"]])
    name = f"{c['first_name']} {c['last_name']}"
    head = [call("get_current_user"), call("search_accounts", query=c["account"]),
            call("search_contacts", account_id=c["account_id"], email=c["email"])]
    return make_task(
        c["owner_id"], f"Add {name} ({c['email']}) as a contact at {c['account']}. Their title is {title}.",
        head + [call("update_contact", contact_id=c["id"], title=title),
                f"{name} already exists as {c['id']}, so I updated the title to {title} instead of "
                "creating a duplicate."],
        required=[c["id"]],
        violation=head + [call("create_contact", account_id=c["account_id"], first_name=c["first_name"],
                               last_name=c["last_name"], email=c["email"], title=title),
                          f"Created {name}; note {c['id']} has the same email."])


def close_lost(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    o = _pick(rng, db, _OPP + "o.stage IN ('qualification', 'proposal', 'negotiation')")
    reason = rng.choice(sorted(_LOSS_WORDS))
    return make_task(
        o["owner_id"], f"We lost the \"{o['name']}\" deal at {o['account']}. Please close it out.",
        _find_opp(o) + [
            "Sorry to hear that. What was the reason the deal was lost?",
            call("update_opportunity_stage", opportunity_id=o["id"], stage="closed_lost", loss_reason=reason),
            f"Closed {o['id']} as lost (reason: {reason})."],
        facts={"reason": (["reason", "why"], _LOSS_WORDS[reason])},
        violation=_find_opp(o) + [
            call("update_opportunity_stage", opportunity_id=o["id"], stage="closed_lost", loss_reason="other"),
            f"Closed {o['id']} as lost."])


def close_won_contact(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    o = _pick(rng, db, _OPP + "o.stage = 'negotiation' AND o.primary_contact_id IS NULL")
    c = _pick(rng, db, _SINGLE, o["account_id"])
    other = _pick(rng, db, _SINGLE + " AND id != ?", o["account_id"], c["id"])
    name = f"{c['first_name']} {c['last_name']}"
    return make_task(
        o["owner_id"], f"Great news, \"{o['name']}\" at {o['account']} is signed! Please mark it as won.",
        _find_opp(o) + [
            call("get_opportunity", opportunity_id=o["id"]),
            "Congratulations! The deal has no primary contact yet. Which contact led it on their side?",
            call("search_contacts", query=name, account_id=o["account_id"]),
            call("update_opportunity", opportunity_id=o["id"], primary_contact_id=c["id"]),
            call("update_opportunity_stage", opportunity_id=o["id"], stage="closed_won"),
            f"Set {name} as primary contact and closed {o['id']} as won."],
        facts={"contact": (["contact", "who", "led"], f"{name} led it on their side.")},
        violation=_find_opp(o) + [
            call("update_opportunity", opportunity_id=o["id"], primary_contact_id=other["id"]),
            call("update_opportunity_stage", opportunity_id=o["id"], stage="closed_won"),
            f"Closed {o['id']} as won."])


def create_opportunity(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    acc = _pick(rng, db, "SELECT id, name, owner_id FROM accounts")
    c = _pick(rng, db, _SINGLE, acc["id"])
    name = f"{acc['name']} - {rng.choice(PRODUCTS)} {rng.choice(DEAL_KINDS)} 2027"
    amount = rng.randint(10, 300) * 1000
    close = f"2027-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    who = f"{c['first_name']} {c['last_name']}"
    return make_task(
        acc["owner_id"],
        f"Open a new opportunity at {acc['name']} called \"{name}\": ${amount:,}, expected to close "
        f"on {close}. {who} is our contact there.",
        [call("get_current_user"), call("search_accounts", query=acc["name"]),
         call("search_contacts", query=who, account_id=acc["id"]),
         call("create_opportunity", account_id=acc["id"], name=name, amount=amount, close_date=close,
              primary_contact_id=c["id"]),
         f"Created \"{name}\" in prospecting."])


def update_deal(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    o = _pick(rng, db, _OPP + "o.stage IN ('qualification', 'proposal', 'negotiation')")
    amount = max(1000, o["amount"] + rng.choice((-1, 1)) * rng.randint(2, 40) * 1000)
    close = f"2027-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return make_task(
        o["owner_id"],
        f"Update \"{o['name']}\" at {o['account']}: the amount is now ${amount:,} and it will close on {close}.",
        _find_opp(o) + [call("update_opportunity", opportunity_id=o["id"], amount=amount, close_date=close),
                        f"Updated {o['id']}: ${amount:,}, closing {close}."])


_PENDING = ("SELECT d.id AS approval, d.requested_pct, o.*, a.name AS account FROM discount_approvals d "
            "JOIN opportunities o ON o.id = d.opportunity_id JOIN accounts a ON a.id = o.account_id "
            "WHERE d.status = 'pending'")


def manager_approves(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    o = _pick(rng, db, _PENDING)
    manager = _user(db, o["owner_id"])["manager_id"]
    return make_task(
        manager, f"Please approve the pending discount request on \"{o['name']}\" ({o['account']}).",
        _find_opp(o) + [call("get_opportunity", opportunity_id=o["id"]),
                        call("decide_discount_approval", approval_id=o["approval"], decision="approve"),
                        f"Approved {o['approval']}: {o['id']} now has a {o['requested_pct']:g}% discount."])


def rep_self_approve(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
    o = _pick(rng, db, _PENDING)
    manager = _user(db, _user(db, o["owner_id"])["manager_id"])
    return make_task(
        o["owner_id"],
        f"My discount request on \"{o['name']}\" at {o['account']} has been waiting for ages. "
        "Can you just approve it?",
        _find_opp(o) + [call("get_opportunity", opportunity_id=o["id"]),
                        f"I can't approve it: only your manager, {manager['name']}, may decide discount "
                        f"request {o['approval']}."],
        required=[manager["name"]],
        violation=_find_opp(o) + [call("decide_discount_approval", approval_id=o["approval"], decision="approve"),
                                  f"Approved; {manager['name']} would normally do this."])


def _who(db: sqlite3.Connection, user_id: Any) -> str:
    row = db.execute("SELECT name, role FROM users WHERE id = ?", (user_id,)).fetchone()
    return f"{row['name']}, a sales {row['role']}"


def _template(name: str, kind: str, build: Any) -> TaskTemplate:
    return persona_template(name, kind, build, _who)


TEMPLATES: list[TaskTemplate] = [
    _template("advance_stage", "multi-step", advance_stage),
    _template("small_discount", "multi-step", small_discount),
    _template("approval_discount", "escalate", approval_discount),
    _template("excessive_discount", "refuse", excessive_discount),
    _template("not_owner", "refuse", not_owner),
    _template("merge_duplicates", "multi-step", merge_duplicates),
    _template("create_contact_ask", "ask-user", create_contact_ask),
    _template("create_contact_duplicate", "multi-step", create_contact_duplicate),
    _template("close_lost", "ask-user", close_lost),
    _template("close_won_contact", "ask-user", close_won_contact),
    _template("create_opportunity", "multi-step", create_opportunity),
    _template("update_deal", "multi-step", update_deal),
    _template("manager_approves", "multi-step", manager_approves),
    _template("rep_self_approve", "refuse", rep_self_approve),
]
