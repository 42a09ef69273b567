"""Tool-use verifier pieces, each returning a ``Verdict``, composed into one with ``combine``.

* ``match_calls(actual, expected, ordered=, comparators=)``: tool calls by name and arguments.
* ``compare_db(actual, expected)``: two SQLite databases, reporting the rows that differ.
* ``required_facts(text, facts)``: facts the final reply must state.
* ``policy(violations)``: a penalty per policy violation.
* ``efficiency(used, needed)``: calls used vs needed (usually a weight-0 metric).
* ``combine(parts, mode=, weights=, metrics=)``: one Verdict whose ``components`` name each part.

Calls are ``{"name": str, "arguments": dict}``. An expected argument value may be
``{"$any": [v1, v2, ...]}`` (any one matches; the option ``MISSING_OK`` lets the argument be
left out). This module never imports ``nemogym.envs``.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from nemogym.verdict import Verdict

Call = Mapping[str, Any]
Comparator = Callable[[Any, Any], bool]
MAX_REPORTED = 20


# -- per-argument comparators ----------------------------------------------------------------
def equal(actual: Any, expected: Any) -> bool:
    """JSON equality where numbers compare by value (1 == 1.0) and bools are not numbers."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected or (type(actual) is type(expected) and actual == expected)
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return math.isclose(float(actual), float(expected), rel_tol=0, abs_tol=1e-9)
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(equal(actual[k], expected[k]) for k in expected)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(actual) == len(expected) and all(equal(a, e) for a, e in zip(actual, expected, strict=True))
    return actual == expected


def casefold(actual: Any, expected: Any) -> bool:
    """Strings equal ignoring case and surrounding/repeated whitespace (else ``equal``)."""
    if isinstance(actual, str) and isinstance(expected, str):
        return _norm(actual) == _norm(expected)
    return equal(actual, expected)


def numeric(tol: float = 1e-6, rel: float = 0.0) -> Comparator:
    """Numbers (or numeric strings) within ``tol`` absolute or ``rel`` relative tolerance."""
    def cmp(actual: Any, expected: Any) -> bool:
        try:
            a, e = float(actual), float(expected)
        except (TypeError, ValueError):
            return False
        return math.isclose(a, e, rel_tol=rel, abs_tol=tol)
    return cmp


def contains(actual: Any, expected: Any) -> bool:
    """The expected string occurs in the actual one (case-insensitive)."""
    return isinstance(actual, str) and _norm(str(expected)) in _norm(actual)


def unordered(actual: Any, expected: Any) -> bool:
    """Lists equal as multisets."""
    if not isinstance(actual, list) or not isinstance(expected, list) or len(actual) != len(expected):
        return False
    rest = list(actual)
    for e in expected:
        hit = next((i for i, a in enumerate(rest) if equal(a, e)), None)
        if hit is None:
            return False
        rest.pop(hit)
    return True


def ignore(actual: Any, expected: Any) -> bool:
    """Any value (even a missing one) matches."""
    return True


_MISSING = object()


def _norm(s: str) -> str:
    return " ".join(s.casefold().split())


#: An option of ``{"$any": [...]}`` meaning "the argument may be left out".
MISSING_OK: dict[str, bool] = {"$missing": True}


def _arg_ok(actual: Any, expected: Any, cmp: Comparator) -> bool:
    if isinstance(expected, dict) and set(expected) == {"$any"}:
        return any(_arg_ok(actual, option, cmp) for option in expected["$any"])
    if expected == MISSING_OK:
        return actual is _MISSING
    if actual is _MISSING:
        return cmp is ignore
    return cmp(actual, expected)


