"""`make_policy(spec)`: build a policy from the string a user types on the command line.

Specs: ``oracle``; ``random`` or ``random:SEED``; ``replay:PATH``; an http(s) base URL of an
OpenAI-compatible server (``http://127.0.0.1:8000/v1``) with ``model=``; or ``module:attr``
naming a Policy class or factory of your own (called with ``model=`` if given and ``kwargs``).
"""

from __future__ import annotations

import importlib
from typing import Any

from nemogym.policies.base import Policy

#: Options only the HTTP policy understands; built-in policies ignore them, so that a CLI can
#: pass its ``--concurrency`` / ``--timeout`` flags whatever the policy.
HTTP_OPTIONS = frozenset({
    "api_key", "concurrency", "timeout_s", "connect_timeout_s", "max_retries", "backoff_s",
    "max_backoff_s", "sampling", "return_token_ids", "extra_headers", "extra_body",
})
SPEC_HELP = ("oracle, random[:SEED], replay:PATH, an http(s) base URL such as "
             "http://127.0.0.1:8000/v1, or module.path:ClassName")


def make_policy(spec: str, *, model: str | None = None, **kwargs: Any) -> Policy:
    """The policy ``spec`` names; ``ValueError`` for an unknown spec or an option it rejects."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"policy spec must be a non-empty string ({SPEC_HELP}), got {spec!r}")
    spec = spec.strip()
    kind, _, arg = spec.partition(":")
    if spec.startswith(("http://", "https://")):
        from nemogym.policies.openai_http import OpenAIHTTPPolicy

        return OpenAIHTTPPolicy(spec, model, **_only(kwargs, HTTP_OPTIONS, "an HTTP policy"))
    from nemogym.policies import builtin

    builtin_kwargs = {k: v for k, v in kwargs.items() if k not in HTTP_OPTIONS}
    if kind == "oracle" and not arg:
        return builtin.OraclePolicy(**_only(builtin_kwargs, frozenset(), "the oracle policy"))
    if kind == "random":
        opts = _only(builtin_kwargs, frozenset({"seed", "p_empty", "p_tool", "max_chars"}),
                     "the random policy")
        if arg:
            try:
                opts["seed"] = int(arg)
            except ValueError:
                raise ValueError(f"random policy seed must be an integer, got {arg!r}") from None
        return builtin.RandomPolicy(**opts)
    if kind == "replay":
        if not arg:
            raise ValueError("replay policy needs a file: replay:PATH")
        return builtin.ReplayPolicy(arg, **_only(builtin_kwargs, frozenset(), "the replay policy"))
    if arg and arg.isidentifier() and all(part.isidentifier() for part in kind.split(".")):
        return _import_policy(kind, arg, model, builtin_kwargs)
    raise ValueError(f"unknown policy spec {spec!r}; expected {SPEC_HELP}")


def _only(kwargs: dict[str, Any], allowed: frozenset[str], what: str) -> dict[str, Any]:
    unknown = sorted(k for k in kwargs if k not in allowed)
    if unknown:
        raise ValueError(f"{what} takes no option(s) {', '.join(unknown)}")
    return dict(kwargs)


def _import_policy(module: str, attr: str, model: str | None, kwargs: dict[str, Any]) -> Policy:
    try:
        target = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"cannot load policy {module}:{attr}: {e}") from e
    policy = target(**({"model": model} if model is not None else {}), **kwargs)
    if not callable(policy) or not hasattr(policy, "aclose"):
        raise ValueError(f"{module}:{attr} did not build a policy (needs __call__ and aclose)")
    return policy
