"""The env scaffolder: generated packages pass their own tests and the checker, as generated."""

import subprocess
import sys
from pathlib import Path

import nemogym.envs
import pytest

from nemogym.scaffold import _in_tree, names_for, new_env


def test_names():
    assert names_for("Refunds") == {"pkg": "refunds", "Camel": "Refunds", "Class": "RefundsEnv",
                                    "env_id": "nemogym/Refunds-v0"}
    assert names_for("my-help_desk")["pkg"] == "my_help_desk" and names_for("my-help_desk")["Camel"] == "MyHelpDesk"
    assert names_for("HRLeave2")["env_id"] == "nemogym/HRLeave2-v0"
    for bad in ("1abc", "a b", "", "x" * 70, "math", "Tools"):
        with pytest.raises(ValueError):
            names_for(bad)


def test_refusals(tmp_path):
    with pytest.raises(ValueError, match="kind"):
        new_env("Thing", "chat", tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="already registered"):
        new_env("ITSM", "tools", tmp_path)
    (tmp_path / "thing").mkdir()
    with pytest.raises(FileExistsError):
        new_env("Thing", "tools", tmp_path)
    assert _in_tree(Path(nemogym.envs.__file__).parent) and not _in_tree(tmp_path)


def test_generated_packages_pass_their_own_tests(tmp_path):
    tools = new_env("LibraryDesk", "tools", tmp_path)
    single = new_env("QuizBowl", "single-turn", tmp_path)
    names = {p.relative_to(tmp_path).as_posix() for p in tools + single}
    assert names == {
        "library_desk/__init__.py", "library_desk/env.py", "library_desk/README.md",
        "library_desk/tests/test_library_desk.py", "quiz_bowl/__init__.py", "quiz_bowl/env.py",
        "quiz_bowl/README.md", "quiz_bowl/tests/test_quiz_bowl.py", "quiz_bowl/data/example.jsonl",
        "quiz_bowl/data/__init__.py"}
    assert "nemogym/LibraryDesk-v0" in (tmp_path / "library_desk" / "README.md").read_text()
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "library_desk/tests", "quiz_bowl/tests"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "7 passed" in out.stdout


def test_generated_tests_can_fail(tmp_path):
    """The generated tests are honest: break the reference and they fail."""
    new_env("QuizBowl", "single-turn", tmp_path)
    env_py = tmp_path / "quiz_bowl" / "env.py"
    env_py.write_text(env_py.read_text().replace('return f"Answer: {task.answer}"', 'return "Answer: ?"'))
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "quiz_bowl/tests"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode != 0 and "failed" in out.stdout


def test_out_of_tree_names_that_would_shadow_a_module_are_refused(tmp_path):
    """Outside nemogym's tree the package is top-level and its tests put its folder first on
    sys.path: a package named random, json or pytest would shadow that module and its own
    generated tests would fail, so the name is refused (inside the tree it is fine)."""
    for name in ("Random", "Json", "Sqlite3", "Pytest", "Typing"):
        with pytest.raises(ValueError, match="shadow"):
            new_env(name, "tools", tmp_path)
    assert not any(tmp_path.iterdir())
    assert names_for("Random")["pkg"] == "random"  # the name itself is fine (in-tree use)


def test_generated_refusal_task_needs_the_lookup(tmp_path):
    """The scaffold is what partners copy: its refuse task must not reward a blanket refusal
    made without looking the member's loans up (it scored 1.0)."""
    new_env("LibraryDesk", "tools", tmp_path)
    script = (
        "import library_desk, nemogym\n"
        "from nemogym.envs.tools.base import run_script, run_oracle\n"
        "env = nemogym.make('nemogym/LibraryDesk-v0').unwrapped\n"
        "i = [t.name for t in env.templates].index('over_limit')\n"
        "v, _ = run_script(env, ['Sorry, you have reached your loan limit.'], task_index=i)\n"
        "assert v.reward == 0.0 and 'member_loans' in v.reason, v\n"
        "assert run_oracle(env, task_index=i)[0].reward == 1.0\n"
        "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.strip() == "ok", out.stdout[-2000:] + out.stderr[-2000:]
