"""Where bench/run.py and its parts run: the folders, our service's port and address, the
shared harness, the thread lists of the workloads, and the one way they run a command."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = Path(os.environ.get("BENCH_SHARED", ROOT.parent / "shared" / "bench")).resolve()
WORK = Path(os.environ.setdefault("BENCH_WORK", "/tmp/moderation-bench"))
os.environ.setdefault("BENCH_SHARED_WRK", str(SHARED / "wrk") + "/")
PORT = int(os.environ.get("OURS_PORT", "8084"))
BASE = f"http://127.0.0.1:{PORT}"
# GET without copying each body into Lua: the shared get.lua's status counting made the
# client, not the server, the limit for 100-200 KB answers
LEAN_GET = str(HERE / "wrk" / "get_lean.lua")
THREADS5 = "&".join(f"thread=%2Fbench%2Fpost-{n}" for n in range(1, 6))
THREADS100 = "&".join(f"thread=%2Fbench%2Fcount-{n}" for n in range(100))


def log(message: str) -> None:
    """``message`` on stderr with the time of day."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def sh(command: list[str] | str, timeout: float = 1800, env: dict[str, str] | None = None) -> str:
    """Run ``command`` (a shell line when a string), logged; its stdout, or exit with its
    output when it fails."""
    log("$ " + (command if isinstance(command, str) else " ".join(command)))
    result = subprocess.run(
        command,
        shell=isinstance(command, str),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(
            f"command failed ({result.returncode}): {command}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
    return result.stdout
