"""The ITSM world: schema, business rules (priority matrix, SLAs) and the seeded generator.

``build_world(seed)`` returns a new in-memory database with ~120 users, ~30 agents in 8
assignment groups, ~60 configuration items, ~300 incidents and requests in every state, their
notes and SLA clocks, all relative to the fixed ``NOW``. Same seed, same database.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime, timedelta

from nemogym.envs.enterprise.common import connect

NOW = "2026-03-02 10:00"
TIME_FMT = "%Y-%m-%d %H:%M"

SCHEMA = """
CREATE TABLE users (user_id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE,
  department TEXT, location TEXT, title TEXT, vip INTEGER NOT NULL DEFAULT 0, manager_id TEXT);
CREATE TABLE groups (group_name TEXT PRIMARY KEY, description TEXT, lead_agent_id TEXT);
CREATE TABLE agents (agent_id TEXT PRIMARY KEY, name TEXT NOT NULL, group_name TEXT NOT NULL
  REFERENCES groups(group_name), level INTEGER NOT NULL);
CREATE TABLE cis (ci_id TEXT PRIMARY KEY, name TEXT NOT NULL, ci_type TEXT, category TEXT NOT NULL,
  location TEXT, owner_group TEXT REFERENCES groups(group_name));
CREATE TABLE sla (priority INTEGER PRIMARY KEY, response_minutes INTEGER, resolve_minutes INTEGER);
CREATE TABLE tickets (ticket_id TEXT PRIMARY KEY, type TEXT NOT NULL, caller_id TEXT NOT NULL
  REFERENCES users(user_id), short_description TEXT NOT NULL, description TEXT,
  category TEXT NOT NULL, ci_id TEXT REFERENCES cis(ci_id), impact INTEGER NOT NULL,
  urgency INTEGER NOT NULL, priority INTEGER NOT NULL, state TEXT NOT NULL,
  assignment_group TEXT REFERENCES groups(group_name), assigned_to TEXT,
  escalation_level INTEGER NOT NULL DEFAULT 0, opened_at TEXT NOT NULL, updated_at TEXT,
  response_due TEXT, resolve_due TEXT, resolved_at TEXT, closed_at TEXT, resolution_code TEXT,
  resolution_notes TEXT, related_id TEXT);
CREATE TABLE notes (note_id INTEGER PRIMARY KEY AUTOINCREMENT, ticket_id TEXT NOT NULL, kind TEXT,
  author TEXT, body TEXT, created_at TEXT);
CREATE TABLE history (hist_id INTEGER PRIMARY KEY AUTOINCREMENT, ticket_id TEXT NOT NULL,
  field TEXT, old_value TEXT, new_value TEXT, changed_by TEXT, changed_at TEXT, detail TEXT);
