"""ToolCall-v0: the example file, row formats, scoring of native and Hermes calls."""

import json

import pytest
from gymnasium.utils.env_checker import check_env
from nemogym.envs.tools.toolcall import EXAMPLE_DATA, ToolCallEnv, normalize_tool

import nemogym
from nemogym.tasks import DatasetError


def _step(env, index, action):
    env.reset(options={"task_index": index})
    _, r, term, _, info = env.step(action)
    assert term
    return r, info["verdict"]


def test_example_file_every_reference_scores_one():
    env = nemogym.make("nemogym/ToolCall-v0")
    assert env.tasks.size >= 20 and not env.tasks.skipped
    subsets = {env.tasks.get(i).subset for i in range(env.tasks.size)}
    assert {"simple", "multiple", "parallel", "irrelevance"} <= subsets
    for i in range(env.tasks.size):
        env.reset(options={"task_index": i})
        _, r, *_ = env.step(env.reference_action())
        assert r == 1.0, i


def test_fixtures_and_checker():
    env = ToolCallEnv()
    for f in env.fixtures():
        r, _ = _step(env, f.task_index, f.action)
        assert r == f.reward, f.name
    check_env(env, skip_render_check=True)
    from nemogym.checker import check

    assert check("nemogym/ToolCall-v0").ok


