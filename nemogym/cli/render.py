"""Rich tables for the CLI: env lists, metrics, check reports."""

from __future__ import annotations

from rich.table import Table

from nemogym.checker import CheckReport
from nemogym.metrics import GroupMetrics, Metrics
from nemogym.registry import EnvInfo


def envs_table(envs: list[EnvInfo]) -> Table:
    t = Table(title=f"nemogym environments ({len(envs)})")
    for col in ("id", "domain", "turns", "tools", "data", "description"):
        t.add_column(col, overflow="fold")
    for e in envs:
        t.add_row(e.id, e.domain, "multi" if e.multi_turn else "single",
                  "yes" if e.uses_tools else "no", e.data_source, e.description)
    return t


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def metrics_table(m: Metrics, title: str = "scores", episodes_per_s: float | None = None) -> Table:
    ks = sorted({k for g in m.envs.values() for k in g.pass_at_k})
    t = Table(title=title)
    t.add_column("env", no_wrap=True)
    for col in ("episodes", "masked", "mean reward", "± stderr"):
        t.add_column(col, justify="right")
    for k in ks:
        t.add_column(f"pass@{k}", justify="right")
    if any(k > 1 for k in ks):
        t.add_column(f"pass^{max(ks)}", justify="right")
    maj_ks = sorted({k for g in m.envs.values() for k in g.majority_at_k if k > 1})
    if maj_ks:
        t.add_column(f"maj@{max(maj_ks)}", justify="right")

    def row(name: str, g: GroupMetrics) -> list[str]:
        cells = [name, str(g.episodes), str(g.masked), _fmt(g.mean_reward), _fmt(g.stderr)]
        cells += [_fmt(g.pass_at_k.get(k)) for k in ks]
        if any(k > 1 for k in ks):
            cells.append(_fmt(g.pass_hat_k.get(max(ks))))
        if maj_ks:
            cells.append(_fmt(g.majority_at_k.get(max(maj_ks))))
        return cells

    for env_id, g in m.envs.items():
        t.add_row(*row(env_id, g))
        for sub, sg in m.subsets.get(env_id, {}).items():
            t.add_row(*row(f"  └ {sub}", sg))
    if episodes_per_s is not None:
        t.caption = f"{episodes_per_s:,.0f} episodes/s"
    return t


def failures_table(m: Metrics) -> Table | None:
    rows = [(env, reason, n) for env, g in m.envs.items() for reason, n in g.failures.items()]
    if not rows:
        return None
    t = Table(title="masked episodes (infrastructure failures, left out of the scores)")
    for col in ("env", "reason", "count"):
        t.add_column(col)
    for env, reason, n in sorted(rows, key=lambda r: -r[2])[:10]:
        t.add_row(env, reason, str(n))
    return t


def check_table(report: CheckReport) -> Table:
    t = Table(title=f"nemogym check {report.env_id}")
    t.add_column("check")
    t.add_column("result")
    t.add_column("detail", overflow="fold")
    for r in report.results:
        t.add_row(r.name, "[green]pass[/]" if r.ok else "[red]FAIL[/]", r.detail)
    return t
