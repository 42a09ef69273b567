"""The math verifier: ``verify(response, gold, **options) -> Verdict`` and ``extract_answer``.

Modules: ``extract`` (finding the final answer), ``latex``, ``tokens`` and ``normalize`` (LaTeX and
plain text -> structured values), ``numeric`` (a bounded exact/float evaluator), ``equivalence``
(string, numeric, sample-point and sympy checks per structure), ``timeout`` (sympy in a
bounded worker process), ``verifier`` (the front door). See docs/math.md.
"""

from nemogym.verifiers.math.extract import extract, extract_answer
from nemogym.verifiers.math.verifier import MathOptions, gold_text, verify

__all__ = ["MathOptions", "extract", "extract_answer", "gold_text", "verify"]
