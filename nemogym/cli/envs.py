"""``nemogym list``, ``info``, ``check`` and ``new-env``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from nemogym.cli.options import parse_env_args
from nemogym.registry import env_info, list_envs, make

console = Console(width=None if Console().is_terminal else 160)


def list_cmd(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List every registered environment (built-in and plugins)."""
    from nemogym.cli.render import envs_table

    envs = list_envs()
    if as_json:
        print(json.dumps([e.model_dump() for e in envs], indent=2))
    else:
        console.print(envs_table(envs))


def info_cmd(env: Annotated[str, typer.Argument(help="Environment id, e.g. nemogym/Arithmetic-v0.")]) -> None:
    """Show an environment's metadata and an example first observation."""
    try:
        info = env_info(env)
    except KeyError as e:
        raise typer.BadParameter(str(e.args[0])) from None
    lines = [f"[bold]{k}[/]: {escape(str(v))}" for k, v in info.model_dump().items() if v not in (None, {}, "")]
    try:
        e = make(info.id)
        obs, _ = e.reset(seed=0)
        lines.append("[bold]example (seed 0)[/]:")
        lines += [escape(f"  [{m['role']}] {str(m.get('content'))[:300]}") for m in obs["messages"]]
        if obs["tools"]:
            lines.append("  tools: " + ", ".join(t["function"]["name"] for t in obs["tools"]))
    except Exception as ex:  # noqa: BLE001 - info still shows the metadata
        lines.append(f"[red]could not build an example: {type(ex).__name__}: {ex}[/]")
    console.print(Panel("\n".join(lines), title=info.id))


def check_cmd(
    env: Annotated[str, typer.Argument(help="Environment id.")],
    tasks: Annotated[int, typer.Option(help="How many tasks' reference solutions to check.")] = 5,
    env_arg: Annotated[list[str] | None, typer.Option("--env-arg", help="KEY=VALUE passed to the env (repeatable).")] = None,
) -> None:
    """Check an environment: Gymnasium's checker, determinism, references, garbage, fixtures."""
    from nemogym.checker import check
    from nemogym.cli.render import check_table

    try:
        report = check(env, tasks=tasks, env_kwargs=parse_env_args(env_arg))
    except KeyError as e:
        raise typer.BadParameter(str(e.args[0])) from None
    console.print(check_table(report))
    if not report.ok:
        raise typer.Exit(1)


def new_env_cmd(
    name: Annotated[str, typer.Argument(help="Name of the new env, e.g. Refunds.")],
    kind: Annotated[str, typer.Option(help="single-turn or tools.")] = "single-turn",
    dest: Annotated[Path, typer.Option(help="Folder to create the package in.")] = Path("."),
) -> None:
    """Scaffold an env package that passes `nemogym check` and its own tests as generated."""
    from nemogym.scaffold import new_env

    if kind not in ("single-turn", "tools"):
        raise typer.BadParameter("--kind must be single-turn or tools")
    try:
        created = new_env(name, kind, dest)  # type: ignore[arg-type]
    except (ValueError, FileExistsError) as e:  # a bad or taken name, an existing folder
        raise typer.BadParameter(str(e), param_hint="'NAME'") from None
    for p in created:
        console.print(f"created {p}")
