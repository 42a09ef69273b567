"""``nemogym rollout``, ``eval`` and ``reverify``."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from nemogym.cli.options import parse_env_args
from nemogym.metrics import compute_metrics, default_ks
from nemogym.policies.base import Sampling
from nemogym.registry import canonical_id, env_info
from nemogym.rollout.records import read_records
from nemogym.rollout.runner import RolloutConfig, RolloutSummary, run_rollouts

console = Console(stderr=True)
# Piped output (CI logs, files) gets a wide table instead of rich's 80-column default.
out_console = Console(width=None if Console().is_terminal else 160)

EnvOpt = Annotated[str | None, typer.Option("--env", help="Environment id, e.g. nemogym/Arithmetic-v0.")]
PolicyOpt = Annotated[str, typer.Option(
    help="A built-in policy (oracle, random, replay:FILE) or the base URL of an "
         "OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1.")]
ModelOpt = Annotated[str | None, typer.Option(help="Model name to request from an HTTP policy.")]
EpisodesOpt = Annotated[int, typer.Option(min=1, help="How many tasks (task indices start..start+N-1).")]
RepeatsOpt = Annotated[int, typer.Option(min=1, help="Samples per task (for pass@k).")]
ConcOpt = Annotated[int, typer.Option(min=1, help="Episodes in flight at once.")]
OutOpt = Annotated[Path | None, typer.Option(help="JSONL file to append episodes to.")]
ResumeOpt = Annotated[bool, typer.Option(help="Skip episodes the --out file already holds.")]
EnvArgOpt = Annotated[list[str] | None, typer.Option("--env-arg", help="KEY=VALUE passed to the env (repeatable).")]
StartOpt = Annotated[int, typer.Option(help="First task index.")]
SeedOpt = Annotated[int, typer.Option(help="Base seed.")]
MaxTurnsOpt = Annotated[int, typer.Option(min=1, help="Runner bound on turns per episode.")]
TemperatureOpt = Annotated[float | None, typer.Option(help="Sampling temperature.")]
MaxTokensOpt = Annotated[int | None, typer.Option(help="Max tokens per generation.")]
TimeoutOpt = Annotated[float | None, typer.Option(help="Per-episode deadline, seconds.")]
ProgressOpt = Annotated[bool, typer.Option(help="Show a progress bar.")]


def _default_out(env_id: str, policy: str) -> Path:
    name = canonical_id(env_id).split("/")[-1]
    tag = "http" if policy.startswith(("http://", "https://")) else policy.split(":")[0]
    return Path("runs") / f"{name}-{tag}-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"


def _run(env: str, policy: str, model: str | None, episodes: int, repeats: int,
         concurrency: int, out: Path | None, resume: bool, env_arg: list[str] | None,
         start: int, seed: int, max_turns: int, temperature: float | None,
         max_tokens: int | None, timeout: float | None, progress: bool) -> RolloutSummary:
    from nemogym.policies.factory import make_policy

    try:
        env_info(env)
    except KeyError as e:
        raise typer.BadParameter(str(e.args[0])) from None
    out = out or _default_out(env, policy)
    if out.exists() and out.stat().st_size and not resume:
        raise typer.BadParameter(f"{out} already exists: add --resume to continue it, or pick another --out")
    cfg = RolloutConfig(env_id=env, episodes=episodes, repeats=repeats, concurrency=concurrency,
                        env_kwargs=parse_env_args(env_arg), start_index=start, base_seed=seed,
                        max_turns=max_turns, episode_timeout_s=timeout, out=out, resume=resume,
                        sampling=Sampling(temperature=temperature, max_tokens=max_tokens))
    try:
        pol = make_policy(policy, model=model, concurrency=concurrency)
    except (ValueError, OSError) as e:  # an unknown spec, a replay file that is not there
        raise typer.BadParameter(str(e), param_hint="'--policy'") from None

    async def go() -> RolloutSummary:
        try:
            with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("masked {task.fields[masked]}"), TimeRemainingColumn(),
                          console=console, transient=True, disable=not progress) as bar:
                task = bar.add_task(canonical_id(env), total=episodes * repeats, masked=0)
                masked = 0

                def tick(rec) -> None:
                    nonlocal masked
                    masked += rec.masked
                    bar.update(task, advance=1, masked=masked)

                done_before = len(read_records(out)) if resume and out.exists() else 0
                bar.update(task, completed=min(done_before, episodes * repeats))
                return await run_rollouts(cfg, pol, on_episode=tick, keep_records=False)
        finally:
            await pol.aclose()

    summary = asyncio.run(go())
    console.print(f"wrote {summary.finished} episode(s) to {out}"
                  + (f" ({summary.skipped} already there)" if summary.skipped else "")
                  + (f", [yellow]{summary.masked} masked[/]" if summary.masked else "")
                  + f" in {summary.elapsed_s:.2f}s")
    return summary


def rollout_cmd(env: EnvOpt = None, policy: PolicyOpt = "oracle", model: ModelOpt = None,
                episodes: EpisodesOpt = 10, repeats: RepeatsOpt = 1, concurrency: ConcOpt = 32,
                out: OutOpt = None, resume: ResumeOpt = False, env_arg: EnvArgOpt = None,
                start: StartOpt = 0,
                seed: SeedOpt = 0,
                max_turns: MaxTurnsOpt = 64,
                temperature: TemperatureOpt = None,
                max_tokens: MaxTokensOpt = None,
                timeout: TimeoutOpt = None,
                progress: ProgressOpt = True) -> None:
    """Play a policy against an environment and append every episode to a JSONL file."""
    if env is None:
        raise typer.BadParameter("--env is required")
    _run(env, policy, model, episodes, repeats, concurrency, out, resume, env_arg, start, seed,
         max_turns, temperature, max_tokens, timeout, progress)


def eval_cmd(env: EnvOpt = None, policy: PolicyOpt = "oracle", model: ModelOpt = None,
             episodes: EpisodesOpt = 50, repeats: RepeatsOpt = 1, concurrency: ConcOpt = 32,
             out: OutOpt = None, resume: ResumeOpt = False, env_arg: EnvArgOpt = None,
             records: Annotated[list[Path] | None, typer.Option(
                 "--records", help="Score existing JSONL file(s) instead of running (repeatable).")] = None,
             json_out: Annotated[Path | None, typer.Option("--json", help="Write the metrics as JSON here.")] = None,
             k: Annotated[list[int] | None, typer.Option("--k", min=1, help="k for pass@k (repeatable).")] = None,
             start: StartOpt = 0,
             seed: SeedOpt = 0,
             max_turns: MaxTurnsOpt = 64,
             temperature: TemperatureOpt = None,
             max_tokens: MaxTokensOpt = None,
             timeout: TimeoutOpt = None,
             progress: ProgressOpt = True) -> None:
    """Roll out and score (mean reward, pass@k, pass^k, maj@k), or score existing JSONL files."""
    from nemogym.cli.render import failures_table, metrics_table

    speed = None
    if records:
        for path in records:
            if not path.is_file():
                raise typer.BadParameter(f"{path} does not exist", param_hint="'--records'")
        recs = [r for path in records for r in read_records(path)]
        reps = max((r.repeat + 1 for r in recs), default=1)
    else:
        if env is None:
            raise typer.BadParameter("give --env to run an evaluation, or --records to score files")
        summary = _run(env, policy, model, episodes, repeats, concurrency, out, resume, env_arg,
                       start, seed, max_turns, temperature, max_tokens, timeout, progress)
        recs = [r for r in read_records(summary.out) if r.env_id == canonical_id(env)]
        reps, speed = repeats, summary.episodes_per_s
    metrics = compute_metrics(recs, ks=k or default_ks(reps))
    out_console.print(metrics_table(metrics, episodes_per_s=speed))
    fails = failures_table(metrics)
    if fails is not None:
        out_console.print(fails)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(metrics.model_dump(mode="json"), indent=2))


def reverify_cmd(src: Annotated[Path, typer.Argument(help="A rollout JSONL file.")],
                 out: Annotated[Path | None, typer.Option(help="Where to write the re-scored records.")] = None) -> None:
    """Re-score stored episodes with today's verifiers (the policy is not called)."""
    from nemogym.cli.render import metrics_table
    from nemogym.rollout.reverify import changed, reverify_file

    if not src.exists():
        raise typer.BadParameter(f"{src} does not exist")
    out = out or src.with_suffix(".reverified.jsonl")
    if out.exists() and out.stat().st_size:
        raise typer.BadParameter(f"{out} already exists; pick another --out")
    old = read_records(src)
    new = asyncio.run(reverify_file(src, out))
    out_console.print(metrics_table(compute_metrics(new, ks=default_ks(max((r.repeat + 1 for r in new), default=1))),
                                    title="re-verified scores"))
    console.print(f"re-scored {len(new)} episode(s) into {out}; {changed(old, new)} changed")
