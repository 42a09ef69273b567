"""Shared machinery for the enterprise domains (ITSM, CRM, HR): seeded SQLite worlds, task
templates, and ``EnterpriseEnv``, a ``ToolEnv`` scored on the final database state.

API (stable; extend by adding, never renaming):

* ``connect() -> sqlite3.Connection``: a private in-memory db (autocommit, ``sqlite3.Row`` rows,
  usable from any thread). ``copy_db(src) -> conn``: a private copy via the backup API.
* ``WorldCache(build, maxsize)``: ``build(seed) -> conn`` runs once per seed; ``fresh(seed)``
  returns a private copy (well under 5 ms for a few hundred rows). Same seed, same database.
* ``TaskTemplate(name, kind, build)``: ``build(rng, db, world_seed) -> Task`` picks records
  from the world and returns a ``Task`` whose ``reference`` is the reference script (see
  ``envs.tools.base``) and whose ``metadata`` may hold ``user_facts``, ``scenario``,
  ``required_facts``, ``user_id``, ``violation`` (a policy-violating script for fixtures),
  ``required_reads`` (tools that must have been called successfully: the lookups behind a
  required fact, so that listing every possible value without looking is not rewarded).
  ``kind`` is free text; use ``multi-step``, ``refuse``, ``escalate``, ``ask-user``, ``lookup``.
* ``TemplateTasks(templates, worlds, n_worlds, name)``: task ``i`` is template
  ``i % len(templates)`` on world ``(i // len(templates)) % n_worlds`` (so indices
  ``0..len(templates)-1`` cover every template once); infinite.
* ``EnterpriseEnv(ToolEnv)``: set ``policy_text`` (the system prompt), ``tools``,
  ``build_world`` (a staticmethod ``seed -> conn``) and ``templates``; optionally override
  ``policy_violations(episode, db) -> list[str]`` and ``ignore_columns``. State injected into
  tools: ``db``, ``user_id`` (``task.metadata["user_id"]``), ``now`` (``task.metadata["now"]``
  or ``EnterpriseEnv.now``). Reward = product of ``state`` (final db == db after running the
  reference on a fresh copy), ``facts`` (``required_facts`` in the agent's text) and
  ``policy`` (no violations), x ``reads`` where the task has ``required_reads``;
  ``efficiency`` (calls used vs needed) is a weight-0 metric.
"""

from __future__ import annotations

import random
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from nemogym.envs.tools.base import ToolEnv, reference_calls, step_message
from nemogym.envs.tools.schema import make_tool
from nemogym.verifiers import tools as tv

from nemogym.env import Episode, Fixture
from nemogym.tasks import Task, TaskSource
from nemogym.verdict import Verdict


def connect() -> sqlite3.Connection:
    """A new private in-memory database: autocommit, rows as ``sqlite3.Row``, any thread."""
    db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA foreign_keys = ON")
    return db


def copy_db(src: sqlite3.Connection) -> sqlite3.Connection:
    """A private in-memory copy of ``src`` (sqlite3 backup API)."""
    dst = connect()
    src.backup(dst)
    return dst


