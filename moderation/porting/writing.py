"""What every export writer shares: where it writes, what personal data it may write, and
the rule that a file is finished only by a block that ends without an exception."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Self, TextIO

from moderation.porting.records import CommentRecord, ThreadRecord


class ExportWriter(ABC):
    """Writes an export to a text stream, thread by thread.

    Emails are written only with ``include_emails``, IP addresses (and user agents, where
    the format has a place for them) only with ``include_addresses``. Use it as a context
    manager: :meth:`close` runs only when the block ends without an exception, so a failed
    export is recognisable as one.
    """

    def __init__(self, out: TextIO, *, include_emails: bool, include_addresses: bool) -> None:
        self._out = out
        self._emails = include_emails
        self._addresses = include_addresses

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        if error is None:
            self.close()

    @abstractmethod
    def write_thread(self, thread: ThreadRecord, comments: Iterable[CommentRecord]) -> None:
        """Write one thread and its comments (give parents before their replies)."""

    @abstractmethod
    def close(self) -> None:
        """Finish the file."""
