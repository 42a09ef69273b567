"""``nemogym/ToolCall-v0``: single-step function calling from a dataset (xLAM / BFCL style).

Each row: ``query`` (the user's request), ``tools`` (OpenAI function schemas; xLAM's
``{"name", "description", "parameters": {arg: {"type", ...}}}`` and JSON-string columns are
accepted too; BFCL rows with ``question``, ``function`` and ``ground_truth`` are converted)
and ``answers`` (the expected calls ``[{"name", "arguments"}]``; empty means no
tool fits and the model must answer without calling one). Optional: ``ordered`` (bool),
``comparators`` (``{arg: "equal"|"casefold"|"numeric"|"contains"|"unordered"|"ignore"}``), and
expected argument values ``{"$any": [...]}``.

The model answers with native ``tool_calls`` or Hermes ``<tool_call>`` blocks; reward 1.0 iff
its calls match the expected ones exactly (no extra calls), with per-argument comparators.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nemogym.envs.tools.parsing import extract_calls, native_call
from nemogym.verifiers import tools as tv

from nemogym.env import Episode, Fixture, TaskEnv
from nemogym.messages import Message, ToolSchema
from nemogym.tasks import DatasetTasks, Task
from nemogym.verdict import Verdict

EXAMPLE_DATA = Path(__file__).with_name("data") / "toolcall_example.jsonl"
SYSTEM_PROMPT = ("You can call the functions provided. Answer the user's request with the function call "
                 "or calls that fulfil it, with exact argument values. If no function fits, answer in "
                 "text without calling any.")
COMPARATORS: dict[str, tv.Comparator] = {
    "equal": tv.equal, "casefold": tv.casefold, "numeric": tv.numeric(1e-6, 1e-6),
    "contains": tv.contains, "unordered": tv.unordered, "ignore": tv.ignore,
}


def normalize_tool(spec: Any) -> ToolSchema:
    """An OpenAI ``tools`` entry from an OpenAI, bare-function or xLAM tool description."""
    if isinstance(spec, str):
        spec = json.loads(spec)
    if not isinstance(spec, dict):
        raise ValueError(f"a tool must be an object, got {type(spec).__name__}")
    fn = spec["function"] if spec.get("type") == "function" and "function" in spec else spec
    if not isinstance(fn.get("name"), str):
        raise ValueError("a tool needs a name")
    params = dict(fn.get("parameters") or {})
    if params.get("type") == "dict":  # BFCL writes "dict" for "object"
        params["type"] = "object"
    props = params.get("properties")
    if "type" not in params and isinstance(props, dict) and all(isinstance(v, dict) for v in props.values()) \
            and isinstance(params.get("required", []), list):  # JSON Schema may leave "object" implied
        params = {"type": "object", **params}
    if params.get("type") != "object":  # xLAM: {arg: {"type": ..., "description": ..., "default": ...}}
        props = {k: {kk: vv for kk, vv in v.items() if kk != "default"} for k, v in params.items()}
        required = [k for k, v in params.items() if "default" not in v and "optional" not in str(v.get("type"))]
        params = {"type": "object", "properties": props, "required": required}
    return {"type": "function", "function": {"name": fn["name"], "description": fn.get("description", ""),
                                             "parameters": params}}


def _bfcl_answers(ground_truth: list[dict[str, dict[str, list[Any]]]]) -> list[dict[str, Any]]:
    """BFCL ``ground_truth`` (``[{fn: {arg: [acceptable values, "" = may be omitted]}}]``) as answers."""
    out = []
    for item in ground_truth:
        for name, args in item.items():
            conv = {}
            for arg, values in args.items():
                values = values if isinstance(values, list) else [values]
                options = [v for v in values if v != ""]
                if "" in values:
                    options.append(tv.MISSING_OK)
                conv[arg] = options[0] if len(options) == 1 else {"$any": options}
            out.append({"name": name, "arguments": conv})
    return out


def _bfcl_query(question: Any) -> str:
    """BFCL ``question`` (``[[{"role": "user", "content": ...}, ...]]`` or a string) as text."""
    while isinstance(question, list) and question:
        question = question[-1] if isinstance(question[-1], dict) else question[0]
    return question.get("content", "") if isinstance(question, dict) else str(question)


def _row(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    if "query" not in out and "question" in out:
        out["query"] = _bfcl_query(out["question"])
    raw_tools = row.get("tools", row.get("function"))
    tools = json.loads(raw_tools) if isinstance(raw_tools, str) else raw_tools
    answers = json.loads(row["answers"]) if isinstance(row.get("answers"), str) else row.get("answers")
    if answers is None and isinstance(row.get("ground_truth"), list):
        answers = _bfcl_answers(row["ground_truth"])
    if not isinstance(tools, list) or not tools:
        raise ValueError("row has no tools")
    if not isinstance(answers, list) or not all(isinstance(a, dict) and "name" in a for a in answers):
        raise ValueError("answers must be a list of {name, arguments}")
    out["tools"] = [normalize_tool(t) for t in tools]
    out["answers"] = [{"name": a["name"], "arguments": dict(a.get("arguments") or {})} for a in answers]
    unknown = {a["name"] for a in out["answers"]} - {t["function"]["name"] for t in out["tools"]}
    if unknown:
        raise ValueError(f"answers call tools the row does not offer: {sorted(unknown)}")
    return out


class ToolCallEnv(TaskEnv):
    """Single-step: the first assistant message is scored on its tool calls."""

    system_prompt = SYSTEM_PROMPT

    def __init__(self, data: Any = None, *, text_fallback: bool = True, **kwargs: Any):
        tasks = DatasetTasks(data if data is not None else EXAMPLE_DATA, question_field="query",
                             answer_field="answers", transform=_row)
        super().__init__(tasks, **kwargs)
        self.text_fallback = text_fallback

    def tools_for(self, task: Task) -> list[ToolSchema]:
        return list(task.metadata["tools"])

    def reference_for(self, task: Task) -> Message:
        if not task.answer:
            return {"role": "assistant", "content": "None of the available functions can do that."}
        return {"role": "assistant", "content": None, "tool_calls": [
            native_call(a["name"], tv.canonical(a["arguments"]), f"call_{i}") for i, a in enumerate(task.answer)]}

    async def averify(self, episode: Episode) -> Verdict:
        message = next(m for m in reversed(episode.messages) if m.get("role") == "assistant")
        return self.score_message(episode.task, message)

    def score_message(self, task: Task, message: Message) -> Verdict:
        """Score one assistant message against ``task``'s expected calls."""
        calls = extract_calls(message, text_fallback=self.text_fallback)
        broken = [c for c in calls if c.error]
        if broken:
            return Verdict.wrong(f"unusable tool call: {broken[0].error}", bad_calls=len(broken))
        offered = {t["function"]["name"] for t in task.metadata["tools"]}
        unknown = [c.name for c in calls if c.name not in offered]
        if unknown:
            return Verdict.wrong(f"called tools that were not offered: {unknown}", unknown_tools=unknown)
        names = task.metadata.get("comparators") or {}
        try:
            comparators = {k: COMPARATORS[v] for k, v in names.items()}
        except KeyError as e:
            return Verdict.infra_failure(f"row {task.id}: unknown comparator {e}")
        return tv.match_calls([c.as_dict() for c in calls], task.answer, ordered=bool(task.metadata.get("ordered")),
                              comparators=comparators)

    def fixtures(self) -> list[Fixture]:
        """Fixtures on the first row that expects a call (any row when none does)."""
        n = min(self.tasks.size or 1, 1000)
        i = next((k for k in range(n) if self.tasks.get(k).answer), 0)
        task = self.tasks.get(i)
        ref = self.reference_for(task)
        malformed = Fixture("not a message", 12345, 0.0, i, kind="malformed")
        if not task.answer:  # only irrelevance rows: text is right, any call is wrong
            tool = task.metadata["tools"][0]["function"]["name"]
            return [Fixture("reference (no function fits)", ref, 1.0, i),
                    Fixture("a call where none fits", {"role": "assistant", "tool_calls": [
                        native_call(tool, {}, "c0")]}, 0.0, i, kind="zero"),
                    malformed]
        a = task.answer[0]
        hermes = "".join(f"<tool_call>{json.dumps(tv.canonical(x))}</tool_call>" for x in task.answer)
        args = tv.canonical(a["arguments"])
        if args:
            wrong = Fixture("wrong argument", {"role": "assistant", "tool_calls": [native_call(
                a["name"], {**args, next(iter(args)): "__wrong__"}, "c0")]}, 0.0, i, kind="zero")
        else:  # nothing to get wrong in the arguments: one call too many
            wrong = Fixture("one call too many", {"role": "assistant", "tool_calls": [
                *ref["tool_calls"], native_call(a["name"], args, "extra")]}, 0.0, i, kind="zero")
        return [
            Fixture("reference (native tool_calls)", ref, 1.0, i),
            Fixture("reference (Hermes text)", hermes, 1.0, i),
            wrong,
            Fixture("text instead of a call", "The weather is nice.", 0.0, i, kind="zero"),
            Fixture("arguments not JSON", {"role": "assistant", "tool_calls": [
                {"id": "c0", "type": "function", "function": {"name": a["name"], "arguments": "{oops"}}]},
                0.0, i, kind="malformed"),
            malformed,
        ]
