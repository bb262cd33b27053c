"""Readers stream: they yield before the file is read, and memory does not grow with it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest

from moderation.porting import CommentRecord, JsonlWriter, WxrWriter, read
from tests.porting_support import synthetic_threads

pytestmark = pytest.mark.any_database


def write_wxr(path: Path, threads: int, per_thread: int) -> Path:
    """A WXR file of ``threads`` times ``per_thread`` comments, written as it is generated."""
    with path.open("w", encoding="utf-8") as out, WxrWriter(out, include_emails=True) as writer:
        for thread, comments in synthetic_threads(threads, per_thread):
            writer.write_thread(thread, comments)
    return path


class CountingReader(io.RawIOBase):
    """A binary file that counts the bytes taken from it."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)
        self.taken = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        self.taken += len(data)
        return len(data)


@pytest.mark.parametrize("fmt", ["wxr", "jsonl"])
def test_the_first_comment_comes_before_the_file_is_read(fmt: str) -> None:
    out = io.StringIO()
    writer_type = WxrWriter if fmt == "wxr" else JsonlWriter
    with writer_type(out) as writer:
        for thread, comments in synthetic_threads(200, 20):
            writer.write_thread(thread, comments)
    data = out.getvalue().encode()
    source = CountingReader(data)
    items = read(fmt, io.BufferedReader(source))
    first = next(item for item in items if isinstance(item, CommentRecord))
    assert first.source_id == "1"
    assert source.taken < len(data) / 4
    items.close()  # type: ignore[attr-defined]


def test_memory_stays_flat_in_one_huge_thread_and_in_many(tmp_path: Path) -> None:
    one_thread = write_wxr(tmp_path / "one.xml", 1, 6_000)
    many = write_wxr(tmp_path / "many.xml", 200, 30)
    for path in (one_thread, many):
        tracemalloc.start()
        try:
            count = sum(1 for item in read("wxr", path) if isinstance(item, CommentRecord))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert count == 6_000
        # A thread's ids (the reply check) are the only thing that grows: ~120 bytes each.
        assert peak < 2_500_000, f"{path.name}: peak {peak:,} bytes"


def test_a_100_000_comment_export_reads_in_little_memory(tmp_path: Path) -> None:
    path = write_wxr(tmp_path / "big.xml", 1000, 100)
    assert path.stat().st_size > 70_000_000
    script = textwrap.dedent(
        """
        import json, re, sys, time
        from pathlib import Path
        from moderation.porting import CommentRecord, read
        def peak_rss():
            # Peak resident memory of this process image (ru_maxrss would count pytest's too:
            # Linux carries it across exec).
            status = Path("/proc/self/status").read_text()
            return int(re.search(r"VmHWM:\\s+(\\d+) kB", status)[1]) * 1024
        imported = peak_rss()  # the interpreter and the package (Flask comes with it)
        start = time.process_time()
        count = sum(1 for item in read("wxr", sys.argv[1]) if isinstance(item, CommentRecord))
        seconds = time.process_time() - start
        print(json.dumps({"comments": count, "rss": peak_rss() - imported, "seconds": seconds}))
        """
    )
    finished = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True
    )
    measured = json.loads(finished.stdout)
    assert measured["comments"] == 100_000
    assert measured["rss"] < 40_000_000, measured  # what reading adds to the import
