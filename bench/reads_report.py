"""The tables of bench/reads.py: per config and workload the medians of the reps with
their spread, and how the default flags compare with the best (issue 20: within 10 %)."""

from __future__ import annotations

import statistics
from typing import Any


def processes(config: str) -> int:
    """W of a ``WxT`` config."""
    return int(config.split("x")[0]) if "x" in config and not config.startswith("ref") else 0


def medians_of(rows: list[dict[str, Any]]) -> dict[str, dict[tuple[str, str], Any]]:
    """Per (config, workload): the runs, and the medians of req/s, p99 and CPU per request."""
    by: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        by.setdefault((row["config"], row["workload"]), []).append(row)
    return {
        "runs": by,
        "rps": {key: statistics.median(r["rps"] for r in runs) for key, runs in by.items()},
        "p99": {
            key: statistics.median(r["latency_us"]["p99"] for r in runs) / 1000
            for key, runs in by.items()
        },
        "cpu": {
            key: statistics.median(r["server_cpu_us"] for r in runs) for key, runs in by.items()
        },
    }


def spread(runs: list[dict[str, Any]], value: Any, scale: float = 1, digits: int = 0) -> str:
    values = [value(r) / scale for r in runs]
    return f"{min(values):.{digits}f}-{max(values):.{digits}f}"


def worst_share(run: dict[str, Any]) -> float | None:
    """The least-loaded worker's share of the workers' CPU against a fair share (1.0: all
    alike, 0: one idle); None for one process or a run from before the shares were kept."""
    shares = run.get("worker_cpu_shares") or []
    return min(shares) * len(shares) if len(shares) > 1 else None


def process_shares(runs: list[dict[str, Any]]) -> str:
    """The worst process's share: median of the reps (min-max)."""
    values = [v for v in map(worst_share, runs) if v is not None]
    if not values:
        return ""
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def most_uneven(runs: list[dict[str, Any]]) -> str:
    """The most uneven split of the connections over the processes among the reps (held
    half-way through a run; sync workers close each connection after its answer)."""
    splits = [r["worker_connections"] for r in runs if len(r.get("worker_connections", [])) > 1]
    if not splits:
        return ""
    worst = min(splits, key=lambda split: min(split) / max(sum(split), 1))
    return "/".join(map(str, worst))


def median_of(runs: list[dict[str, Any]], key: str, scale: float = 1) -> str:
    """The median of a value the runs kept (none from before it was kept: blank)."""
    values = [r[key] * scale for r in runs if key in r]
    return f"{statistics.median(values):.0f}" if values else ""


