"""The tables of bench/run.py and each goal met or not: req/s as the median of the reps with
their min-max, p99 beside every throughput, ratios against Isso paired by repetition."""

from __future__ import annotations

import statistics
from typing import Any

GOALS = {
    "list200": 200.0,  # our req/s / Isso's
    "count5": 2.0,
    "post-guard-on": 2.0,
    "post-guard-off": 2.0,
    "growth-page": 1.2,  # first page latency of the 10,000-comment thread / the 200's, at most
    "growth-counts": 2.0,  # counts of 100 threads / of 5, latency, at most
    "queue-ratio": 1.5,  # first queue page latency at 10^6 / at 10^3, at most
    "rss-mb": 100.0,
}


def summary(records: list[dict[str, Any]], name: str, workload: str) -> dict[str, float] | None:
    """The reps of one target's workload: median req/s with min-max, median p50 and p99,
    median server CPU per request, non-2xx answers over all reps."""
    rows = [r for r in records if r["target"] == name and r["workload"] == workload]
    if not rows:
        return None
    rps = [r["result"]["rps"] for r in rows]
    cpu = [
        1000 * r["server_cpu_s"] / r["result"]["requests"]
        for r in rows
        if r.get("server_cpu_s") is not None and r["result"]["requests"]
    ]
    return {
        "rps": statistics.median(rps),
        "rps_min": min(rps),
        "rps_max": max(rps),
        "p50": statistics.median(r["result"]["latency_us"]["p50"] for r in rows) / 1000,
        "p99": statistics.median(r["result"]["latency_us"]["p99"] for r in rows) / 1000,
        "cpu_ms": statistics.median(cpu) if cpu else float("nan"),
        "reps": len(rows),
        "non2xx": sum(r["result"]["requests"] - r["result"]["status"]["2xx"] for r in rows),
        "5xx": sum(r["result"]["status"].get("5xx", 0) for r in rows),
        "lost": sum(r.get("verify", {}).get("lost_writes", 0) for r in rows),
    }


def rps_cell(found: dict[str, float] | None) -> str:
    """``median (min-max)`` req/s."""
    if not found:
        return "-"
    return f"{found['rps']:.1f} ({found['rps_min']:.0f}-{found['rps_max']:.0f})"


def latency_cell(found: dict[str, float] | None) -> str:
    """``p50 / p99`` ms."""
    return "-" if not found else f"{found['p50']:.1f} / {found['p99']:.1f}"


def paired_ratios(
    records: list[dict[str, Any]], top: tuple[str, str], bottom: tuple[str, str]
) -> list[float]:
    """req/s of ``top`` (target, workload) over ``bottom``'s, one ratio per repetition
    (the harness runs every target once per repetition, so a pair shares its moment)."""

    def by_rep(target: str, workload: str) -> dict[int, float]:
        return {
            r["rep"]: r["result"]["rps"]
            for r in records
            if r["target"] == target and r["workload"] == workload
        }

    upper, lower = by_rep(*top), by_rep(*bottom)
    return [upper[rep] / lower[rep] for rep in sorted(upper) if lower.get(rep)]


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"  # nan: "-"


def ratio_cell(values: list[float]) -> str:
    """``median (min-max)`` of per-repetition ratios."""
    if not values:
        return "-"
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


#: A verdict: what the goal says, and whether it was met.
Verdict = tuple[str, bool]


def report(results: dict[str, Any]) -> str:
    """Every table of ``results`` (what main() gathered), then each goal met or not."""
    verdicts: list[Verdict] = []
    sections = [
        throughput_table(results, verdicts),
        floor_table(results),
        growth_table(results, verdicts),
        queue_table(results, verdicts),
        memory_table(results, verdicts),
    ]
    if results.get("inprocess"):
        sections.append(
            [*heading("CPU and statements per request, in one process"), results["inprocess"]]
        )
        verdicts += [(name, met) for name, met in results.get("inprocess_verdicts", [])]
    if results.get("flags"):
        sections.append([*heading("The server's flags (bench/reads.py)"), results["flags"]])
        verdicts += [(name, met) for name, met in results.get("flags_verdicts", [])]
    sections.append(
        [*heading("Goals"), *(f"- {'met' if met else 'NOT met'}: {name}" for name, met in verdicts)]
    )
    return "\n\n".join("\n".join(lines) for lines in sections)