def canonical(value: Any) -> Any:
    """An expected value with every ``{"$any": [...]}`` replaced by its first option that is
    not ``MISSING_OK`` (an argument whose only option is ``MISSING_OK`` is left out)."""
    if isinstance(value, dict):
        if set(value) == {"$any"}:
            options = [o for o in value["$any"] if o != MISSING_OK]
            return canonical(options[0]) if options else _MISSING
        out = {k: canonical(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not _MISSING}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def call_mismatch(actual: Call, expected: Call, comparators: Mapping[str, Comparator] | None = None,
                  ignore_extra_args: bool = False) -> str | None:
    """Why ``actual`` does not match ``expected`` (None if it does).

    ``comparators`` maps ``"arg"`` or ``"tool.arg"`` to a comparator (default ``equal``).
    """
    comparators = comparators or {}
    if actual.get("name") != expected.get("name"):
        return f"name {actual.get('name')!r} != {expected.get('name')!r}"
    a_args, e_args = dict(actual.get("arguments") or {}), dict(expected.get("arguments") or {})
    for k, ev in e_args.items():
        cmp = comparators.get(f"{expected['name']}.{k}") or comparators.get(k) or equal
        if not _arg_ok(a_args.get(k, _MISSING), ev, cmp):
            got = "missing" if k not in a_args else repr(a_args[k])[:80]
            return f"argument {k!r}: got {got}, expected {ev!r}"[:200]
    extra = sorted(set(a_args) - set(e_args))
    if extra and not ignore_extra_args:
        return f"unexpected arguments {extra}"
    return None


def match_calls(actual: Sequence[Call], expected: Sequence[Call], *, ordered: bool = False,
                comparators: Mapping[str, Comparator] | None = None, allow_extra: bool = False,
                ignore_extra_args: bool = False) -> Verdict:
    """Reward 1.0 iff every expected call is matched (in order if ``ordered``) and, unless
    ``allow_extra``, no other call was made. Components: ``recall`` and ``precision``.
    """
    def ok(a: Call, e: Call) -> bool:
        return call_mismatch(a, e, comparators, ignore_extra_args) is None

    used: set[int] = set()
    missing: list[dict[str, Any]] = []
    pos = 0
    pairs = {} if ordered else _pair_unordered(actual, expected, ok)
    for j, e in enumerate(expected):
        if ordered:  # the earliest fitting call each time is optimal for a subsequence
            hit = next((i for i in range(pos, len(actual)) if ok(actual[i], e)), None)
            if hit is not None:
                pos = hit + 1
        else:
            hit = pairs.get(j)
        if hit is None:
            near = next((a for a in actual if a.get("name") == e.get("name")), None)
            missing.append({"expected": dict(e), "closest": dict(near) if near else None,
                            "why": call_mismatch(near, e, comparators, ignore_extra_args) if near else "no call to this tool"})
        else:
            used.add(hit)
    extra = [dict(a) for i, a in enumerate(actual) if i not in used]
    matched = len(expected) - len(missing)
    recall = matched / len(expected) if expected else 1.0
    precision = matched / len(actual) if actual else (1.0 if not expected else 0.0)
    good = not missing and (allow_extra or not extra)
    details: dict[str, Any] = {"matched": matched, "expected": len(expected), "made": len(actual),
                               "missing": missing[:MAX_REPORTED], "unexpected": extra[:MAX_REPORTED]}
    if not good:
        details["reason"] = (f"{len(missing)} expected call(s) not made" if missing
                             else f"{len(extra)} unexpected call(s)")
    return Verdict(reward=1.0 if good else 0.0, components={"recall": recall, "precision": precision},
                   details=details)


def _pair_unordered(actual: Sequence[Call], expected: Sequence[Call],
                    ok: Callable[[Call, Call], bool]) -> dict[int, int]:
    """{expected index: actual index}, as many pairs as possible (augmenting paths), so that
    overlapping options never make the result depend on the order of the calls."""
    fits = [[i for i, a in enumerate(actual) if ok(a, e)] for e in expected]
    owner: dict[int, int] = {}  # actual index -> expected index

    def place(j: int, seen: set[int]) -> bool:
        for i in fits[j]:
            if i not in seen:
                seen.add(i)
                if i not in owner or place(owner[i], seen):
                    owner[i] = j
                    return True
        return False

    for j in range(len(expected)):
        place(j, set())
    return {j: i for i, j in owner.items()}


# -- database state ------------------------------------------------------------------------
def _tables(db: sqlite3.Connection) -> list[str]:
    rows = db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
                      "ORDER BY name").fetchall()
    return [r[0] for r in rows]


