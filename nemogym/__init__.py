"""nemogym: RL environments and verifiers for post-training language models.

The public face: ``make``, ``register``, ``list_envs``, ``TextEnv``, ``TaskEnv``, ``Verdict``,
``Policy``. Importing nemogym registers the built-in envs and installed plugins (lazily: no env
module or heavy dependency is imported until ``make``).
"""

from nemogym.env import Episode, Fixture, Reply, TaskEnv, TextEnv
from nemogym.registry import EnvInfo, env_info, list_envs, load_plugins, make, register
from nemogym.tasks import DatasetTasks, ProceduralTasks, Task, TaskSource
from nemogym.verdict import Verdict

__version__ = "0.1.0"

__all__ = [
    "DatasetTasks", "EnvInfo", "Episode", "Fixture", "Policy", "ProceduralTasks", "Reply",
    "Task", "TaskEnv", "TaskSource", "TextEnv", "Verdict", "env_info", "list_envs",
    "load_plugins", "make", "register",
]


def __getattr__(name: str):
    if name == "Policy":
        from nemogym.policies import Policy

        return Policy
    raise AttributeError(f"module 'nemogym' has no attribute {name!r}")


import nemogym.envs  # noqa: E402,F401  (registers the built-in envs)

load_plugins()
