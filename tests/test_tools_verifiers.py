"""Tool verifier pieces: call matching, SQLite state diff, facts, policy, efficiency, combine."""

import sqlite3

from nemogym.verifiers import tools as tv

from nemogym.verdict import Verdict


def c(name, **args):
    return {"name": name, "arguments": args}


def test_match_calls_unordered_and_ordered():
    exp = [c("a", x=1), c("b", y="z")]
    assert tv.match_calls([c("b", y="z"), c("a", x=1.0)], exp).reward == 1.0
    v = tv.match_calls([c("b", y="z"), c("a", x=1)], exp, ordered=True)
    assert v.reward == 0.0 and v.components["recall"] == 0.5 and v.details["missing"][0]["expected"]["name"] == "b"
    assert tv.match_calls([c("a", x=1), c("b", y="z")], exp, ordered=True).reward == 1.0


def test_match_calls_extra_missing_and_reasons():
    v = tv.match_calls([c("a", x=1), c("a", x=2)], [c("a", x=1)])
    assert v.reward == 0.0 and v.details["unexpected"] == [c("a", x=2)] and v.components["precision"] == 0.5
    assert tv.match_calls([c("a", x=1), c("a", x=2)], [c("a", x=1)], allow_extra=True).reward == 1.0
    v = tv.match_calls([c("a", x=3)], [c("a", x=1)])
    assert "argument 'x': got 3, expected 1" in v.details["missing"][0]["why"]
    v = tv.match_calls([], [c("a")])
    assert v.details["missing"][0]["why"] == "no call to this tool" and v.components["precision"] == 0.0
    assert tv.match_calls([], []).reward == 1.0
    assert tv.match_calls([c("a", x=1, y=2)], [c("a", x=1)]).reward == 0.0
    assert tv.match_calls([c("a", x=1, y=2)], [c("a", x=1)], ignore_extra_args=True).reward == 1.0


def test_comparators_and_any():
    cmp = {"city": tv.casefold, "t": tv.numeric(0.01), "note": tv.contains, "tags": tv.unordered,
           "ts": tv.ignore}
    exp = [c("w", city="New York", t=20.0, note="urgent", tags=["a", "b"], ts="x")]
    act = [c("w", city="  new   york", t=20.004, note="This is URGENT!", tags=["b", "a"])]
    assert tv.match_calls(act, exp, comparators=cmp).reward == 1.0
    assert tv.match_calls(act, exp, comparators={**cmp, "w.t": tv.equal}).reward == 0.0  # tool.arg wins
    exp_any = [c("u", unit={"$any": ["km", "kilometres"]})]
    assert tv.match_calls([c("u", unit="kilometres")], exp_any).reward == 1.0
    assert tv.match_calls([c("u", unit="miles")], exp_any).reward == 0.0
    assert tv.canonical({"unit": {"$any": ["km", "k"]}, "l": [{"$any": [1]}]}) == {"unit": "km", "l": [1]}


def test_equal_is_strict_about_bools_and_types():
    assert tv.equal(1, 1.0) and not tv.equal(True, 1) and not tv.equal("1", 1)
    assert tv.equal({"a": [1, {"b": 2.0}]}, {"a": [1, {"b": 2}]}) and not tv.equal([1, 2], [2, 1])


def _db(rows):
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, n INTEGER, note TEXT)")
    db.execute("CREATE TABLE log (msg TEXT)")  # no primary key: compared by rowid
    db.executemany("INSERT INTO t VALUES (?,?,?,?)", rows)
    db.commit()
    return db


def test_compare_db_reports_differing_rows():
    base = [(1, "a", 1, "x"), (2, "b", 2, "y"), (3, "c", 3, "z")]
    assert tv.compare_db(_db(base), _db(base)).reward == 1.0
    actual = _db([(1, "a", 1, "x"), (2, "b", 5, "y"), (4, "d", 4, "w")])
    v = tv.compare_db(actual, _db(base))
    assert v.reward == 0.0 and v.details["n_diff"] == 3
    by_key = {(d["key"][0], d["change"]): d for d in v.details["diff"]}
    assert by_key[(2, "changed")]["columns"] == {"n": [5, 2]}
    assert by_key[(3, "missing")]["row"]["name"] == "c" and (4, "extra") in by_key
    assert "differs" in v.reason


def test_compare_db_ignores_columns_and_tables():
    a, e = _db([(1, "a", 1, "x")]), _db([(1, "a", 1, "DIFFERENT")])
    assert tv.compare_db(a, e).reward == 0.0
    assert tv.compare_db(a, e, ignore_columns={"t": ["note"]}).reward == 1.0
    assert tv.compare_db(a, e, ignore_columns={"*": ["note"]}).reward == 1.0
    a.execute("INSERT INTO log VALUES ('hello')")
    assert tv.compare_db(a, e, ignore_columns={"t": ["note"]}).reward == 0.0
    assert tv.compare_db(a, e, tables=["t"], ignore_columns={"t": ["note"]}).reward == 1.0
    a.execute("CREATE TABLE extra (x)")
    v = tv.compare_db(a, e, ignore_columns={"t": ["note"]})
    assert any(d["change"] == "schema" and d["table"] == "extra" for d in v.details["diff"])


