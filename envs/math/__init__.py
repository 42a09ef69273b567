"""Math environments. Registration only; the env classes load on ``make``."""

from nemogym.registry import register

register(
    "nemogym/Arithmetic-v0",
    "nemogym.envs.math.arithmetic:ArithmeticEnv",
    domain="math",
    description="Procedural arithmetic: integers, fractions, order of operations; difficulty 1-5.",
    data_source="procedural (seeded, infinite)",
)