def primary_key(db: sqlite3.Connection, table: str) -> list[str]:
    """The primary-key columns of ``table`` in key order (empty: none, rows are keyed by rowid)."""
    info = db.execute(f'PRAGMA table_info("{table}")').fetchall()
    return [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5] > 0]


def _select(db: sqlite3.Connection, table: str, drop: set[str],
            keys: str | None = None) -> tuple[list[str], int, list[tuple]]:
    """(columns, key width, rows as plain tuples ``key + columns``, ordered by key).

    ``keys``: a JSON list of ``json_array(pk...)`` texts; only those rows are read.
    """
    info = db.execute(f'PRAGMA table_info("{table}")').fetchall()
    cols = [r[1] for r in info if r[1] not in drop]
    pk = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5] > 0]
    key_sql = ", ".join(f'"{c}"' for c in pk) if pk else "rowid"
    col_sql = ", ".join(f'"{c}"' for c in cols)
    where, params = "", ()
    if keys is not None and pk:
        where, params = f" WHERE json_array({key_sql}) IN (SELECT value FROM json_each(?))", (keys,)
    cur = db.cursor()
    cur.row_factory = None  # plain tuples, whatever the connection's row factory
    data = cur.execute(f'SELECT {key_sql}, {col_sql} FROM "{table}"{where} ORDER BY {key_sql}', params).fetchall()
    return cols, (len(pk) if pk else 1), data


def compare_db(actual: sqlite3.Connection, expected: sqlite3.Connection, *,
               tables: Iterable[str] | None = None,
               ignore_columns: Mapping[str, Iterable[str]] | None = None,
               only_keys: Mapping[str, Iterable[str]] | None = None) -> Verdict:
    """Reward 1.0 iff every table's rows (by primary key, else rowid) are equal in both dbs.

    ``details["diff"]`` lists up to 20 differing rows: ``{"table", "key", "change":
    "missing"|"extra"|"changed", "columns": {col: [actual, expected]}}``; ``n_diff`` counts all.
    ``ignore_columns`` maps a table (or ``"*"``) to columns left out of the comparison.
    ``only_keys`` (a fast path when both dbs are copies of one original): for the tables it
    names, only rows whose ``json_array(pk...)`` text is listed are compared (the rows either
    side changed); other tables are compared in full.
    """
    ignore_columns = ignore_columns or {}
    names = list(tables) if tables is not None else sorted(set(_tables(expected)) | set(_tables(actual)))
    diff: list[dict[str, Any]] = []
    n_diff = 0
    for t in names:
        drop = set(ignore_columns.get(t, ())) | set(ignore_columns.get("*", ()))
        try:
            keys = json.dumps(sorted(only_keys[t])) if only_keys is not None and t in only_keys else None
            cols, nkey, a_data = _select(actual, t, drop, keys)
            cols_e, _, e_data = _select(expected, t, drop, keys)
        except sqlite3.Error as e:
            n_diff += 1
            diff.append({"table": t, "change": "schema", "error": str(e)})
            continue
        if cols != cols_e:
            n_diff += 1
            diff.append({"table": t, "change": "schema", "columns": {"actual": cols, "expected": cols_e}})
            continue
        if a_data == e_data:  # the common case, compared in C
            continue
        a_rows = {r[:nkey]: r[nkey:] for r in a_data}
        e_rows = {r[:nkey]: r[nkey:] for r in e_data}
        for key in sorted(a_rows.keys() | e_rows.keys(), key=repr):
            a, e = a_rows.get(key), e_rows.get(key)
            if a == e:
                continue
            n_diff += 1
            if len(diff) >= MAX_REPORTED:
                continue
            if a is None or e is None:
                row = dict(zip(cols, e if a is None else a, strict=True))
                diff.append({"table": t, "key": list(key), "change": "missing" if a is None else "extra",
                             "row": row})
            else:
                changed = {c: [x, y] for c, x, y in zip(cols, a, e, strict=True) if x != y}
                diff.append({"table": t, "key": list(key), "change": "changed", "columns": changed})
    details: dict[str, Any] = {"n_diff": n_diff, "diff": diff}
    if n_diff:
        details["reason"] = f"final database differs from the expected one in {n_diff} row(s)"
    return Verdict(reward=0.0 if n_diff else 1.0, details=details)


