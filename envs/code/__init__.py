"""Code environments. Registration only; the env classes load on ``make``."""

from nemogym.registry import register

register(
    "nemogym/Code-v0",
    "nemogym.envs.code.env:CodeEnv",
    domain="code",
    description=("Single-turn Python code generation, tested in the sandbox: function-style "
                 "(check(candidate)) and stdin/stdout tests; any JSONL/Parquet/HF dataset via data=."),
    data_source="envs/code/data/code_example.jsonl (written for nemogym) or data=",
)
register(
    "nemogym/CodeMultiTurn-v0",
    "nemogym.envs.code.multi_turn:CodeMultiTurnEnv",
    domain="code",
    multi_turn=True,
    description=("Code generation with retries: failing tests' output is fed back for up to "
                 "max_turns attempts; later passes earn turn_discount**(turn-1)."),
    data_source="envs/code/data/code_example.jsonl (written for nemogym) or data=",
)
