"""Verifiers: turn a model's answer into a ``nemogym.Verdict``.

Verifiers never import from ``nemogym.envs`` (envs use verifiers, not the other way round).
"""