def rows(db: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """``sql``'s result rows as plain dicts (JSON-ready tool results)."""
    return [dict(r) for r in db.execute(sql, params).fetchall()]


def row(db: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
    """The first result row as a dict, or None."""
    r = db.execute(sql, params).fetchone()
    return dict(r) if r is not None else None


def _transfer_to_human(reason: str) -> str:
    """Hand the conversation to a human agent when the policy requires it. Ends the conversation.

    Args:
        reason: a one-line summary of the request for the human agent.
    """
    return "Transferred. A human agent will take over this conversation."


#: A terminal tool every domain may list: the episode ends with ``finished_by="transfer_to_human"``.
transfer_to_human = make_tool(_transfer_to_human, name="transfer_to_human", terminal=True)


CHANGE_LOG = "_nemogym_changes"


def install_change_log(db: sqlite3.Connection) -> None:
    """Log the key of every row inserted, updated or deleted in ``db`` (tables with a primary
    key) into ``CHANGE_LOG``, so a final-state check reads only the rows that changed."""
    db.execute(f"CREATE TABLE IF NOT EXISTS {CHANGE_LOG} (tbl TEXT NOT NULL, k TEXT NOT NULL)")
    for t in _user_tables(db):
        pk = tv.primary_key(db, t)
        if not pk:
            continue
        new = "json_array(" + ", ".join(f'NEW."{c}"' for c in pk) + ")"
        old = "json_array(" + ", ".join(f'OLD."{c}"' for c in pk) + ")"
        log = f"INSERT INTO {CHANGE_LOG} VALUES ('{t}', "
        db.executescript(
            f'CREATE TRIGGER "_ng_{t}_i" AFTER INSERT ON "{t}" BEGIN {log}{new}); END;'
            f'CREATE TRIGGER "_ng_{t}_u" AFTER UPDATE ON "{t}" BEGIN {log}{old}); {log}{new}); END;'
            f'CREATE TRIGGER "_ng_{t}_d" AFTER DELETE ON "{t}" BEGIN {log}{old}); END;')


def changed_keys(db: sqlite3.Connection) -> dict[str, set[str]] | None:
    """{table: keys changed since ``install_change_log``} (every tracked table listed, possibly
    with no keys), or None if ``db`` has no change log."""
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') "
                                      "AND (name = ? OR name LIKE '\\_ng\\_%\\_i' ESCAPE '\\')", (CHANGE_LOG,))]
    if CHANGE_LOG not in names:
        return None
    out: dict[str, set[str]] = {n[4:-2]: set() for n in names if n != CHANGE_LOG}
    for tbl, k in db.execute(f"SELECT tbl, k FROM {CHANGE_LOG}"):
        out.setdefault(tbl, set()).add(k)
    return out


def _user_tables(db: sqlite3.Connection) -> list[str]:
    return [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                                     "'sqlite_%' AND name != ? ORDER BY name", (CHANGE_LOG,))]


_EXPECTED_LOCK = threading.Lock()


class WorldCache:
    """Seeded databases built once per seed and copied per episode; thread-safe."""

    def __init__(self, build: Callable[[int], sqlite3.Connection], maxsize: int = 32,
                 track_changes: bool = True):
        self.build = build
        self.maxsize = maxsize
        self.track_changes = track_changes
        self._cache: OrderedDict[int, sqlite3.Connection] = OrderedDict()
        self._lock = threading.Lock()

    def template(self, seed: int) -> sqlite3.Connection:
        """The shared db for ``seed`` (treat it as read-only: copy it with ``fresh``)."""
        with self._lock:
            db = self._cache.get(seed)
            if db is None:
                db = self.build(seed)
                if self.track_changes:
                    install_change_log(db)
                self._cache[seed] = db
                while len(self._cache) > self.maxsize:
                    self._cache.popitem(last=False)  # dropped, not closed: a reader may hold it
            else:
                self._cache.move_to_end(seed)
            return db

    def fresh(self, seed: int) -> sqlite3.Connection:
        """A private copy of the world for ``seed``: an episode's own database."""
        src = self.template(seed)
        with self._lock:
            return copy_db(src)


@dataclass(frozen=True)
class TaskTemplate:
    """A task family: ``build(rng, db, world_seed) -> Task`` over one world's records."""

    name: str
    kind: str
    build: Callable[[random.Random, sqlite3.Connection, int], Task]


def persona_template(name: str, kind: str, build: Callable[[random.Random, sqlite3.Connection, int], Task],
                     who: Callable[[sqlite3.Connection, Any], str]) -> TaskTemplate:
    """A ``TaskTemplate`` whose tasks tell an LLM user who they are (``metadata["scenario"]``).

    ``who(db, user_id)`` describes the task's user, e.g. "Ana Diaz, a sales rep".
    """
    def with_persona(rng: random.Random, db: sqlite3.Connection, world: int) -> Task:
        task = build(rng, db, world)
        task.metadata["scenario"] = f"You are {who(db, task.metadata['user_id'])}. Your request: {task.prompt}"
        return task

    with_persona.__name__ = build.__name__
    return TaskTemplate(name, kind, with_persona)


