"""How a measurement's load fell on a server's worker processes (issue 20): the share of the
workers' CPU time each used, and the keep-alive connections each held, from /proc (Linux).

A gunicorn worker keeps every connection it accepted for as long as the client keeps it
alive, so the split of wrk's 16 connections decides how the work splits; what a process
served shows in its CPU time. Both are read from the kernel's accounting, not from the
clock, so they mean the same on a loaded machine as on a quiet one.
"""

from __future__ import annotations

import os
from pathlib import Path

#: /proc/net/tcp's state column for an established connection
ESTABLISHED = "01"


def process_tree(root: int) -> dict[int, int]:
    """``root`` and every process below it: pid -> parent pid."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        parents[int(stat.parent.name)] = int(fields[1])
    tree, found = {root}, True
    while found:
        below = {pid for pid, parent in parents.items() if parent in tree} - tree
        found = bool(below)
        tree |= below
    return {pid: parents[pid] for pid in tree if pid in parents}


def workers(root: int) -> list[int]:
    """The gunicorn workers of the master ``root``: its children (for one process, none)."""
    return sorted(pid for pid, parent in process_tree(root).items() if parent == root)


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds each of ``pids`` used so far (those still alive)."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / tick
    return used


def cpu_shares(before: dict[int, float], after: dict[int, float]) -> list[float]:
    """Each worker's share of the CPU time the workers used in between, largest first."""
    spent = {pid: after[pid] - before[pid] for pid in before.keys() & after.keys()}
    total = sum(spent.values())
    if not total:
        return []
    return sorted((value / total for value in spent.values()), reverse=True)


def established_sockets(port: int) -> set[str]:
    """Inodes of the server-side ends of established TCP connections to ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rpartition(":")[2], 16)
            if local_port == port and fields[3] == ESTABLISHED:
                inodes.add(fields[9])
    return inodes


def connections(pids: list[int], port: int) -> list[int]:
    """How many established connections to ``port`` each of ``pids`` holds, largest first."""
    inodes = established_sockets(port)
    counts = []
    for pid in pids:
        held = 0
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    held += 1
        except OSError:
            continue
        counts.append(held)
    return sorted(counts, reverse=True)


def worst_share(shares: list[float]) -> float:
    """The least-loaded worker's share against a fair one (1.0: all alike; 0: one idle)."""
    return min(shares) * len(shares) if shares else 1.0
