"""Policies: the Policy protocol, the OpenAI-compatible HTTP policy and built-in ones."""

from nemogym.policies.base import (
    Policy,
    PolicyContext,
    PolicyError,
    PolicyResponse,
    Sampling,
)

__all__ = ["Policy", "PolicyContext", "PolicyError", "PolicyResponse", "Sampling"]
