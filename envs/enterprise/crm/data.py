"""The CRM world: SQLite schema and a seeded generator (same seed, same database).

``build_world(seed)`` writes users, accounts, contacts (with planted duplicates),
opportunities and discount approvals into a fresh in-memory database. The env's
``WorldCache`` (``envs/enterprise/common.py``) builds each seed once and copies it per episode.
"""

from __future__ import annotations

import random
import sqlite3

from nemogym.envs.enterprise.common import connect

#: The fixed "now" of every CRM world: writes are stamped with it, so runs are reproducible.
NOW = "2026-11-16T10:00:00"
TODAY = NOW[:10]

STAGES = ("prospecting", "qualification", "proposal", "negotiation", "closed_won", "closed_lost")
OPEN_STAGES = STAGES[:4]
LOSS_REASONS = ("price", "competitor", "no_budget", "no_decision", "timing", "other")
#: Discounts up to this percentage a rep may apply directly.
SELF_SERVE_DISCOUNT = 10.0
#: Discounts above SELF_SERVE_DISCOUNT and up to this need the owner's manager's approval.
MAX_DISCOUNT = 25.0

SCHEMA = """
CREATE TABLE users (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('rep', 'manager')),
  manager_id TEXT REFERENCES users(id), region TEXT NOT NULL);
CREATE TABLE accounts (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, industry TEXT NOT NULL,
  region TEXT NOT NULL, tier TEXT NOT NULL CHECK (tier IN ('smb', 'mid_market', 'enterprise')),
  annual_revenue INTEGER NOT NULL, website TEXT NOT NULL,
  owner_id TEXT NOT NULL REFERENCES users(id));
CREATE TABLE contacts (
  id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
  first_name TEXT NOT NULL, last_name TEXT NOT NULL, email TEXT, phone TEXT, title TEXT,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'merged')),
  merged_into TEXT REFERENCES contacts(id), created_at TEXT NOT NULL);
CREATE TABLE opportunities (
  id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id), name TEXT NOT NULL,
  stage TEXT NOT NULL, amount INTEGER NOT NULL CHECK (amount > 0),
  discount_pct REAL NOT NULL DEFAULT 0, close_date TEXT NOT NULL,
  owner_id TEXT NOT NULL REFERENCES users(id), primary_contact_id TEXT REFERENCES contacts(id),
  loss_reason TEXT, updated_at TEXT NOT NULL);
CREATE TABLE discount_approvals (
  id TEXT PRIMARY KEY, opportunity_id TEXT NOT NULL REFERENCES opportunities(id),
  requested_pct REAL NOT NULL, justification TEXT NOT NULL,
  requested_by TEXT NOT NULL REFERENCES users(id), approver_id TEXT NOT NULL REFERENCES users(id),
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
  created_at TEXT NOT NULL, decided_at TEXT);
CREATE INDEX contacts_account ON contacts(account_id, email);
CREATE INDEX opps_account ON opportunities(account_id);
"""

FIRST = ("Ava Ben Chloe Daniel Elena Farid Grace Hiro Isla Jonas Kira Liam Maya Nikhil Olivia "
         "Pablo Quinn Rosa Samir Tara Umar Vera Wei Ximena Yusuf Zoe Aaron Bianca Carlos Dana "
         "Emil Fatima Gabriel Hana Ivan Julia Kofi Lena Marco Nora Oscar Priya Rafael Sofia "
         "Tomas Uma Victor Wanda Yara Zane").split()
LAST = ("Adams Baker Chen Diaz Evans Fischer Garcia Hughes Ito Jensen Khan Lopez Moreau Novak "
        "Okafor Patel Quinn Rossi Silva Tanaka Ueda Varga Walsh Xu Young Zimmer Brennan Costa "
        "Dubois Eriksen Ferreira Gupta Haas Ivanova Kowalski Larsen Mendes Nakamura Olsen "
        "Petrov Reyes Schmidt Torres Ulrich Vidal Weber").split()
_PREFIX = ("Acme Apex Blue Bright Cedar Cobalt Crest Delta Ember Evergreen Falcon Granite Harbor "
           "Helix Iron Juniper Keystone Lumen Maple Meridian Nimbus Northwind Oak Orbit Pioneer "
           "Quartz Redwood Sable Summit Terra Trident Vertex Willow Zenith").split()
_SUFFIX = ("Systems Labs Logistics Health Foods Energy Capital Robotics Media Analytics Motors "
           "Textiles Pharma Networks Retail Foundry").split()
INDUSTRIES = ("Software", "Manufacturing", "Healthcare", "Retail", "Finance", "Energy",
              "Logistics", "Media")
REGIONS = ("NA-East", "NA-West", "EMEA", "APAC")
TITLES = ("CEO", "CFO", "CTO", "VP Sales", "VP Engineering", "Head of Procurement",
          "IT Director", "Operations Manager", "Product Manager", "Finance Manager",
          "Security Lead", "Data Engineer")
PRODUCTS = ("Analytics Suite", "Cloud Platform", "Security Add-on", "Data Connectors",
            "Support Plan", "Edge Devices", "Training Package", "API Gateway")
DEAL_KINDS = ("new business", "renewal", "expansion", "pilot")