CREATE INDEX tickets_caller ON tickets(caller_id);
CREATE INDEX tickets_ci ON tickets(ci_id);
CREATE INDEX notes_ticket ON notes(ticket_id);
"""

#: (response, resolve) minutes per priority.
SLA_MINUTES = {1: (15, 4 * 60), 2: (30, 8 * 60), 3: (4 * 60, 3 * 24 * 60), 4: (8 * 60, 5 * 24 * 60)}
CATEGORY_GROUP = {
    "hardware": "Desktop Support", "network": "Network", "access": "Identity & Access",
    "software": "Applications", "email": "Applications", "database": "Database",
    "security": "Security", "inquiry": "Service Desk",
}
CATEGORIES = tuple(CATEGORY_GROUP)
GROUPS = {
    "Service Desk": "First line: triage, how-to questions, password resets.",
    "Desktop Support": "Laptops, monitors, printers, peripherals.",
    "Network": "VPN, Wi-Fi, LAN, firewalls, DNS.",
    "Identity & Access": "Accounts, group memberships, MFA, access requests.",
    "Applications": "Business applications and email.",
    "Database": "Database servers and data platforms.",
    "Security": "Security incidents, badges, phishing.",
    "Major Incident": "Coordinates every P1 incident.",
}
OPEN_STATES = ("new", "in_progress", "on_hold")
STATES = OPEN_STATES + ("resolved", "closed", "cancelled")
RESOLUTION_CODES = ("fixed", "workaround", "duplicate", "no_fault_found", "user_error")
REOPEN_DAYS = 7
DESK_AGENT = "A100"  # the service desk agent the model acts as (injected as user_id)

FIRST = ("Ava Ben Chloe Daniel Elena Farid Grace Hugo Isla Jonas Keiko Liam Maya Noah Olga Priya "
         "Quinn Rafael Sara Tomas Uma Victor Wen Xavier Yara Zoe Amir Beatriz Chen Dmitri Esther "
         "Felix Hana Ivan Julia Kofi Lena Marco Nadia Oscar").split()
LAST = ("Smith Garcia Chen Müller Okafor Rossi Novak Tanaka Silva Kowalski Haddad Jensen Dubois "
        "Patel Moreau Ivanova Nakamura Schmidt Costa Lindqvist Brennan Yilmaz Andersen Ferreira").split()
DEPARTMENTS = ("Finance", "HR", "Sales", "Engineering", "Marketing", "Legal", "Operations", "Support")
LOCATIONS = ("London", "Austin", "Singapore", "Berlin")
TITLES = ("Analyst", "Engineer", "Manager", "Specialist", "Coordinator", "Consultant")
CI_KINDS = (  # (name pattern, type, category)
    ("VPN Gateway {loc}", "network device", "network"), ("Wi-Fi {loc}", "network", "network"),
    ("Printer {loc}-{n}", "printer", "hardware"), ("Meeting Room AV {loc}-{n}", "av system", "hardware"),
    ("Badge Reader {loc}", "access control", "security"), ("File Share {loc}", "server", "network"),
)
CI_GLOBAL = (
    ("Exchange Online", "saas", "email"), ("SAP ERP", "application", "software"),
    ("Salesforce CRM", "saas", "software"), ("HR Portal", "application", "software"),
    ("Expense Tool", "saas", "software"), ("Active Directory", "directory", "access"),
    ("Okta SSO", "saas", "access"), ("Payroll DB (pg-prd-03)", "database", "database"),
    ("Data Warehouse (snow-prd)", "database", "database"), ("Orders DB (mysql-prd-01)", "database", "database"),
    ("Jira", "saas", "software"), ("Confluence", "saas", "software"), ("Zoom", "saas", "software"),
    ("Endpoint Protection", "security", "security"), ("Email Gateway", "security", "security"),
)
ISSUES = {
    "network": ["cannot connect", "keeps dropping", "very slow", "authentication fails"],
    "hardware": ["shows a paper jam", "does not power on", "prints blank pages", "no display output"],
    "software": ["returns error 500", "is very slow", "login loops", "report export fails"],
    "email": ["mails stuck in outbox", "calendar not syncing", "shared mailbox missing"],
    "access": ["account locked", "MFA prompt never arrives", "missing group membership"],
    "database": ["queries time out", "replication lag alerts", "disk almost full"],
    "security": ["suspicious login alert", "phishing email received", "badge not accepted"],
}
REQUESTS = [("New laptop for a new starter", "hardware"), ("Access to the Finance share", "access"),
            ("Install Visio", "software"), ("New shared mailbox", "email"), ("Extra monitor", "hardware"),
            ("Add me to the Sales distribution list", "email"), ("VPN token for travel", "network"),
            ("Question about expense approvals", "inquiry"), ("How do I share my calendar", "inquiry"),
            ("Where is the VPN setup guide", "inquiry")]


def priority_for(impact: int, urgency: int) -> int:
    """The policy's matrix: P = impact + urgency - 1, capped at 4 (1 = highest)."""
    return min(4, impact + urgency - 1)


def parse_time(s: str) -> datetime:
    return datetime.strptime(s, TIME_FMT)


def fmt_time(t: datetime) -> str:
    return t.strftime(TIME_FMT)


def sla_due(opened_at: str, priority: int) -> tuple[str, str]:
    """(response_due, resolve_due) for a ticket opened at ``opened_at`` with ``priority``."""
    t = parse_time(opened_at)
    resp, res = SLA_MINUTES[priority]
    return fmt_time(t + timedelta(minutes=resp)), fmt_time(t + timedelta(minutes=res))