def heading(title: str) -> list[str]:
    """A section's title and the blank line under it."""
    return [f"## {title}", ""]


def table_head(title: str, prose: list[str], header: str, align: str) -> list[str]:
    """A table's section: its title, what it shows (lines of a paragraph, or none), its
    header and alignment rows."""
    return [*heading(title), *prose, *([""] if prose else []), header, align]


def setups(results: dict[str, Any]) -> list[tuple[list[dict[str, Any]], str, str]]:
    """Per harness setup (SQLite, PostgreSQL): its records, our target's name, its label."""
    return [(setup["records"], setup["ours"], setup["label"]) for setup in results["harness"]]


def throughput_table(results: dict[str, Any], verdicts: list[Verdict]) -> list[str]:
    """Ours against Isso, workload by workload."""
    lines = table_head(
        "Throughput (wrk -t1 -c16)",
        [
            "req/s: median of the reps (min-max); p50 / p99: medians of the reps; ours / Isso: the",
            "median (min-max) of the per-rep ratios (each rep measures both in the same cycle);",
            "CPU: the server processes' CPU per request (not the database's).",
        ],
        "| setup | workload | ours req/s | ours p50 / p99 ms | ours CPU ms/req | Isso req/s | Isso p50 / p99 ms | Isso CPU ms/req | ours / Isso | goal | non-2xx (ours) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    )
    comparisons = [
        ("list200", "list200", "isso", GOALS["list200"]),
        ("list200-page", "list200", "isso", GOALS["list200"]),
        ("count5", "count5", "isso", GOALS["count5"]),
        ("post", "post-guard", "isso-guard", GOALS["post-guard-on"]),
        ("post", "post", "isso", GOALS["post-guard-off"]),
    ]
    for records, name, label in setups(results):
        for ours_id, peer_id, peer_target, goal in comparisons:
            ours = summary(records, name, ours_id)
            peer = summary(records, peer_target, peer_id)
            values = paired_ratios(records, (name, ours_id), (peer_target, peer_id))
            met = bool(values) and statistics.median(values) >= goal
            verdicts.append((f"{label} {ours_id} vs {peer_target} {peer_id} ≥ {goal:g}", met))
            lines.append(
                f"| {label} | {ours_id} vs {peer_target}:{peer_id} | {rps_cell(ours)} | "
                f"{latency_cell(ours)} | {fmt(ours and ours['cpu_ms'])} | {rps_cell(peer)} | "
                f"{latency_cell(peer)} | {fmt(peer and peer['cpu_ms'])} | {ratio_cell(values)} | "
                f"≥ {goal:g} {'met' if met else 'NOT met'} | {ours['non2xx'] if ours else '-'} |"
            )
    return lines


def floor_table(results: dict[str, Any]) -> list[str]:
    """The Flask floor of a post against Isso, and ours against the floor."""
    lines = table_head(
        "Posts: the Flask floor (same run)",
        [
            "bench/floor/app.py under the same gunicorn flags: a Flask + Flask-SQLAlchemy app that",
            "checks presence, finds or creates the thread, INSERTs the comment and COMMITs, with",
            "none of our checks. floor / Isso: the most any Flask service on this database reaches",
            "here against Isso with its guard off; ours / floor: what our checks cost.",
        ],
        "| setup | floor req/s | floor p50 / p99 ms | floor CPU ms/req | floor / Isso | ours / floor |",
        "|---|---:|---:|---:|---:|---:|",
    )
    for records, name, label in setups(results):
        floor_name = name.replace("ours-", "floor-")
        floor = summary(records, floor_name, "post")
        if floor is None:
            continue
        to_isso = paired_ratios(records, (floor_name, "post"), ("isso", "post"))
        ours_to_floor = paired_ratios(records, (name, "post"), (floor_name, "post"))
        lines.append(
            f"| {label} | {rps_cell(floor)} | {latency_cell(floor)} | {fmt(floor['cpu_ms'])} | "
            f"{ratio_cell(to_isso)} | {ratio_cell(ours_to_floor)} |"
        )
    return lines


def growth_table(results: dict[str, Any], verdicts: list[Verdict]) -> list[str]:
    """Ours alone: a long thread's first page against a short one's, 100 counts against 5."""
    lines = table_head(
        "Growth (ours alone, same run)",
        [
            "Latency ratio = the inverse of the req/s ratio at the same concurrency: the first page",
            "of the 10,000-comment thread over the 200's (pages of 50 top-level comments), counts",
            "of 100 threads over counts of 5; median (min-max) of the per-rep ratios.",
        ],
        "| setup | workload | req/s | p50 / p99 ms | CPU ms/req | latency ratio | goal |",
        "|---|---|---:|---:|---:|---:|---|",
    )
    for records, name, label in setups(results):
        for small, large, goal in (
            ("first-page-200", "first-page-10000", GOALS["growth-page"]),
            ("count5", "count100", GOALS["growth-counts"]),
        ):
            # at the same concurrency, latency(large) / latency(small) = req/s(small) / req/s(large)
            values = paired_ratios(records, (name, small), (name, large))
            met = bool(values) and statistics.median(values) <= goal
            verdicts.append((f"{label} {large} / {small} latency ≤ {goal:g}", met))
            for workload in (small, large):
                found = summary(records, name, workload)
                verdict = f"≤ {goal:g} {'met' if met else 'NOT met'}" if workload == large else ""
                lines.append(
                    f"| {label} | {workload} | {rps_cell(found)} | {latency_cell(found)} | "
                    f"{fmt(found and found['cpu_ms'])} | "
                    f"{ratio_cell(values) if workload == large else ''} | {verdict} |"
                )
    return lines


def queue_table(results: dict[str, Any], verdicts: list[Verdict]) -> list[str]:
    """The dashboard's first queue page at each size, and the largest size against the
    smallest."""
    lines = table_head(
        "Dashboard: first queue page",
        [],
        "| setup | comments | req/s | p50 ms | p99 ms | non-2xx |",
        "|---|---:|---:|---:|---:|---:|",
    )
    for row in results.get("queue", []):
        lines.append(
            f"| {row['backend']} ×{row['workers']} | {row['comments']:,} | {row['rps']:.1f} | {row['p50']:.1f} | "
            f"{row['p99']:.1f} | {row['non2xx']} |"
        )
    for backend in {row["backend"] for row in results.get("queue", [])}:
        rows = sorted(
            (r for r in results["queue"] if r["backend"] == backend), key=lambda r: r["comments"]
        )
        if len(rows) >= 2:
            value = rows[-1]["p50"] / rows[0]["p50"]
            met = value <= GOALS["queue-ratio"]
            verdicts.append((f"queue p50 at 10^6 / 10^3 on {backend}: {value:.2f}", met))
            lines.append(
                f"\np50 at {rows[-1]['comments']:,} / at {rows[0]['comments']:,} on {backend}: **{value:.2f}** "
                f"(goal ≤ {GOALS['queue-ratio']:g}: {'met' if met else 'NOT met'})"
            )
    return lines


def memory_table(results: dict[str, Any], verdicts: list[Verdict]) -> list[str]:
    """Resident memory per server process, and the write probe's counts."""
    lines = table_head(
        "Memory and correctness under concurrency",
        [],
        "| setup | RSS per process (MB) | probe requests | statuses | wrong answers | duplicate ids | threads with rows ≠ 2xx |",
        "|---|---|---:|---|---:|---:|---:|",
    )
    for row in results.get("memory", []):
        probe = row["probe"]
        lines.append(
            f"| {row['backend']} ×{row['workers']} | {', '.join(map(str, row['rss_mb']))} | {probe['requests']} | "
            f"{probe['status']} | {probe['wrong_answers']} | {probe['duplicate_ids']} | {probe['threads_rows_ne_2xx']} |"
        )
        verdicts.append(
            (
                f"{row['backend']} RSS ≤ {GOALS['rss-mb']:g} MB",
                max(row["rss_mb"]) <= GOALS["rss-mb"],
            )
        )
        verdicts.append(
            (
                f"{row['backend']} zero wrong answers and 5xx",
                probe["wrong_answers"] == 0
                and not any(code >= 500 for code in map(int, probe["status"])),
            )
        )
    return lines
