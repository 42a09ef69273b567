"""``new_env``: scaffold an env package that passes ``nemogym check`` and its own tests as generated.

``new_env("Refunds", "tools", Path("envs"))`` writes ``envs/refunds/``: ``__init__.py``
(registration), ``env.py`` (the env: a seeded SQLite world, tools, a written policy, task
templates with reference scripts; or, for ``single-turn``, a dataset env with a checker),
example data (single-turn), a test file (check, references, zero, violation; in nemogym's
tree ``tests/test_refunds.py``, elsewhere ``refunds/tests/``) and ``README.md`` (a section to paste into the project README). Inside nemogym's own
``envs/`` folder the package registers as ``nemogym.envs.<pkg>``; anywhere else it is a
top-level package (``<pkg>``) that its tests import from its parent folder, and that
``nemogym check`` finds once it is installed with a ``nemogym.envs`` entry point.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from string import Template
from typing import Literal

Kind = Literal["single-turn", "tools"]
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_RESERVED = {"test", "tests", "math", "code", "tools", "enterprise", "nemogym", "envs"}


def names_for(name: str) -> dict[str, str]:
    """``{"pkg", "Class", "Camel", "env_id"}`` for a name like ``Refunds`` or ``my-helpdesk``.

    Raises:
        ValueError: the name is not a letter followed by letters, digits, ``-`` or ``_``.
    """
    if not _NAME.match(name):
        raise ValueError(f"env name {name!r} must start with a letter and use only letters, digits, - and _")
    words = [w for w in re.split(r"[-_]+|(?<=[a-z0-9])(?=[A-Z])", name) if w]
    pkg = "_".join(w.lower() for w in words)
    camel = "".join(w[:1].upper() + w[1:] for w in words)
    if pkg in _RESERVED:
        raise ValueError(f"env name {name!r} clashes with an existing package name ({pkg})")
    return {"pkg": pkg, "Camel": camel, "Class": f"{camel}Env", "env_id": f"nemogym/{camel}-v0"}


def _in_tree(dest: Path) -> bool:
    import nemogym.envs

    return dest.resolve() == Path(nemogym.envs.__file__).resolve().parent


def new_env(name: str, kind: Kind, dest: Path) -> list[Path]:
    """Write a new env package ``dest/<pkg>/`` and return the files created.

    Raises:
        ValueError: bad name or kind, or the env id is already registered.
        FileExistsError: ``dest/<pkg>`` exists (nothing is overwritten).
    """
    if kind not in ("single-turn", "tools"):
        raise ValueError(f"kind must be 'single-turn' or 'tools', got {kind!r}")
    n = names_for(name)
    from nemogym.registry import _REGISTRY

    if n["env_id"] in _REGISTRY:
        raise ValueError(f"{n['env_id']} is already registered; pick another name")
    dest = Path(dest)
    root = dest / n["pkg"]
    if root.exists():
        raise FileExistsError(f"{root} already exists")
    in_tree = _in_tree(dest)
    if not in_tree and _shadows_a_module(n["pkg"]):
        raise ValueError(f"env name {name!r}: a top-level package {n['pkg']!r} would shadow the module of "
                         "that name (stdlib or installed); pick another name")
    module = f"nemogym.envs.{n['pkg']}" if in_tree else n["pkg"]
    path_setup = "" if in_tree else (
        "import sys\nfrom pathlib import Path\n\n"
        "_PARENT = str(Path(__file__).resolve().parents[2])  # the folder holding the package\n"
        "if _PARENT not in sys.path:\n    sys.path.insert(0, _PARENT)")
    fields = {**n, "module": module, "path_setup": path_setup}
    if kind == "tools":
        from nemogym import _scaffold_tools as tpl
    else:
        from nemogym import _scaffold_single as tpl
    files: dict[Path, str] = {
        root / "__init__.py": _init(n, module, kind),
        root / "env.py": Template(tpl.ENV).substitute(fields),
        _test_path(dest, root, n["pkg"], in_tree): Template(tpl.TEST).substitute(fields),
        root / "README.md": _readme(n, module, kind, in_tree),
    }
    if kind == "single-turn":
        files[root / "data" / "example.jsonl"] = "".join(json.dumps(r) + "\n" for r in tpl.DATA_ROWS)
        files[root / "data" / "__init__.py"] = '"""Example rows (a package, so the data ships in wheels)."""\n'
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)


def _shadows_a_module(pkg: str) -> bool:
    """True if ``pkg`` is a stdlib or importable top-level module (the package would hide it)."""
    import importlib.util
    import sys

    if pkg in sys.stdlib_module_names or pkg in sys.modules:
        return True
    try:
        return importlib.util.find_spec(pkg) is not None
    except (ImportError, ValueError):
        return False


def _test_path(dest: Path, root: Path, pkg: str, in_tree: bool) -> Path:
    """In nemogym's tree: the project's ``tests/`` (pytest would import ``envs`` twice from a
    test inside the package); elsewhere: ``<pkg>/tests/``."""
    if in_tree:
        return dest.resolve().parent / "tests" / f"test_{pkg}.py"
    return root / "tests" / f"test_{pkg}.py"


def _init(n: dict[str, str], module: str, kind: str) -> str:
    multi = kind == "tools"
    return (f'"""{n["env_id"]}. Registration only; the env class loads on ``make``."""\n\n'
            "from nemogym.registry import register\n\n"
            "register(\n"
            f'    "{n["env_id"]}",\n'
            f'    "{module}.env:{n["Class"]}",\n'
            f'    domain="{"tools" if multi else "general"}",\n'
            f'    description="{"A library desk over a seeded SQLite world (scaffold)." if multi else "Short-answer questions from a JSONL file (scaffold)."}",\n'
            f"    multi_turn={multi},\n"
            f"    uses_tools={multi},\n"
            f'    data_source="{"procedural (seeded SQLite worlds)" if multi else "data/example.jsonl"}",\n'
            ")\n")


def _readme(n: dict[str, str], module: str, kind: str, in_tree: bool) -> str:
    what = ("a multi-turn tool-use env over a seeded SQLite world with a written policy, a scripted "
            "user and final-state scoring" if kind == "tools" else
            "a single-turn env over a JSONL file with an answer checker")
    plug = "" if in_tree else (
        "\nOutside nemogym's tree, make it discoverable by `nemogym check` with an entry point in your\n"
        "package's pyproject.toml:\n\n"
        f'```toml\n[project.entry-points."nemogym.envs"]\n{n["pkg"]} = "{module}"\n```\n')
    return (f"### `{n['env_id']}`\n\n"
            f"{n['Camel']}: {what}. Generated by `nemogym new-env {n['Camel']} --kind {kind}`.\n\n"
            "```python\nimport nemogym\n"
            f'env = nemogym.make("{n["env_id"]}")\n'
            "obs, info = env.reset(seed=0)\n```\n\n"
            f"Check it: `nemogym check {n['env_id']}`; test it: "
            f"`pytest {'tests/test_' + n['pkg'] + '.py' if in_tree else n['pkg'] + '/tests'}`.\n{plug}")
