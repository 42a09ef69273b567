"""The HR world: SQLite schema and a seeded generator (same seed, same database).

``build_world(seed)`` writes departments, ~230 employees in a manager tree, leave balances
for 2026 and 2027 consistent with ~400 leave requests (past, future, pending, planted team
overlaps) and an empty HR case queue. The env's ``WorldCache`` builds each seed once and
copies it per episode.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3

from nemogym.envs.enterprise.common import connect

#: The fixed "now" of every HR world: writes are stamped with it, so runs are reproducible.
NOW = "2026-11-16T10:00:00"
TODAY = dt.date.fromisoformat(NOW[:10])
YEARS = (2026, 2027)
ANNUAL_DAYS, SICK_DAYS = 25.0, 10.0
#: Unused annual leave that may be carried from one year into the next without HR.
MAX_CARRY_OVER = 5.0
#: Sick leave longer than this many working days needs a medical certificate reference.
SICK_CERT_DAYS = 3
#: A manager rejects leave when this many other direct reports are already off on those days.
TEAM_OFF_LIMIT = 2
HOLIDAYS = frozenset({"2026-01-01", "2026-04-03", "2026-04-06", "2026-12-25", "2027-01-01",
                      "2027-03-26", "2027-03-29"})
LEAVE_TYPES = ("annual", "sick", "unpaid")
REJECT_REASONS = ("insufficient_balance", "team_coverage", "overlap", "probation", "other")
HR_TOPICS = ("parental_leave", "carry_over_exception", "complaint", "payroll", "other")

SCHEMA = """
CREATE TABLE departments (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, head_id TEXT);
CREATE TABLE employees (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE,
  department_id TEXT NOT NULL REFERENCES departments(id), manager_id TEXT REFERENCES employees(id),
  title TEXT NOT NULL, hire_date TEXT NOT NULL, probation_end TEXT NOT NULL,
  phone TEXT, emergency_contact TEXT, location TEXT NOT NULL);
CREATE TABLE leave_balances (
  employee_id TEXT NOT NULL REFERENCES employees(id), year INTEGER NOT NULL,
  leave_type TEXT NOT NULL CHECK (leave_type IN ('annual', 'sick')),
  entitled REAL NOT NULL, carried_in REAL NOT NULL DEFAULT 0, carried_out REAL NOT NULL DEFAULT 0,
  used REAL NOT NULL DEFAULT 0, PRIMARY KEY (employee_id, year, leave_type));
CREATE TABLE leave_requests (
  id TEXT PRIMARY KEY, employee_id TEXT NOT NULL REFERENCES employees(id),
  leave_type TEXT NOT NULL CHECK (leave_type IN ('annual', 'sick', 'unpaid')),
  start_date TEXT NOT NULL, end_date TEXT NOT NULL, days REAL NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'cancelled')),
  certificate_ref TEXT, note TEXT, decided_by TEXT REFERENCES employees(id), reject_reason TEXT,
  reject_comment TEXT, created_at TEXT NOT NULL, decided_at TEXT);
