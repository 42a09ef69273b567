"""Code verifier: extract a program from a response and test it in a sandbox.

Two test styles: ``FunctionTests`` (HumanEval-like ``check(candidate)``, run by a trusted
harness whose verdict the program cannot forge) and ``IOTests`` (stdin/stdout cases judged on
the host). ``verify`` / ``averify`` return a ``nemogym.Verdict``.
"""

from nemogym.verifiers.code.compare import outputs_match
from nemogym.verifiers.code.extract import Extraction, extract_program
from nemogym.verifiers.code.spec import (
    FunctionTests,
    IOCase,
    IOTests,
    SpecError,
    Tests,
    io_cases,
    spec_from_row,
    worst_case_s,
)
from nemogym.verifiers.code.verify import averify, feedback, verify

__all__ = [
    "Extraction", "FunctionTests", "IOCase", "IOTests", "SpecError", "Tests", "averify",
    "extract_program", "feedback", "io_cases", "outputs_match", "spec_from_row", "verify", "worst_case_s",
]