def test_compare_db_caps_report_but_counts_all():
    a = _db([(i, "a", i, "") for i in range(50)])
    v = tv.compare_db(a, _db([]))
    assert v.details["n_diff"] == 50 and len(v.details["diff"]) == tv.MAX_REPORTED


def test_required_facts_policy_efficiency():
    v = tv.required_facts("Your ticket **INC0001** is now  P2.", ["inc0001", "P2", ["closed", "resolved"]])
    assert v.reward == 0.0 and abs(v.components["fraction"] - 2 / 3) < 1e-9 and v.details["missing"] == [["closed", "resolved"]]
    assert tv.required_facts("It is resolved", [["closed", "resolved"]]).reward == 1.0
    assert tv.required_facts("", []).reward == 1.0
    assert tv.policy([]).reward == 1.0 and tv.policy(["x"]).reward == 0.0
    assert tv.policy(["x"], penalty=0.25).reward == 0.75 and "x" in tv.policy(["x"]).reason
    assert tv.efficiency(4, 2).reward == 0.5 and tv.efficiency(1, 2).reward == 1.0
    assert tv.efficiency(0, 0).reward == 1.0 and tv.efficiency(0, 3).reward == 0.0


def test_combine_modes_metrics_and_masking():
    good, bad = Verdict(reward=1.0, components={"x": 0.5}), Verdict.wrong("nope")
    v = tv.combine({"a": good, "b": bad}, metrics={"eff": tv.efficiency(2, 1)})
    assert v.reward == 0.0 and v.components == {"a": 1.0, "a.x": 0.5, "b": 0.0, "eff": 0.5}
    assert v.reason == "b: nope"
    assert tv.combine({"a": good, "b": Verdict(reward=0.5)}, mode="min").reward == 0.5
    w = tv.combine({"a": good, "b": bad}, mode="weighted", weights={"a": 3, "b": 1})
    assert w.reward == 0.75
    assert tv.combine({}).reward == 1.0
    m = tv.combine({"a": good, "b": Verdict.infra_failure("db gone")})
    assert m.masked and m.failure == "db gone"


def test_compare_db_only_keys_reads_just_those_rows():
    a, e = _db([(1, "a", 1, "x"), (2, "b", 9, "y")]), _db([(1, "a", 1, "x"), (2, "b", 2, "y")])
    assert tv.compare_db(a, e, tables=["t"], only_keys={"t": ["[1]"]}).reward == 1.0  # row 2 not listed
    v = tv.compare_db(a, e, tables=["t"], only_keys={"t": ["[1]", "[2]"]})
    assert v.reward == 0.0 and v.details["diff"][0]["key"] == [2]
    assert tv.compare_db(a, e, tables=["t"], only_keys={"other": []}).reward == 0.0  # t compared in full


def test_missing_ok_option_and_canonical():
    exp = [c("f", a=1, b={"$any": ["x", tv.MISSING_OK]}, d={"$any": [tv.MISSING_OK]})]
    assert tv.match_calls([c("f", a=1)], exp).reward == 1.0
    assert tv.match_calls([c("f", a=1, b="x")], exp).reward == 1.0
    assert tv.match_calls([c("f", a=1, b="y")], exp).reward == 0.0
    assert tv.match_calls([c("f", a=1, d=0)], exp).reward == 0.0
    assert tv.canonical(exp[0]["arguments"]) == {"a": 1, "b": "x"}


def test_required_facts_with_underscores_or_markdown_in_the_fact():
    # the reply's markdown marks (*, _, `) are dropped; a fact holding one (a state such as
    # in_progress, a code such as no_fault_found) must be read the same way, not missed
    assert tv.required_facts("The ticket is in_progress.", [["in_progress", "in progress"]]).reward == 1.0
    assert tv.required_facts("Resolved as `no_fault_found`.", ["no_fault_found"]).reward == 1.0
    assert tv.required_facts("Mail ana_diaz@x.example", ["ana_diaz@x.example"]).reward == 1.0
    assert tv.required_facts("The ticket is in progress.", ["in_progress"]).reward == 0.0


def test_unordered_matching_does_not_depend_on_the_order_of_the_calls():
    """Expected calls whose options overlap ($any, MISSING_OK) must be paired with the calls
    as a whole: the first expected call grabbing the first fitting call failed valid answers."""
    exp = [c("a", x={"$any": [1, 2]}), c("a", x=1)]
    for act in ([c("a", x=1), c("a", x=2)], [c("a", x=2), c("a", x=1)]):
        v = tv.match_calls(act, exp)
        assert v.reward == 1.0 and v.components["recall"] == 1.0, act
    exp = [c("a", x=1, y={"$any": [1, tv.MISSING_OK]}), c("a", x=1, y=1)]
    assert tv.match_calls([c("a", x=1, y=1), c("a", x=1)], exp).reward == 1.0
    v = tv.match_calls([c("a", x=1), c("a", x=1)], [c("a", x=1), c("a", x=1, y=1)])
    assert v.reward == 0.0 and v.details["matched"] == 1 and v.details["unexpected"] == [c("a", x=1)]