CREATE TABLE hr_cases (
  id TEXT PRIMARY KEY, employee_id TEXT NOT NULL REFERENCES employees(id),
  opened_by TEXT NOT NULL REFERENCES employees(id), topic TEXT NOT NULL, summary TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open', created_at TEXT NOT NULL);
CREATE INDEX requests_employee ON leave_requests(employee_id);
CREATE INDEX employees_manager ON employees(manager_id);
"""

FIRST = ("Adele Bruno Carmen Dmitri Esther Felix Gloria Henrik Ines Jamal Karin Lucas Mireille "
         "Nadia Omar Petra Rahul Selma Theo Ursula Valentin Wendy Yannick Zara Anton Beatriz "
         "Cyril Delia Enzo Freya Gustav Helga Idris Jana Kenji Leila Mateo Noor Otto Paula "
         "Reza Sven Talia Uri Viola Wim Yasmin").split()
LAST = ("Abara Bergman Castillo Dahl Eklund Fontaine Gallo Horvat Iqbal Janssen Keller Lindqvist "
        "Marsh Nilsen Ortega Pires Quist Romero Sato Thorne Urban Valdez Wagner Yilmaz Zeller "
        "Amato Brandt Celik Duarte Engel Falk Grant Hale Ibsen Jovanovic Kaur Laine Moreno "
        "Nyberg Osei Park Rinaldi Strand Tran Vogel").split()
DEPARTMENTS = ("Engineering", "Sales", "Marketing", "Finance", "Operations", "Customer Support",
               "People", "Legal")
LOCATIONS = ("Berlin", "Lisbon", "Toronto", "Austin", "Singapore")
ROLE_TITLES = {"Engineering": ("Software Engineer", "QA Engineer", "SRE"),
               "Sales": ("Account Executive", "Sales Development Rep"),
               "Marketing": ("Marketing Specialist", "Content Writer"),
               "Finance": ("Accountant", "Financial Analyst"),
               "Operations": ("Operations Analyst", "Facilities Coordinator"),
               "Customer Support": ("Support Specialist", "Support Engineer"),
               "People": ("HR Generalist", "Recruiter"),
               "Legal": ("Paralegal", "Counsel")}


def normalize_phone(value: str) -> str:
    """A phone number in E.164 form (``+`` and 8-15 digits), however it was typed.

    Raises:
        ValueError: too few or too many digits for a phone number.
    """
    digits = "".join(ch for ch in value if ch.isdigit())
    if not 8 <= len(digits) <= 15:
        raise ValueError(f"{value!r} is not a phone number with country code (8-15 digits)")
    return "+" + digits


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day.isoformat() not in HOLIDAYS


def working_days(start: dt.date, end: dt.date) -> int:
    """Working days (Mon-Fri, not a public holiday) from ``start`` to ``end`` inclusive.

    Counted by whole weeks (the dates come from the model: any range must stay cheap).
    """
    if end < start:
        return 0
    weeks, rest = divmod((end - start).days + 1, 7)
    n = weeks * 5 + sum(1 for i in range(rest) if (start.weekday() + i) % 7 < 5)
    return n - sum(1 for h in HOLIDAYS if start <= dt.date.fromisoformat(h) <= end
                   and dt.date.fromisoformat(h).weekday() < 5)


def span(start: dt.date, n: int) -> tuple[dt.date, dt.date]:
    """The first working day on or after ``start`` and the day ``n`` working days later (inclusive)."""
    while not is_working_day(start):
        start += dt.timedelta(days=1)
    end, left = start, n - 1
    while left:
        end += dt.timedelta(days=1)
        left -= is_working_day(end)
    return start, end


def _date(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    return lo + dt.timedelta(days=rng.randint(0, (hi - lo).days))


def build_world(seed: int) -> sqlite3.Connection:
    """A fresh HR database for ``seed``."""
    rng = random.Random(f"hr-world/{seed}")
    db = connect()
    db.executescript(SCHEMA)
    db.execute("BEGIN")
    people = [(f, la) for f in FIRST for la in LAST]
    rng.shuffle(people)
    names = iter(people)
    emps: list[list] = []

    def hire(dept: str, manager: str | None, title: str, senior: bool) -> str:
        f, la = next(names)
        eid = f"E{1001 + len(emps)}"
        hired = _date(rng, dt.date(2012, 1, 1), dt.date(2024, 12, 31)) if senior or rng.random() < 0.85 \
            else _date(rng, dt.date(2026, 3, 1), dt.date(2026, 11, 2))
        probation_end = (hired + dt.timedelta(days=182)).isoformat()
        emps.append([eid, f"{f} {la}", f"{f}.{la}@ourco.example".lower(), dept, manager, title,
                     hired.isoformat(), probation_end, f"+1555{rng.randint(100, 999)}{rng.randint(1000, 9999)}",
                     None, rng.choice(LOCATIONS)])
        return eid

    ceo = hire("D1", None, "Chief Executive Officer", True)
    depts, teams = [], []
    for d, dept in enumerate(DEPARTMENTS, 1):
        did = f"D{d}"
        head = hire(did, ceo, f"Head of {dept}", True)
        depts.append((did, dept, head))
        for _ in range(rng.randint(2, 4)):
            lead = hire(did, head, f"{dept} Team Lead", True)
            team = [hire(did, lead, rng.choice(ROLE_TITLES[dept]), False) for _ in range(rng.randint(5, 9))]
            teams.append((lead, team))
    db.executemany("INSERT INTO departments VALUES (?,?,?)", depts)
    db.executemany("INSERT INTO employees VALUES (?,?,?,?,?,?,?,?,?,?,?)", emps)

    requests: list[tuple] = []
    used: dict[tuple[str, int, str], float] = {}
    committed: dict[tuple[str, int, str], float] = {}  # approved + pending, kept below entitlement
    busy: dict[str, list[tuple[dt.date, dt.date]]] = {}

    def add(eid: str, kind: str, start: dt.date, n: int, status: str, created: str) -> bool:
        s, e = span(start, n)
        if s.year != e.year or any(s <= b and a <= e for a, b in busy.get(eid, [])):
            return False
        limit = {"annual": ANNUAL_DAYS, "sick": SICK_DAYS}.get(kind)
        if limit is not None and committed.get((eid, s.year, kind), 0.0) + n > limit - 1:
            return False
        committed[(eid, s.year, kind)] = committed.get((eid, s.year, kind), 0.0) + n
        busy.setdefault(eid, []).append((s, e))
        rid = f"LR-{5001 + len(requests)}"
        cert = f"MC-{rng.randint(10000, 99999)}" if kind == "sick" and n > SICK_CERT_DAYS else None
        decided = "2026-10-01T09:00:00" if status != "pending" else None
        mgr = next(x[4] for x in emps if x[0] == eid)
        requests.append((rid, eid, kind, s.isoformat(), e.isoformat(), float(n), status, cert, None,
                         mgr if decided else None, None, None, created, decided))
        if status == "approved" and kind != "unpaid":
            used[(eid, s.year, kind)] = used.get((eid, s.year, kind), 0.0) + n
        return True

    in_probation = {x[0] for x in emps if x[7] > TODAY.isoformat()}
    for emp in emps:
        eid = emp[0]
        heavy = rng.random() < 0.15
        for _ in range(rng.randint(3, 6) if heavy else rng.randint(0, 3)):  # taken earlier in 2026
            if eid not in in_probation:
                add(eid, "annual", _date(rng, dt.date(2026, 1, 5), dt.date(2026, 10, 20)),
                    rng.randint(4, 6) if heavy else rng.randint(1, 5), "approved", "2026-01-02T09:00:00")
        if rng.random() < 0.3:
            add(eid, "sick", _date(rng, dt.date(2026, 1, 5), dt.date(2026, 10, 20)), rng.randint(1, 4),
                "approved", "2026-01-02T09:00:00")
        if eid in in_probation:
            continue
        if rng.random() < 0.3:  # approved leave still to come
            add(eid, "annual", _date(rng, dt.date(2026, 11, 23), dt.date(2027, 3, 15)), rng.randint(2, 5),
                "approved", "2026-10-01T09:00:00")
        if rng.random() < 0.2:  # waiting for the manager
            add(eid, "annual", _date(rng, dt.date(2027, 1, 11), dt.date(2027, 4, 30)), rng.randint(1, 4),
                "pending", "2026-11-10T09:00:00")
    for _lead, team in rng.sample(teams, min(8, len(teams))):  # planted team-coverage conflicts
        members = [m for m in team if m not in in_probation]
        if len(members) < 3:
            continue
        a, b, c = rng.sample(members, 3)
        start = _date(rng, dt.date(2027, 5, 3), dt.date(2027, 6, 25))
        if add(a, "annual", start, 5, "approved", "2026-10-01T09:00:00") and \
                add(b, "annual", start + dt.timedelta(days=rng.randint(0, 3)), 4, "approved", "2026-10-01T09:00:00"):
            add(c, "annual", start + dt.timedelta(days=1), 3, "pending", "2026-11-12T09:00:00")
    db.executemany("INSERT INTO leave_requests VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", requests)
    balances = []
    for emp in emps:
        for year in YEARS:
            for kind, entitled in (("annual", ANNUAL_DAYS), ("sick", SICK_DAYS)):
                balances.append((emp[0], year, kind, entitled, 0.0, 0.0, used.get((emp[0], year, kind), 0.0)))
    db.executemany("INSERT INTO leave_balances VALUES (?,?,?,?,?,?,?)", balances)
    db.execute("COMMIT")
    return db