# -- reply, policy, efficiency ---------------------------------------------------------------
_MARKDOWN = re.compile(r"[*_`]")


def _fact_present(text: str, fact: Any) -> bool:
    if isinstance(fact, list | tuple):
        return any(_fact_present(text, f) for f in fact)
    return _norm(_MARKDOWN.sub("", str(fact))) in text  # read the fact as the text is read


def required_facts(text: str, facts: Sequence[Any]) -> Verdict:
    """Reward 1.0 iff each fact (a string, or a list of alternatives) occurs in ``text``
    (case- and whitespace-insensitive). Component ``fraction``: the share present."""
    norm = _norm(_MARKDOWN.sub("", text or ""))
    missing = [f for f in facts if not _fact_present(norm, f)]
    frac = 1 - len(missing) / len(facts) if facts else 1.0
    details: dict[str, Any] = {"missing": missing}
    if missing:
        details["reason"] = f"reply lacks {len(missing)} required fact(s): {missing[:5]}"
    return Verdict(reward=1.0 if not missing else 0.0, components={"fraction": frac}, details=details)


def policy(violations: Sequence[str], *, penalty: float = 1.0) -> Verdict:
    """Reward ``max(0, 1 - penalty * len(violations))``: with the default, any violation is 0."""
    reward = max(0.0, 1.0 - penalty * len(violations))
    details: dict[str, Any] = {"violations": list(violations)}
    if violations:
        details["reason"] = f"policy violated: {'; '.join(violations[:5])}"
    return Verdict(reward=reward, details=details)


def efficiency(used: int, needed: int) -> Verdict:
    """``min(1, needed / used)``: 1.0 when no more calls were used than the reference needed."""
    if used <= 0:
        reward = 1.0 if needed <= 0 else 0.0
    else:
        reward = min(1.0, max(needed, 0) / used)
    return Verdict(reward=reward, details={"used": used, "needed": needed})


def combine(parts: Mapping[str, Verdict], *, mode: Literal["product", "weighted", "min"] = "product",
            weights: Mapping[str, float] | None = None,
            metrics: Mapping[str, Verdict] | None = None) -> Verdict:
    """One Verdict from named parts.

    ``product`` (all must hold; the tau-bench style), ``min``, or ``weighted`` (weighted mean
    with ``weights``, default 1 each). ``metrics`` are reported in ``components`` but do not
    enter the reward. Components: each part's reward under its name and its own components as
    ``name.component``. A masked part masks the whole verdict.
    """
    components: dict[str, float] = {}
    details: dict[str, Any] = {}
    reason = None
    for name, v in {**parts, **(metrics or {})}.items():
        components[name] = float(v.reward)
        components.update({f"{name}.{k}": float(x) for k, x in v.components.items()})
        details[name] = v.details
        if name in parts and reason is None and v.reward < 1.0 and v.reason:
            reason = f"{name}: {v.reason}"
    rewards = {k: float(v.reward) for k, v in parts.items()}
    if not rewards:
        reward = 1.0
    elif mode == "product":
        reward = math.prod(rewards.values())
    elif mode == "min":
        reward = min(rewards.values())
    else:
        w = {k: float((weights or {}).get(k, 1.0)) for k in rewards}
        total = sum(w.values())
        reward = sum(w[k] * rewards[k] for k in rewards) / total if total else 0.0
    if reason:
        details["reason"] = reason
    masked = [v for v in parts.values() if v.masked]
    if masked:
        return Verdict(reward=0.0, masked=True, failure=masked[0].failure, components=components,
                       details=details)
    return Verdict(reward=reward, components=components, details=details)