class TemplateTasks(TaskSource):
    """Infinite tasks cycling over templates and worlds (see module docstring)."""

    size = None

    def __init__(self, templates: Sequence[TaskTemplate], worlds: WorldCache, *, n_worlds: int = 8,
                 name: str = "enterprise"):
        if not templates:
            raise ValueError("TemplateTasks needs at least one template")
        self.templates = list(templates)
        self.worlds = worlds
        self.n_worlds = n_worlds
        self.name = name
        self._cache: OrderedDict[int, Task] = OrderedDict()
        self._lock = threading.Lock()

    def template_for(self, index: int) -> TaskTemplate:
        return self.templates[index % len(self.templates)]

    def get(self, index: int) -> Task:
        """Task ``index`` (built once, then cached: the same object every time; do not mutate it)."""
        if index < 0:
            raise IndexError(f"task index must be >= 0, got {index}")
        with self._lock:
            task = self._cache.get(index)
        if task is None:
            task = self._build(index)
            with self._lock:
                self._cache[index] = task
                while len(self._cache) > 4096:
                    self._cache.popitem(last=False)
        return task

    def _build(self, index: int) -> Task:
        tpl = self.template_for(index)
        world = (index // len(self.templates)) % self.n_worlds
        rng = random.Random(f"{self.name}/{index}")
        task = tpl.build(rng, self.worlds.template(world), world)
        task.id = task.id or f"{self.name}-{tpl.name}-{index}"
        task.subset = task.subset or tpl.kind
        task.metadata.setdefault("template", tpl.name)
        task.metadata.setdefault("kind", tpl.kind)
        task.metadata["world_seed"] = world
        return task


class EnterpriseEnv(ToolEnv):
    """A domain over a seeded SQLite world, a written policy and a simulated user."""

    policy_text: ClassVar[str] = ""
    templates: ClassVar[Sequence[TaskTemplate]] = ()
    #: The fixed "current time" tools see (ISO 8601), unless the task sets ``metadata["now"]``.
    now: ClassVar[str] = "2026-03-02T10:00:00"
    #: Columns left out of the final-state comparison, per table (``"*"``: every table).
    ignore_columns: ClassVar[dict[str, Sequence[str]]] = {}
    #: Tables compared for the final state (None: every table).
    compared_tables: ClassVar[Sequence[str] | None] = None
    #: Compare only the rows either db changed (triggers log them; see ``install_change_log``).
    fast_state_check: ClassVar[bool] = True
    default_max_turns = 40
    n_worlds: ClassVar[int] = 8
    _worlds: ClassVar[WorldCache | None] = None
    _expected: ClassVar[OrderedDict[str, sqlite3.Connection] | None] = None
    #: How many expected final databases (one per task) are kept, per env class.
    expected_cache_size: ClassVar[int] = 128

    @staticmethod
    def build_world(seed: int) -> sqlite3.Connection:
        """The seeded generator: a new populated db (use ``connect()``); same seed, same db."""
        raise NotImplementedError

    def __init__(self, *, user: Any = "scripted", n_worlds: int | None = None,
                 max_turns: int | None = None, **kwargs: Any):
        worlds = self.world_cache()
        tasks = TemplateTasks(self.templates, worlds, n_worlds=n_worlds or self.n_worlds,
                              name=type(self).__name__.lower())
        super().__init__(tasks, user=user, system_prompt=kwargs.pop("system_prompt", self.policy_text),
                         max_turns=max_turns, **kwargs)

    @classmethod
    def world_cache(cls) -> WorldCache:
        """One ``WorldCache`` per env class, shared by its instances."""
        if cls.__dict__.get("_worlds") is None:
            cls._worlds = WorldCache(cls.build_world)
        return cls._worlds  # type: ignore[return-value]

    # -- state -----------------------------------------------------------------------------
    def state_for(self, task: Task, db: sqlite3.Connection) -> dict[str, Any]:
        """What tools get injected for ``task`` with database ``db``."""
        return {"db": db, "user_id": task.metadata.get("user_id"),
                "now": task.metadata.get("now", self.now)}

    def make_state(self, episode: Episode) -> dict[str, Any]:
        return self.state_for(episode.task, self.world_cache().fresh(episode.task.metadata["world_seed"]))

    def expected_db(self, task: Task) -> sqlite3.Connection:
        """The database after running ``task``'s reference calls on a fresh world.

        Cached per env class (shared by its instances, at most ``expected_cache_size``); treat
        it as read-only. An evicted db is not closed, only dropped, so a reader still holding
        it is never cut off.
        """
        cls = type(self)
        if cls.__dict__.get("_expected") is None:
            cls._expected = OrderedDict()
        key = f"{task.id}/{task.metadata['world_seed']}"
        with _EXPECTED_LOCK:
            db = cls._expected.get(key)
            if db is not None:
                cls._expected.move_to_end(key)
                return db
        db = self.world_cache().fresh(task.metadata["world_seed"])
        self.run_reference(task, self.state_for(task, db))
        with _EXPECTED_LOCK:
            cls._expected[key] = db
            while len(cls._expected) > self.expected_cache_size:
                cls._expected.popitem(last=False)
        return db

    # -- scoring ---------------------------------------------------------------------------
    def policy_violations(self, episode: Episode, db: sqlite3.Connection) -> list[str]:
        """Policy rules broken in this episode (by the calls made or the final state)."""
        return []

    def score(self, episode: Episode) -> Verdict:
        db = episode.data["state"]["db"]
        task = episode.task
        expected = self.expected_db(task)
        only = None
        if self.fast_state_check:
            mine, theirs = changed_keys(db), changed_keys(expected)
            if mine is not None and theirs is not None:
                only = {t: mine.get(t, set()) | theirs.get(t, set()) for t in mine.keys() & theirs.keys()}
        tables = self.compared_tables if self.compared_tables is not None else _user_tables(expected)
        parts = {
            "state": tv.compare_db(db, expected, tables=tables, ignore_columns=self.ignore_columns,
                                   only_keys=only),
            "facts": tv.required_facts(self.agent_text(episode), task.metadata.get("required_facts") or []),
            "policy": tv.policy(self.policy_violations(episode, db)),
        }
        reads = task.metadata.get("required_reads")
        if reads:
            done = {c.name for c in self.ok_calls(episode)}
            missing = [r for r in reads if r not in done]
            parts["reads"] = (Verdict(reward=1.0) if not missing else
                              Verdict.wrong(f"answered without looking it up (no successful {', '.join(missing)})"))
        expected_end = task.metadata.get("expected_end")
        if expected_end:
            got = episode.data.get("finished_by")
            parts["end"] = (Verdict(reward=1.0) if got == expected_end else
                            Verdict.wrong(f"episode should end with {expected_end}, ended by {got}"))
        needed = len(reference_calls(self.reference_steps(task)))
        return tv.combine(parts, metrics={"efficiency": tv.efficiency(len(self.calls(episode)), needed)})

    def fixtures(self) -> list[Fixture]:
        """Per template (first occurrence): the reference (1.0), doing nothing (0.0), the
        task's policy-violating script if it has one (0.0), and one malformed action."""
        out: list[Fixture] = []
        for i, tpl in enumerate(self.templates):
            task = self.tasks.get(i)
            out.append(Fixture(f"{tpl.name}: reference", self.reference_for(task), 1.0, i, "full"))
            out.append(Fixture(f"{tpl.name}: do nothing", ["I have noted your request. Goodbye."], 0.0, i, "zero"))
            bad = task.metadata.get("violation")
            if bad:
                out.append(Fixture(f"{tpl.name}: policy violation",
                                   [step_message(s, t) for t, s in enumerate(bad)], 0.0, i, "violation"))
        out.append(Fixture("malformed action", [{"role": "user", "content": 42}], 0.0, 0, "malformed"))
        return out
