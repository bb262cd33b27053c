"""Opening what a reader is given: a path or an open binary file, gzip-compressed or not."""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Protocol

from moderation.porting.records import ImportFileError

#: A path, or a file opened for reading bytes.
Source = str | os.PathLike[str] | IO[bytes]

_GZIP_MAGIC = b"\x1f\x8b"


@contextmanager
def open_source(source: Source) -> Iterator[IO[bytes]]:
    """The bytes of ``source``, decompressed when gzip (Remark42 backups are ``.gz``).

    A path is opened and closed here; a file object is left open for its owner.
    """
    if isinstance(source, str | os.PathLike):
        try:
            raw: IO[bytes] = open(source, "rb")  # noqa: SIM115 - closed below
        except OSError as error:
            raise ImportFileError(f"Cannot open {os.fspath(source)}: {error.strerror}.") from None
        with raw:
            yield _maybe_gunzip(raw)
    else:
        yield _maybe_gunzip(source)


def _maybe_gunzip(raw: IO[bytes]) -> IO[bytes]:
    """``raw``, or a decompressing view of it when it starts like gzip."""
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(_Raw(raw))
    if buffered.peek(2)[:2] == _GZIP_MAGIC:
        return io.BufferedReader(_Raw(gzip.GzipFile(fileobj=buffered, mode="rb")), 1 << 16)
    return buffered


class _Readable(Protocol):
    """Anything with a binary ``read``."""

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes."""
        ...


class _Raw(io.RawIOBase):
    """Any readable binary file as a raw stream, so that it can be buffered and peeked."""

    def __init__(self, inner: _Readable) -> None:
        self._inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(buffer))
        except (OSError, EOFError, zlib.error) as error:
            raise ImportFileError(f"The compressed file is damaged: {error}.") from None
        buffer[: len(data)] = data
        return len(data)
