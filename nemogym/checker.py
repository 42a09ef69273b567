"""The environment checker behind ``nemogym check ENV``.

Checks, each reported as passed/failed with a detail line:
1. Gymnasium's own ``check_env`` (spaces, reset/step signatures, seeding).
2. Determinism: the same seed gives the same observation, in two separate env instances.
3. Reference solutions: each checked task's reference (played turn by turn) gets full reward.
4. Empty and garbage answers get reward 0 without raising and without being masked.
5. The env's own fixtures (full, zero, malformed, ...) score as labelled.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from nemogym._async import run_sync
from nemogym.registry import env_info, make


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class CheckReport:
    env_id: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def add(self, name: str, ok: bool, detail: str = "") -> None:
        self.results.append(CheckResult(name, bool(ok), detail))


def _play(env: Any, actions_for_turn: Any, task_index: int, seed: int | None, max_turns: int = 64):
    """Reset to ``task_index`` and play actions until the episode ends; returns (reward, verdict)."""
    async def go():
        await env.areset(seed=seed, options={"task_index": task_index})
        for turn in range(max_turns):
            action = actions_for_turn(turn)
            if action is None:
                return None, None
            _o, reward, term, trunc, info = await env.astep(action)
            if term or trunc:
                return reward, info.get("verdict")
        return None, None
    return run_sync(go())


def _close(a: float | None, b: float) -> bool:
    return a is not None and abs(a - b) <= 1e-6


def check(env_id: str, *, tasks: int = 5, seeds: tuple[int, ...] = (0, 1, 2),
          env_kwargs: dict[str, Any] | None = None) -> CheckReport:
    """Run every check on ``env_id`` and return the report (never raises for env bugs)."""
    info = env_info(env_id)
    kwargs = env_kwargs or {}
    report = CheckReport(info.id)
    try:
        env = make(info.id, **kwargs)
    except Exception as e:  # noqa: BLE001
        report.add("make", False, f"{type(e).__name__}: {e}")
        return report
    top = info.reward_range[1]

    from gymnasium.utils.env_checker import check_env

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            check_env(env, skip_render_check=True)
        notes = sorted({str(w.message).split("\n")[0][:100] for w in caught})
        report.add("gymnasium check_env", True, f"{len(notes)} warning(s)" + (f": {notes[0]}" if notes else ""))
    except Exception as e:  # noqa: BLE001
        report.add("gymnasium check_env", False, f"{type(e).__name__}: {e}")

    other = None
    try:
        other = make(info.id, **kwargs)
        same = all(env.reset(seed=s)[0] == other.reset(seed=s)[0] for s in seeds)
        report.add("determinism under seed", same or not info.deterministic,
                   "same seed, same observation" if same else "observations differ for one seed"
                   + ("" if info.deterministic else " (env declares itself non-deterministic)"))
    except Exception as e:  # noqa: BLE001
        report.add("determinism under seed", False, f"{type(e).__name__}: {e}")
    finally:
        _quiet_close(other)

    size = getattr(getattr(env, "tasks", None), "size", None)
    n = tasks if size is None else min(tasks, size)
    bad_refs, checked = [], 0
    for i in range(n):
        try:
            env.reset(seed=seeds[0], options={"task_index": i})
            if env.reference_action() is None:
                continue
            checked += 1
            reward, verdict = _play(env, lambda _t: env.reference_action(), i, seeds[0])
            if not _close(reward, top):
                bad_refs.append(f"task {i}: reward {reward} ({getattr(verdict, 'reason', None)})")
        except Exception as e:  # noqa: BLE001
            bad_refs.append(f"task {i}: {type(e).__name__}: {e}")
    if checked or bad_refs:
        report.add(f"reference solutions get {top}", not bad_refs,
                   f"{checked} task(s) checked" + (f"; {bad_refs[:3]}" if bad_refs else ""))
    else:
        report.add("reference solutions", True, "env has no reference solutions (nothing to check)")

    for name, action in (("empty answer", ""), ("garbage answer", "zq#@! lorem %% ipsum")):
        try:
            reward, verdict = _play(env, lambda t, a=action: a if t == 0 else "", 0, seeds[0])
            masked = getattr(verdict, "masked", False)
            report.add(f"{name} gets 0", reward == 0 and not masked,
                       f"reward {reward}, masked={masked}")
        except Exception as e:  # noqa: BLE001
            report.add(f"{name} gets 0", False, f"raised {type(e).__name__}: {e}")

    try:
        fixtures = env.fixtures() if hasattr(env, "fixtures") else []
    except Exception as e:  # noqa: BLE001
        report.add("fixtures", False, f"fixtures() raised {type(e).__name__}: {e}")
        fixtures = []
    kinds = {f.kind for f in fixtures}
    for f in fixtures:
        actions = f.action if isinstance(f.action, list) else [f.action]
        try:
            reward, verdict = _play(env, lambda t, a=actions: a[t] if t < len(a) else "", f.task_index, seeds[0])
            report.add(f"fixture {f.kind}: {f.name}", _close(reward, f.reward),
                       f"expected {f.reward}, got {reward}"
                       + (f" ({verdict.reason})" if verdict is not None and verdict.reason else ""))
        except Exception as e:  # noqa: BLE001
            report.add(f"fixture {f.kind}: {f.name}", False, f"raised {type(e).__name__}: {e}")
    missing = {"full", "zero", "malformed"} - kinds
    report.add("fixtures cover full, zero, malformed", not missing,
               "all present" if not missing else f"missing: {sorted(missing)}")
    _quiet_close(env)
    return report


def _quiet_close(env: Any) -> None:
    if env is None:
        return
    try:
        env.close()
    except Exception:  # noqa: BLE001, S110 - closing is best effort
        pass
