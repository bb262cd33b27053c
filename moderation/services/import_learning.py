"""What a batch of imported comments teaches the spam classifier, worked out beside the import.

Extracting a comment's features costs more than everything else an import does to it; an
import of many batches hands that work to one helper process (:class:`FeatureWorker`) while
it reads, cleans and stores the next batch, and writes each batch's lessons in that batch's
transaction. The helper is given nothing but the comments' cleaned fields and the feature
key, and gives back what :func:`moderation.domain.spam.batch.lessons` gives in-process: the
same features, the same counts.
"""

from __future__ import annotations

import contextlib
import pickle
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import IO

import moderation
from moderation.domain.spam.batch import Lesson, Lessons, amended, lessons

__all__ = ["FeatureWorker", "Lesson", "Lessons", "amended", "lessons"]


class FeatureWorker:
    """One helper process that works out batches' lessons while the import goes on.

    A new interpreter running :func:`moderation.domain.spam.batch.serve`, not a fork: the
    importing process holds database connections, and maybe threads, that a fork would
    carry into it; and not :mod:`multiprocessing`'s spawn, which runs the calling
    program's main module again. Batches go to it as pickles on its standard input and
    their lessons come back in order on its standard output (a thread reads them as
    they come, so neither side ever waits on a full pipe).
    """

    def __init__(self, key: bytes) -> None:
        self._process = subprocess.Popen(  # noqa: S603 (this interpreter, this module)
            [sys.executable, "-c", _HELPER, str(Path(moderation.__file__).parent)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._input = self._process.stdin
        self._pending: deque[Future[Lessons]] = deque()
        self._lock = threading.Lock()
        self._reader = threading.Thread(
            target=self._read, args=(self._process.stdout,), daemon=True
        )
        self._reader.start()
        self._send(key)

    def submit(self, site_id: int, batch: Sequence[Lesson]) -> Future[Lessons]:
        """Start working out ``batch``'s lessons; the answer comes with ``.result()``."""
        future: Future[Lessons] = Future()
        with self._lock:
            self._pending.append(future)
        try:
            self._send((site_id, list(batch)))
        except OSError as error:  # the helper is gone: the caller does the work itself
            future.set_exception(error)
        return future

    def close(self) -> None:
        """Stop the helper (work not collected is dropped)."""
        with contextlib.suppress(OSError):
            self._input.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._reader.join(timeout=5)
        assert self._process.stdout is not None
        self._process.stdout.close()

    def _send(self, value: object) -> None:
        pickle.dump(value, self._input, protocol=pickle.HIGHEST_PROTOCOL)
        self._input.flush()

    def _read(self, output: IO[bytes]) -> None:
        """The helper's answers, in the order the batches went."""
        while True:
            try:
                answer = pickle.load(output)  # noqa: S301 (our own helper's answers)
            except Exception as error:  # ended or broken: every batch left fails
                failure: BaseException = error
                break
            with self._lock:
                future = self._pending.popleft()
            future.set_result(answer)
        with self._lock:
            while self._pending:
                self._pending.popleft().set_exception(failure)


#: The helper's program: the ``moderation`` package stands in as a bare namespace, so
#: that only the pure modules the features need are imported (not the application's
#: ``__init__``, Flask and the rest: the helper stays under 30 MiB instead of near 100).
_HELPER = """import sys, types
package = types.ModuleType("moderation")
package.__path__ = [sys.argv[1]]
sys.modules["moderation"] = package
from moderation.domain.spam.batch import serve
serve(sys.stdin.buffer, sys.stdout.buffer)
"""