def build_world(seed: int) -> sqlite3.Connection:
    """A populated ITSM database for ``seed`` (deterministic)."""
    rng = random.Random(f"itsm-world/{seed}")
    db = connect()
    db.executescript(SCHEMA)
    db.executemany("INSERT INTO sla VALUES (?,?,?)", [(p, r, s) for p, (r, s) in SLA_MINUTES.items()])
    now = parse_time(NOW)

    users = _users(rng)
    db.executemany("INSERT INTO users VALUES (?,?,?,?,?,?,?,?)", users)
    agents = [(DESK_AGENT, "Desk Agent (you)", "Service Desk", 1)]
    for g in GROUPS:
        for lvl in (1, 1, 2) if g != "Major Incident" else (2, 3):
            agents.append((f"A{101 + len(agents)}", f"{rng.choice(FIRST)} {rng.choice(LAST)}", g, lvl))
    leads = {g: max((a for a in agents if a[2] == g), key=lambda a: (a[3], a[0]))[0] for g in GROUPS}
    db.executemany("INSERT INTO groups VALUES (?,?,?)", [(g, d, leads[g]) for g, d in GROUPS.items()])
    db.executemany("INSERT INTO agents VALUES (?,?,?,?)", agents)

    cis = []
    for name, ctype, cat in CI_GLOBAL:
        cis.append((f"CI{2001 + len(cis)}", name, ctype, cat, "Global", CATEGORY_GROUP[cat]))
    for loc in LOCATIONS:
        for pattern, ctype, cat in CI_KINDS:
            for n in range(1, 3 if "{n}" in pattern else 2):
                name = pattern.format(loc=loc[:3].upper() if "{n}" in pattern else loc, n=f"{n:02d}")
                cis.append((f"CI{2001 + len(cis)}", name, ctype, cat, loc, CATEGORY_GROUP[cat]))
    db.executemany("INSERT INTO cis VALUES (?,?,?,?,?,?)", cis)

    group_agents = {g: [a[0] for a in agents if a[2] == g] for g in GROUPS}
    n_inc, n_req = 1000, 5000
    tickets, notes = [], []
    for i in range(300):
        is_inc = rng.random() < 0.7
        caller = rng.choice(users)
        if is_inc:
            ci = rng.choice(cis)
            cat, ci_id = ci[3], ci[0]
            short = f"{ci[1]} {rng.choice(ISSUES[cat])}"
            n_inc += 1
            tid, kind = f"INC{n_inc:07d}", "incident"
        else:
            short, cat = rng.choice(REQUESTS)
            ci_id = None
            n_req += 1
            tid, kind = f"REQ{n_req:07d}", "request"
        impact, urgency = rng.choice((1, 2, 2, 3, 3, 3)), rng.choice((1, 2, 2, 3, 3))
        if i % 10 == 0:  # keep enough fresh P1/P2 work around
            impact, urgency = 1, rng.choice((1, 2))
        prio = priority_for(impact, urgency)
        opened = now - timedelta(minutes=rng.randint(20, 30 * 24 * 60))
        opened_at = fmt_time(opened)
        resp_due, res_due = sla_due(opened_at, prio)
        state = rng.choices(STATES, weights=(8, 30, 8, 22, 25, 7))[0]
        group = CATEGORY_GROUP[cat]
        assigned = rng.choice(group_agents[group]) if state != "new" else None
        resolved_at = closed_at = code = res_notes = None
        if state in ("resolved", "closed"):
            span = (now - opened).total_seconds() / 60
            resolved = opened + timedelta(minutes=rng.uniform(0.1, 1.0) * span)
            resolved_at, code = fmt_time(resolved), rng.choice(RESOLUTION_CODES)
            res_notes = "Fixed by the assigned engineer; caller confirmed."
            if state == "closed":
                closed_at = fmt_time(min(now, resolved + timedelta(days=3)))
        level = 1 if state in OPEN_STATES and res_due < NOW and rng.random() < 0.3 else 0
        tickets.append((tid, kind, caller[0], short, f"Reported by {caller[1]}: {short.lower()}.", cat,
                        ci_id, impact, urgency, prio, state, group, assigned, level, opened_at, opened_at,
                        resp_due, res_due, resolved_at, closed_at, code, res_notes, None))
        for k in range(rng.randint(0, 2)):
            notes.append((tid, rng.choice(("comment", "work_note")), assigned or DESK_AGENT,
                          rng.choice(("Asked the caller for a screenshot.", "Investigating logs.",
                                      "Waiting on vendor.", "Remote session scheduled.")),
                          fmt_time(opened + timedelta(minutes=30 * (k + 1)))))
    db.executemany(f"INSERT INTO tickets VALUES ({','.join('?' * 23)})", tickets)
    db.executemany("INSERT INTO notes (ticket_id, kind, author, body, created_at) VALUES (?,?,?,?,?)", notes)
    return db


def _users(rng: random.Random) -> list[tuple]:
    out, emails = [], set()
    for i in range(120):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        base = f"{first}.{last}".lower().replace("ü", "ue")
        email, n = f"{base}@acme.example", 2
        while email in emails:
            email, n = f"{base}{n}@acme.example", n + 1
        emails.add(email)
        vip = 1 if i % 20 == 0 else 0
        title = "Vice President" if vip else rng.choice(TITLES)
        manager = f"U{1001 + rng.randrange(0, i)}" if i else None
        out.append((f"U{1001 + i}", f"{first} {last}", email, rng.choice(DEPARTMENTS),
                    rng.choice(LOCATIONS), title, vip, manager))
    return out
