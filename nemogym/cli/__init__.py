"""The ``nemogym`` command line (typer + rich)."""

from __future__ import annotations

import logging

import typer

from nemogym.cli.envs import check_cmd, info_cmd, list_cmd, new_env_cmd
from nemogym.cli.run import eval_cmd, reverify_cmd, rollout_cmd

app = typer.Typer(help="nemogym: RL environments and verifiers for LLM post-training.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.command("list")(list_cmd)
app.command("info")(info_cmd)
app.command("check")(check_cmd)
app.command("rollout")(rollout_cmd)
app.command("eval")(eval_cmd)
app.command("reverify")(reverify_cmd)
app.command("new-env")(new_env_cmd)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()
