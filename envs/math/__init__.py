"""Math environments. Registration only; the env classes load on ``make``."""

from nemogym.registry import register

_FAMILIES = [
    ("Arithmetic-v0", "arithmetic:ArithmeticEnv",
     "Procedural arithmetic: integers, fractions, order of operations; difficulty 1-5."),
    ("LinearEquation-v0", "algebra:LinearEquationEnv",
     "Solve a x + b = c x + d for x; integer, then fractional solutions; difficulty 1-5."),
    ("LinearSystem-v0", "algebra:LinearSystemEnv",
     "Two linear equations in x and y, answered as an ordered pair; difficulty 1-5."),
    ("FractionArithmetic-v0", "numbers:FractionArithmeticEnv",
     "Sums, differences, products and quotients of fractions in lowest terms; difficulty 1-5."),
    ("PercentWord-v0", "numbers:PercentWordEnv",
     "Percent and money word problems from templates (discounts, growth, percent-of); difficulty 1-5."),
    ("Polynomial-v0", "algebra:PolynomialEnv",
     "Evaluate a polynomial or find all its (integer) roots as a list; difficulty 1-5."),
    ("ModularArithmetic-v0", "numbers:ModularArithmeticEnv",
     "Residues, modular powers, inverses and linear congruences; difficulty 1-5."),
    ("Combinatorics-v0", "numbers:CombinatoricsEnv",
     "Counting: committees, podiums, word arrangements, handshakes; difficulty 1-5."),
]

for _id, _entry, _desc in _FAMILIES:
    register(f"nemogym/{_id}", f"nemogym.envs.math.{_entry}", domain="math", description=_desc,
             data_source="procedural (seeded, infinite)")

register(
    "nemogym/MathQA-v0",
    "nemogym.envs.math.mathqa:MathQAEnv",
    domain="math",
    description="Math question answering over a dataset (JSONL/Parquet/HF name, e.g. GSM8K, MATH); "
                "answers in \\boxed{}, graded by the math verifier.",
    data_source="dataset (default: a 25-row example file shipped with nemogym)",
)