def _row(**kw):
    base = {"id": "r", "query": "Weather in Rome?", "answers": [{"name": "get_weather", "arguments": {"city": "Rome"}}],
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {
                "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]}
    return {**base, **kw}


def test_scoring_cases():
    env = ToolCallEnv([_row(), _row(id="n", answers=[]),
                       _row(id="p", answers=[{"name": "get_weather", "arguments": {"city": "Rome"}},
                                             {"name": "get_weather", "arguments": {"city": "Oslo"}}])])
    call = lambda *cities: {"role": "assistant", "tool_calls": [  # noqa: E731
        {"id": f"c{i}", "type": "function", "function": {"name": "get_weather", "arguments": json.dumps({"city": c})}}
        for i, c in enumerate(cities)]}
    assert _step(env, 0, call("Rome"))[0] == 1.0
    assert _step(env, 0, call("rome"))[0] == 0.0  # exact by default
    assert _step(env, 0, call("Rome", "Rome"))[0] == 0.0  # an extra call
    assert _step(env, 1, "No tool can do that.")[0] == 1.0  # irrelevance: answering without a call
    assert _step(env, 1, call("Rome"))[0] == 0.0
    assert _step(env, 2, call("Oslo", "Rome"))[0] == 1.0  # parallel calls: any order
    r, v = _step(env, 0, {"role": "assistant", "tool_calls": [
        {"id": "x", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]})
    assert r == 0.0 and "not offered" in v.reason
    assert _step(env, 0, '<tool_call>{"name": "get_weather", "arguments": {"city": "Rome"}}</tool_call>')[0] == 1.0
    assert _step(env, 0, "<tool_call>{broken</tool_call>")[1].details["bad_calls"] == 1


def test_comparators_ordered_and_unknown_comparator():
    env = ToolCallEnv([_row(comparators={"city": "casefold"}),
                       _row(id="o", ordered=True, answers=[{"name": "get_weather", "arguments": {"city": "A"}},
                                                           {"name": "get_weather", "arguments": {"city": "B"}}]),
                       _row(id="u", comparators={"city": "fuzzy"})])
    msg = lambda *cs: {"role": "assistant", "tool_calls": [  # noqa: E731
        {"id": f"{i}", "type": "function", "function": {"name": "get_weather", "arguments": {"city": c}}}
        for i, c in enumerate(cs)]}
    assert _step(env, 0, msg("ROME"))[0] == 1.0
    assert _step(env, 1, msg("B", "A"))[0] == 0.0 and _step(env, 1, msg("A", "B"))[0] == 1.0
    r, v = _step(env, 2, msg("Rome"))
    assert v.masked and "unknown comparator" in v.failure  # a broken row is the data's fault


def test_xlam_rows_and_json_string_columns():
    xlam_tools = json.dumps([{"name": "search", "description": "Search.", "parameters": {
        "q": {"type": "str", "description": "query"}, "n": {"type": "int", "description": "count", "default": 5}}}])
    env = ToolCallEnv([{"id": "x", "query": "find cats", "tools": xlam_tools,
                        "answers": json.dumps([{"name": "search", "arguments": {"q": "cats"}}])}])
    schema = env.reset(options={"task_index": 0})[0]["tools"][0]["function"]
    assert schema["parameters"]["required"] == ["q"] and "default" not in schema["parameters"]["properties"]["n"]
    assert _step(env, 0, env.reference_action())[0] == 1.0
    assert normalize_tool({"name": "f", "parameters": {"type": "object", "properties": {}}})["function"]["name"] == "f"


def test_broken_rows_are_skipped_with_a_reason():
    env = ToolCallEnv([_row(), _row(id="b1", tools=[]), _row(id="b2", answers=[{"name": "nope"}]),
                       _row(id="b3", answers="not json")])
    assert env.tasks.size == 1 and len(env.tasks.skipped) == 3
    assert any("does not offer" in why for _, why in env.tasks.skipped)
    with pytest.raises(DatasetError):
        ToolCallEnv([_row(tools=[])])


def test_example_file_is_valid_jsonl():
    lines = EXAMPLE_DATA.read_text().splitlines()
    assert len(lines) >= 20 and all(json.loads(line)["answers"] is not None for line in lines)


def test_bfcl_rows_with_possible_answers_and_optional_arguments():
    row = {"id": "bfcl_simple_0",
           "question": [[{"role": "user", "content": "Area of a triangle with base 10 and height 5?"}]],
           "function": [{"name": "triangle_area", "description": "Area.", "parameters": {
               "type": "dict", "properties": {"base": {"type": "integer"}, "height": {"type": "integer"},
                                              "unit": {"type": "string"}}, "required": ["base", "height"]}}],
           "ground_truth": [{"triangle_area": {"base": [10], "height": [5], "unit": ["units", "", "cm"]}}]}
    env = ToolCallEnv([row])
    obs, _ = env.reset(options={"task_index": 0})
    assert obs["messages"][-1]["content"] == "Area of a triangle with base 10 and height 5?"
    assert obs["tools"][0]["function"]["parameters"]["type"] == "object"
    msg = lambda **a: {"role": "assistant", "tool_calls": [  # noqa: E731
        {"id": "c", "type": "function", "function": {"name": "triangle_area", "arguments": json.dumps(a)}}]}
    assert _step(env, 0, msg(base=10, height=5))[0] == 1.0          # optional unit left out
    assert _step(env, 0, msg(base=10, height=5, unit="cm"))[0] == 1.0
    assert _step(env, 0, msg(base=10, height=5, unit="m"))[0] == 0.0
    assert _step(env, 0, msg(base=10))[0] == 0.0
    assert _step(env, 0, env.reference_action())[0] == 1.0          # canonical: first option, "units"


def test_deeply_nested_arguments_score_zero_unmasked():
    env = nemogym.make("nemogym/ToolCall-v0")
    deep = "[" * 100_000
    for action in ({"role": "assistant", "content": None, "tool_calls": [
            {"id": "1", "type": "function", "function": {"name": "get_weather", "arguments": deep}}]},
            {"role": "assistant", "content": "<tool_call>" + deep}):
        r, v = _step(env, 0, action)
        assert r == 0.0 and not v.masked and "not valid JSON" in v.reason


def test_fixtures_hold_for_any_valid_dataset(tmp_path):
    """fixtures() raised on valid data: IndexError when the first row is an irrelevance row
    (no call expected), StopIteration when its call takes no arguments."""
    from nemogym.checker import check

    weather = {"type": "function", "function": {"name": "get_weather", "description": "w", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
    ping = {"type": "function", "function": {"name": "ping", "description": "p",
                                             "parameters": {"type": "object", "properties": {}}}}
    datasets = {
        "irrelevance_first": [{"query": "Tell me a joke", "tools": [weather], "answers": []},
                              {"query": "Weather in Paris?", "tools": [weather],
                               "answers": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}],
        "no_arguments": [{"query": "Ping", "tools": [ping], "answers": [{"name": "ping", "arguments": {}}]}],
        "only_irrelevance": [{"query": "Tell me a joke", "tools": [weather], "answers": []}],
    }
    for name, rows in datasets.items():
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        env = ToolCallEnv(str(path))
        fixtures = env.fixtures()
        assert {f.kind for f in fixtures} >= {"full", "zero", "malformed"}, name
        for f in fixtures:
            r, _ = _step(env, f.task_index, f.action)
            assert r == f.reward, (name, f.name)
        report = check("nemogym/ToolCall-v0", env_kwargs={"data": str(path)})
        bad = [c for c in report.results if "fixture" in c.name and not c.ok]
        assert not bad, (name, bad)


def test_openai_parameters_without_an_explicit_object_type_load():
    """JSON Schema lets "type": "object" be left out; such a schema (properties + required)
    was read as an xLAM argument map and every such row was skipped."""
    schema = {"properties": {"city": {"type": "string"}}, "required": ["city"]}
    got = normalize_tool({"name": "get_weather", "description": "w", "parameters": schema})
    assert got["function"]["parameters"] == {"type": "object", **schema}
    xlam = normalize_tool({"name": "f", "parameters": {"city": {"type": "str", "description": "c"}}})
    assert xlam["function"]["parameters"]["required"] == ["city"]  # the xLAM map still reads as one