def _phone(rng: random.Random) -> str:
    return f"+1555{rng.randint(100, 999)}{rng.randint(1000, 9999)}"  # E.164, as the tools store it


def build_world(seed: int) -> sqlite3.Connection:
    """A fresh CRM database for ``seed``: ~20 users, 120 accounts, ~500 contacts, ~300 deals."""
    rng = random.Random(f"crm-world/{seed}")
    db = connect()
    db.executescript(SCHEMA)
    db.execute("BEGIN")
    people = [(f, la) for f in FIRST for la in LAST]
    rng.shuffle(people)
    person = iter(people)

    users, reps_by_region = [], {r: [] for r in REGIONS}
    n = 1
    for region in REGIONS:
        f, la = next(person)
        mid = f"U{n:02d}"
        users.append((mid, f"{f} {la}", f"{f}.{la}@ourco.example".lower(), "manager", None, region))
        n += 1
        for _ in range(4):
            f, la = next(person)
            uid = f"U{n:02d}"
            users.append((uid, f"{f} {la}", f"{f}.{la}@ourco.example".lower(), "rep", mid, region))
            reps_by_region[region].append(uid)
            n += 1
    db.executemany("INSERT INTO users VALUES (?,?,?,?,?,?)", users)

    names = [f"{p} {s}" for p in _PREFIX for s in _SUFFIX]
    rng.shuffle(names)
    accounts, contacts, opps, approvals = [], [], [], []
    cid, oid = 20001, 30001
    for i, name in enumerate(names[:120]):
        aid = f"ACC-{1001 + i}"
        region = rng.choice(REGIONS)
        owner = rng.choice(reps_by_region[region])
        tier = rng.choices(("smb", "mid_market", "enterprise"), (5, 3, 2))[0]
        domain = name.lower().replace(" ", "") + ".example"
        revenue = {"smb": 5, "mid_market": 80, "enterprise": 900}[tier] * rng.randint(1, 9) * 100_000
        accounts.append((aid, name, rng.choice(INDUSTRIES), region, tier, revenue,
                         f"https://www.{domain}", owner))
        acc_contacts = []
        for _ in range(rng.randint(3, 5)):
            f, la = next(person)
            row = [f"C-{cid}", aid, f, la, f"{f}.{la}@{domain}".lower(), _phone(rng),
                   rng.choice(TITLES), "active", None, f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T09:00:00"]
            contacts.append(row)
            acc_contacts.append(row)
            cid += 1
        if rng.random() < 0.22:  # a planted duplicate: same person, entered again later
            orig = rng.choice(acc_contacts)
            dup = [f"C-{cid}", aid, orig[2], orig[3], orig[4], None if rng.random() < 0.6 else _phone(rng),
                   None if rng.random() < 0.5 else rng.choice(TITLES), "active", None, "2026-06-01T09:00:00"]
            if orig[6] is None:
                dup[6] = rng.choice(TITLES)
            contacts.append(dup)
            cid += 1
        used = set()
        for _ in range(rng.randint(1, 4)):
            product, kind = rng.choice(PRODUCTS), rng.choice(DEAL_KINDS)
            if (product, kind) in used:
                continue
            used.add((product, kind))
            stage = rng.choices(STAGES, (3, 3, 3, 3, 2, 1))[0]
            contact = rng.choice(acc_contacts)[0]
            if stage in ("negotiation", "proposal") and rng.random() < 0.35:
                contact = None
            deal_owner = owner if rng.random() < 0.85 else rng.choice(reps_by_region[region])
            month = rng.randint(1, 12)
            close = f"{2026 if stage in ('closed_won', 'closed_lost') else 2027}-{month:02d}-{rng.randint(1, 28):02d}"
            discount = rng.choice((0, 0, 0, 0, 5, 10)) if stage != "prospecting" else 0
            opps.append((f"OPP-{oid}", aid, f"{name} - {product} {kind}", stage,
                         rng.randint(5, 400) * 1000, float(discount), close, deal_owner, contact,
                         rng.choice(LOSS_REASONS) if stage == "closed_lost" else None,
                         "2026-10-01T09:00:00"))
            oid += 1
    db.executemany("INSERT INTO accounts VALUES (?,?,?,?,?,?,?,?)", accounts)
    db.executemany("INSERT INTO contacts VALUES (?,?,?,?,?,?,?,?,?,?)", contacts)
    db.executemany("INSERT INTO opportunities VALUES (?,?,?,?,?,?,?,?,?,?,?)", opps)
    managers = {u[0]: u[4] for u in users}
    open_opps = [o for o in opps if o[3] in ("proposal", "negotiation")]
    for k, o in enumerate(rng.sample(open_opps, min(12, len(open_opps)))):
        approvals.append((f"DA-{4001 + k}", o[0], float(rng.choice((12, 15, 18, 20, 22))),
                          "Competitive pressure; multi-year commitment offered.", o[7],
                          managers[o[7]], "pending", "2026-11-10T09:00:00", None))
    db.executemany("INSERT INTO discount_approvals VALUES (?,?,?,?,?,?,?,?,?)", approvals)
    db.execute("COMMIT")
    return db