def table(rows: list[dict[str, Any]], workloads: list[str], default: str) -> list[str]:
    """One line per config and workload: medians of the reps with their min-max."""
    m = medians_of(rows)
    configs = list(dict.fromkeys(row["config"] for row in rows))
    lines = [
        "| workload | config | req/s median | min-max | of best ours | of ceiling "
        "| p99 ms median (min-max) | server CPU µs/req median (min-max) | non-2xx "
        "| worst process's share median (min-max) | most uneven connections "
        "| wrk CPU µs/req | machine idle % |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for workload in workloads:
        ours = [c for c in configs if processes(c) and (c, workload) in m["rps"]]
        best = max((m["rps"][(c, workload)] for c in ours), default=0)
        ceiling = m["rps"].get(("ref", workload))
        for config in configs:
            runs = m["runs"].get((config, workload))
            if not runs:
                continue
            median = m["rps"][(config, workload)]
            share = f"{median / best:.2f}" if processes(config) and best else ""
            of_ceiling = f"{median / ceiling:.2f}" if ceiling else ""
            non2xx = sum(r["requests"] - r["status"]["2xx"] for r in runs)
            name = f"**{config}** (default)" if config == default else config
            p99 = spread(runs, lambda r: r["latency_us"]["p99"], 1000, 1)
            cpu = spread(runs, lambda r: r["server_cpu_us"])
            lines.append(
                f"| {workload} | {name} | {median:.0f} | {spread(runs, lambda r: r['rps'])} | "
                f"{share} | {of_ceiling} | {m['p99'][(config, workload)]:.1f} ({p99}) | "
                f"{m['cpu'][(config, workload)]:.0f} ({cpu}) | {non2xx} | "
                f"{process_shares(runs)} | {most_uneven(runs)} | "
                f"{median_of(runs, 'wrk_cpu_us')} | {median_of(runs, 'machine_idle', 100)} |"
            )
    return lines


def paired_ratios(mine: list[dict[str, Any]], other: list[dict[str, Any]]) -> list[float]:
    """req/s of ``mine`` over ``other`` in each rep both were measured in: drift between
    reps (outside load, the machine warming) falls on both alike."""
    theirs = {run["rep"]: run["rps"] for run in other if "rep" in run}
    return [run["rps"] / theirs[run["rep"]] for run in mine if theirs.get(run.get("rep"))]


def recommendation(
    rows: list[dict[str, Any]], workloads: list[str], default: str, one_process: str, cores: int
) -> list[str]:
    """Per workload: the default against the best config by req/s (the goal: within 10 %)
    and by CPU per request among configs with a process per core (what a quieter machine
    would turn into req/s); then the config whose worst share of the best is highest, posts
    included, and the goals of issue 20 that need the ceiling or one process."""
    m = medians_of(rows)
    configs = list(dict.fromkeys(row["config"] for row in rows if processes(row["config"])))
    lines = [f"Default flags: {default} (`moderation serve` with no flags, {cores} cores)."]
    if default not in configs:
        lines = ["The default flags were not measured in this run (`--configs default,...`)."]
    shares: dict[str, dict[str, float]] = {config: {} for config in configs}
    for workload in workloads:
        measured = [c for c in configs if (c, workload) in m["rps"]]
        if not measured:
            continue
        best = max(measured, key=lambda c: m["rps"][(c, workload)])
        for config in measured:
            shares[config][workload] = m["rps"][(config, workload)] / m["rps"][(best, workload)]
        if default not in measured:
            continue
        mine = shares[default][workload]
        text = (
            f"- {workload}: default {m['rps'][(default, workload)]:.0f} req/s, best {best} "
            f"{m['rps'][(best, workload)]:.0f}: {mine:.2f}, default within 10 % of best: "
            f"**{'met' if mine >= 0.9 else 'not met'}**"
        )
        if best != default:
            paired = paired_ratios(m["runs"][(default, workload)], m["runs"][(best, workload)])
            if paired:
                text += (
                    f"; rep by rep (the two measured in the same minute): median "
                    f"{statistics.median(paired):.2f} ({min(paired):.2f}-{max(paired):.2f})"
                )
        full = [c for c in measured if processes(c) >= cores]
        if default in full:
            lean = min(full, key=lambda c: m["cpu"][(c, workload)])
            by_cpu = m["cpu"][(lean, workload)] / m["cpu"][(default, workload)]
            text += (
                f"; by server CPU per request ({cores}+ processes): default "
                f"{m['cpu'][(default, workload)]:.0f} µs, lowest {lean} "
                f"{m['cpu'][(lean, workload)]:.0f} µs: {by_cpu:.2f}, "
                f"{'met' if by_cpu >= 0.9 else 'not met'}"
            )
        single = m["rps"].get((one_process, workload))
        if single and one_process != default:
            text += f"; default/{one_process} {m['rps'][(default, workload)] / single:.2f}x (goal >= 1.7)"
        ceiling = m["rps"].get(("ref", workload))
        if ceiling:
            text += f"; of ceiling {m['rps'][(default, workload)] / ceiling:.2f} (goal >= 0.80)"
        lines.append(text)
    most = max((len(s) for s in shares.values()), default=0)
    complete = {c: s for c, s in shares.items() if most and len(s) == most}
    if complete:
        pick = max(complete, key=lambda c: min(complete[c].values()))
        for config in dict.fromkeys([pick, default] if default in complete else [pick]):
            worst = min(complete[config].values())
            each = ", ".join(f"{w} {v:.2f}" for w, v in complete[config].items())
            lines.append(f"- worst share of best, {config}: {worst:.2f} ({each})")
        verdict = f"Recommendation: {pick} is the config whose worst share of the best is highest"
        if default in complete:
            verdict += "; the default is it" if pick == default else f"; the default is {default}"
        lines.append(verdict + ".")
    return lines
