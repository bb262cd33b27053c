"""How fast the porting readers parse, and how much memory they take: one process per file.

    python bench/gen_import_files.py 100000 --out /tmp/import-files
    python bench/porting_speed.py /tmp/import-files

Reads every file that ``gen_import_files.py`` writes with the matching reader (records are
built and counted, nothing is stored) and prints records per second (CPU time, so that a
busy machine does not skew it) and the peak resident memory of the reading process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

FILES = {
    "comments.wxr": "wxr",
    "disqus.xml": "disqus",
    "isso.db": "isso",
    "remark42.jsonl.gz": "remark42",
    "comments.jsonl": "jsonl",
}

_MEASURE = """
import json, re, sys, time
from pathlib import Path
from moderation.porting import CommentRecord, Refusal, ThreadRecord, read
counts = {"threads": 0, "comments": 0, "refused": 0}
started, cpu = time.perf_counter(), time.process_time()
for item in read(sys.argv[1], sys.argv[2]):
    if isinstance(item, CommentRecord):
        counts["comments"] += 1
    elif isinstance(item, ThreadRecord):
        counts["threads"] += 1
    else:
        counts["refused"] += 1
counts["cpu"] = time.process_time() - cpu
counts["wall"] = time.perf_counter() - started
status = Path("/proc/self/status").read_text()
counts["peak_rss"] = int(re.search(r"VmHWM:\\s+(\\d+) kB", status)[1]) * 1024
print(json.dumps(counts))
"""


def measure(fmt: str, path: Path) -> dict[str, float]:
    """Read ``path`` as ``fmt`` in a fresh process; its counts, times and peak memory."""
    finished = subprocess.run(
        [sys.executable, "-c", _MEASURE, fmt, str(path)], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(finished.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="where gen_import_files.py wrote")
    args = parser.parse_args()
    print("| format | comments | refused | CPU s | comments/s (CPU) | wall s | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, fmt in FILES.items():
        path = args.folder / name
        if not path.exists():
            continue
        got = measure(fmt, path)
        print(
            f"| {fmt} | {got['comments']:,} | {got['refused']:,} | {got['cpu']:.1f} | "
            f"{got['comments'] / got['cpu']:,.0f} | {got['wall']:.1f} | "
            f"{got['peak_rss'] / 2**20:.0f} MiB |",
            flush=True,
        )


if __name__ == "__main__":
    main()
