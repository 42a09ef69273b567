"""The environment registry: ``register``, ``make``, ``list_envs``, and plugin discovery.

Every env registered here is also registered with Gymnasium under the ``nemogym/`` namespace,
so ``gymnasium.make("nemogym/Name-v0")`` works after ``import nemogym``. Other installed
packages contribute envs through the ``nemogym.envs`` entry-point group: each entry point is a
callable (called with no arguments) or a module whose import registers its envs.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import logging
from collections.abc import Callable
from typing import Any

import gymnasium
from pydantic import BaseModel, Field

log = logging.getLogger(__name__)

NAMESPACE = "nemogym"
ENTRY_POINT_GROUP = "nemogym.envs"


class EnvInfo(BaseModel):
    """A registered environment and its metadata (shown by ``nemogym list`` / ``info``)."""

    id: str
    entry_point: str
    description: str = ""
    domain: str = "general"
    multi_turn: bool = False
    uses_tools: bool = False
    reward_range: tuple[float, float] = (0.0, 1.0)
    deterministic: bool = True
    data_source: str = "procedural"
    license: str = "Apache-2.0"
    kwargs: dict[str, Any] = Field(default_factory=dict)
    plugin: str | None = None


_REGISTRY: dict[str, EnvInfo] = {}
_plugins_loaded = False


def canonical_id(env_id: str) -> str:
    """``Arithmetic-v0`` and ``nemogym/Arithmetic-v0`` both name ``nemogym/Arithmetic-v0``."""
    return env_id if "/" in env_id else f"{NAMESPACE}/{env_id}"


def register(
    env_id: str,
    entry_point: str | Callable[..., Any],
    *,
    kwargs: dict[str, Any] | None = None,
    override: bool = False,
    **metadata: Any,
) -> EnvInfo:
    """Register an env under ``env_id`` (namespace added if missing) here and with Gymnasium.

    ``entry_point`` is ``"module:Class"`` (imported lazily, on first ``make``) or a callable.
    ``metadata`` fills ``EnvInfo`` (domain, description, multi_turn, uses_tools, ...).
    """
    cid = canonical_id(env_id)
    if cid in _REGISTRY and not override:
        raise ValueError(f"environment {cid} is already registered")
    ep_str = entry_point if isinstance(entry_point, str) else f"{entry_point.__module__}:{entry_point.__qualname__}"
    info = EnvInfo(id=cid, entry_point=ep_str, kwargs=dict(kwargs or {}), **metadata)
    _REGISTRY[cid] = info
    _callables[cid] = entry_point if callable(entry_point) else None
    if cid in gymnasium.registry:
        del gymnasium.registry[cid]
    gymnasium.register(id=cid, entry_point=entry_point, kwargs=dict(kwargs or {}),
                       disable_env_checker=True, order_enforce=False)
    return info


_callables: dict[str, Callable[..., Any] | None] = {}


def load_plugins(force: bool = False) -> list[str]:
    """Import every ``nemogym.envs`` entry point once; returns the names loaded.

    A broken plugin is logged and skipped: it must not stop nemogym from importing.
    """
    global _plugins_loaded
    if _plugins_loaded and not force:
        return []
    _plugins_loaded = True
    loaded = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        before = set(_REGISTRY)
        try:
            obj = ep.load()
            if callable(obj):
                obj()
        except Exception as e:  # noqa: BLE001
            log.warning("nemogym plugin %r failed to load: %s", ep.name, e)
            continue
        for cid in set(_REGISTRY) - before:
            _REGISTRY[cid].plugin = ep.value
        loaded.append(ep.name)
    return loaded


def env_info(env_id: str) -> EnvInfo:
    cid = canonical_id(env_id)
    if cid not in _REGISTRY:
        load_plugins()
    try:
        return _REGISTRY[cid]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise KeyError(f"unknown environment {env_id!r}; registered: {known}") from None


def list_envs() -> list[EnvInfo]:
    """Every registered env (built-in and plugins), sorted by id."""
    load_plugins()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def make(env_id: str, **kwargs: Any) -> Any:
    """Build the env ``env_id`` (with or without the ``nemogym/`` namespace)."""
    info = env_info(env_id)
    factory = _callables.get(info.id)
    if factory is None:
        module, _, attr = info.entry_point.partition(":")
        factory = importlib.import_module(module)
        for part in attr.split("."):
            factory = getattr(factory, part)
    env = factory(**{**info.kwargs, **kwargs})
    env.spec = dataclasses.replace(gymnasium.spec(info.id), kwargs={**info.kwargs, **kwargs})
    env.env_info = info
    return env
