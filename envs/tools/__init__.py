"""Tool-use environments and the tool-env base (``nemogym.envs.tools.base.ToolEnv``).

Registration only; the env classes load on ``make``.
"""

from nemogym.registry import register

register(
    "nemogym/ToolCall-v0",
    "nemogym.envs.tools.toolcall:ToolCallEnv",
    domain="tools",
    description="Single-step function calling: tools + query -> the expected call(s) (xLAM/BFCL style).",
    uses_tools=True,
    data_source="envs/tools/data/toolcall_example.jsonl (written for nemogym) or any JSONL/HF rows",
)

register(
    "nemogym/MathWithPython-v0",
    "nemogym.envs.tools.math_python:MathWithPythonEnv",
    domain="math",
    description="Math problems with a sandboxed `python` tool (tool-integrated reasoning); "
                "the final \\boxed{} answer is checked by the math verifier.",
    multi_turn=True,
    uses_tools=True,
    data_source="procedural (seeded, infinite)",
)
