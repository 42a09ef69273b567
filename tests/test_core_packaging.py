"""Packaging: the built wheel holds every subpackage under nemogym/, installs into a fresh
venv, imports from there, and discovers an env plugin installed from another package."""

from __future__ import annotations

import json
import site
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PLUGIN_PYPROJECT = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"
[project]
name = "nemogym-demo-plugin"
version = "0.1.0"
[project.entry-points."nemogym.envs"]
demo = "nemogym_demo_plugin:register_envs"
"""

PLUGIN_MODULE = '''
"""A third-party env package: one env, registered through the nemogym.envs entry point."""
from nemogym import ProceduralTasks, TaskEnv, Task, Verdict, register

class EchoEnv(TaskEnv):
    def __init__(self, **kw):
        super().__init__(ProceduralTasks(lambda rng, d: Task(prompt="say hi", answer="hi"), name="echo"), **kw)
    def verify(self, task, response):
        return Verdict(reward=float(response.strip() == task.answer))

def register_envs():
    register("nemogym/DemoPlugin-v0", "nemogym_demo_plugin:EchoEnv", domain="demo",
             description="plugin test env", license="MIT")
'''

CHECK = textwrap.dedent("""
    import importlib, json, pkgutil, sys
    import gymnasium, nemogym
    pkgs = ["nemogym"] + [m.name for m in pkgutil.walk_packages(nemogym.__path__, "nemogym.") if m.ispkg]
    files = {p: importlib.import_module(p).__file__ for p in pkgs}
    bare = {}
    for name in ("verifiers", "envs", "sandboxes", "trainers"):
        try:
            importlib.import_module(name); bare[name] = True
        except ModuleNotFoundError:
            bare[name] = False
    env = gymnasium.make("nemogym/DemoPlugin-v0")
    env.reset(seed=0)
    reward = env.step("hi")[1]
    info = nemogym.env_info("DemoPlugin-v0")
    print(json.dumps({"files": files, "bare": bare, "reward": reward, "plugin": info.plugin,
                      "license": info.license}))
""")


def _pip(*args: str, cwd: Path | None = None) -> None:
    subprocess.run([sys.executable, "-m", "pip", "-q", "--disable-pip-version-check", *args],
                   check=True, cwd=cwd, timeout=300)


def test_wheel_in_fresh_venv_with_plugin(tmp_path):
    dist = tmp_path / "dist"
    _pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(ROOT))
    wheel = next(dist.glob("nemogym-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for required in ("nemogym/__init__.py", "nemogym/envs/__init__.py", "nemogym/verifiers/__init__.py",
                     "nemogym/sandboxes/base.py", "nemogym/trainers/__init__.py",
                     "nemogym/envs/math/arithmetic.py"):
        assert required in names, required
    assert not any(n.split("/")[0] in ("envs", "verifiers", "sandboxes", "trainers", "tests") for n in names)

    plugin = tmp_path / "plugin"
    (plugin / "nemogym_demo_plugin").mkdir(parents=True)
    (plugin / "pyproject.toml").write_text(PLUGIN_PYPROJECT)
    (plugin / "nemogym_demo_plugin" / "__init__.py").write_text(PLUGIN_MODULE)
    _pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(plugin))

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # Dependencies come from this environment (read-only, via a .pth); nemogym itself only from the wheel.
    deps = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
    Path(purelib, "deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    _pip("--python", str(py), "install", "--no-deps", str(wheel), *map(str, dist.glob("nemogym_demo_plugin-*.whl")))

    out = subprocess.run([str(py), "-c", CHECK], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    for pkg in ("nemogym", "nemogym.envs", "nemogym.verifiers", "nemogym.sandboxes", "nemogym.trainers"):
        assert res["files"][pkg].startswith(str(venv)), (pkg, res["files"][pkg])
    assert res["bare"] == {"verifiers": False, "envs": False, "sandboxes": False, "trainers": False}
    assert res["reward"] == 1.0 and res["plugin"] == "nemogym_demo_plugin:register_envs"
    assert res["license"] == "MIT"
    listed = subprocess.run([str(venv / "bin" / "nemogym"), "list", "--json"], capture_output=True,
                            text=True, cwd=tmp_path, timeout=120)
    ids = {e["id"] for e in json.loads(listed.stdout)}
    assert {"nemogym/DemoPlugin-v0", "nemogym/Arithmetic-v0"} <= ids


def test_editable_checkout_maps_the_folders():
    import nemogym.envs
    import nemogym.sandboxes
    import nemogym.trainers
    import nemogym.verifiers

    assert Path(nemogym.envs.__file__).parent == ROOT / "envs"
    assert Path(nemogym.verifiers.__file__).parent == ROOT / "verifiers"
    assert Path(nemogym.sandboxes.__file__).parent == ROOT / "sandboxes"
    assert Path(nemogym.trainers.__file__).parent == ROOT / "trainers"
