"""Hostile-proof, memory-bounded streaming of XML exports (WordPress, Disqus).

Expat (through ``xml.etree``'s C parser) reads the file in 64 KiB chunks; readers take each
chunk's finished elements and clear them, so memory follows the largest record, not the
file. Three guards make hostile files fail fast, with one :class:`ImportFileError`:

* **No DTD at all.** A second, tiny expat parser reads the same bytes up to the first
  element and refuses any ``<!DOCTYPE``. Without a DTD there are no entity declarations,
  so no billion laughs, no quadratic blow-up and no external entities (XXE); an undeclared
  ``&entity;`` is a well-formedness error. WordPress's own importer refuses DTDs too.
  (``defusedxml`` does the same job but runs expat's callbacks in Python: 2.3 times slower
  here.)
* **Records of bounded size.** Readers :meth:`XmlStream.mark` each record they finish; if
  32 MiB or a million elements pass without one, the file is refused (deep nesting, floods
  of elements, a text of hundreds of megabytes), so memory stays within about 100 MB
  whatever the file holds. A 10 MB comment still parses, and is refused as a record.
* **Readable errors.** Syntax errors carry expat's line and column, bytes that are not
  UTF-8 their offset, a file cut short says so; all name the last record read.
"""

from __future__ import annotations

import pyexpat
import re
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, NoReturn, cast

from moderation.porting.records import ImportFileError

_Event = tuple[str, ET.Element]
if TYPE_CHECKING:
    _Parser = ET.XMLPullParser[ET.Element]
_CHUNK_BYTES = 1 << 16
#: How far a file may go without finishing a record before it is refused: in bytes (the
#: longest legitimate comment is under 0.4 MiB) and in parser events (elements started or
#: ended; a comment has about 30).
MAX_RECORD_BYTES = 32 << 20
MAX_RECORD_EVENTS = 1_000_000
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)""")
_INVALID_TOKEN = 4
_NO_ELEMENTS = 3
_UNCLOSED_TOKEN = 5


class _PrologGuard:
    """Reads the bytes before the first element and refuses a document type declaration."""

    class _Done(Exception):
        """The first element has started: nothing more to guard."""

    def __init__(self) -> None:
        self._parser = pyexpat.ParserCreate()
        self._parser.StartDoctypeDeclHandler = self._refuse_doctype
        self._parser.EntityDeclHandler = self._refuse_entity
        self._parser.StartElementHandler = self._first_element

    def _refuse_doctype(self, name: str, *_ignored: object) -> NoReturn:
        raise ImportFileError(
            f"The file declares a document type (<!DOCTYPE {name} ...>, line "
            f"{self._parser.CurrentLineNumber}). Exports never do, and a DTD can hide entity "
            "expansions (billion laughs) or references to other files (XXE): refused."
        )

    def _refuse_entity(self, name: str, *_ignored: object) -> NoReturn:
        raise ImportFileError(f"The file declares an entity ({name}): refused.")

    def _first_element(self, *_ignored: object) -> NoReturn:
        raise self._Done

    def passed(self, chunk: bytes) -> bool:
        """Whether the prolog is over (True) or more bytes are needed (False)."""
        try:
            self._parser.Parse(chunk, False)
        except self._Done:
            return True
        except pyexpat.ExpatError as error:
            raise ImportFileError(
                f"The file does not start as XML (line {error.lineno}, column "
                f"{error.offset}: {pyexpat.ErrorString(error.code)})."
            ) from None
        return False


class XmlStream:
    """One pass over an XML export; :meth:`batches` gives its elements as they end."""

    def __init__(self, stream: IO[bytes], *, what: str) -> None:
        self._stream = stream
        self._what = what
        self._offset = 0
        self._unmarked_bytes = 0
        self._unmarked_events = 0
        self._marked = False
        self._utf8 = True
        #: Set by readers: how the last good record is named in error messages.
        self.last_record = ""

    def mark(self) -> None:
        """A record is finished: the size guard starts over."""
        self._marked = True

    def batches(self) -> Iterator[list[_Event]]:
        """For each chunk read, the ``("start" | "end", element)`` events it produced.

        Start events let readers hold the parent of their records, and drop each record
        from it once read: cleared elements left in place would cost 80 bytes each.

        The events are taken from the pull parser's queue in one go: its public
        ``read_events`` is a Python generator, and stepping it cost a quarter of the
        reading time.
        """
        parser: _Parser = ET.XMLPullParser(events=("start", "end"))
        queue: deque[object] | None = getattr(parser, "_events_queue", None)
        guard: _PrologGuard | None = _PrologGuard()
        read = self._stream.read
        while chunk := read(_CHUNK_BYTES):
            if guard is not None:
                if self._offset == 0:
                    declared = _DECLARED_ENCODING.match(chunk.removeprefix(b"\xef\xbb\xbf"))
                    self._utf8 = not chunk.startswith((b"\xff\xfe", b"\xfe\xff")) and (
                        declared is None or declared[1].lower() in (b"utf-8", b"utf8")
                    )
                if guard.passed(chunk):
                    guard = None
            parser.feed(chunk)
            yield from self._events(parser, queue, chunk)
            self._offset += len(chunk)
            self._check_size(len(chunk))
        if guard is not None and self._offset == 0:
            raise ImportFileError(f"The file is empty: not a {self._what}.")
        try:
            parser.close()
        except ET.ParseError as error:
            yield from self._events(parser, queue, b"")
            self._fail(error, b"")
        yield from self._events(parser, queue, b"")

    def _events(
        self, parser: _Parser, queue: deque[object] | None, chunk: bytes
    ) -> Iterator[list[_Event]]:
        """The events waiting in ``parser``, then the syntax error that ended them, if any."""
        if queue is None:  # another Python's parser: the slower, public way
            events: list[object] = []
            try:
                events.extend(parser.read_events())
            except ET.ParseError as error:
                events.append(error)
        else:
            events = list(queue)
            queue.clear()
        failure = events.pop() if events and isinstance(events[-1], ET.ParseError) else None
        self._unmarked_events += len(events)
        if events:
            yield cast("list[_Event]", events)
        if isinstance(failure, ET.ParseError):
            self._fail(failure, chunk)

    def _check_size(self, size: int) -> None:
        """Refuse the file when no record has finished for too long."""
        if self._marked:
            self._marked = False
            self._unmarked_bytes = self._unmarked_events = 0
            return
        self._unmarked_bytes += size
        if self._unmarked_bytes > MAX_RECORD_BYTES or self._unmarked_events > MAX_RECORD_EVENTS:
            raise ImportFileError(
                f"No record ends in the {MAX_RECORD_BYTES >> 20} MiB or "
                f"{MAX_RECORD_EVENTS:,} elements before byte {self._offset:,}{self._after()}: "
                f"this is not a {self._what}, or it is built to exhaust memory. Refused."
            )

    def _fail(self, error: ET.ParseError, chunk: bytes) -> NoReturn:
        """Turn expat's error into a sentence that says where and, when it can, why."""
        line, column = error.position
        code = getattr(error, "code", 0)
        if code == _INVALID_TOKEN and self._utf8:
            bad = _first_bad_utf8(chunk)
            if bad is not None:
                raise ImportFileError(
                    f"Bytes that are not UTF-8 at byte {self._offset + bad:,} (line {line})"
                    f"{self._after()}. The file says it is UTF-8; convert it "
                    "(e.g. iconv -f windows-1252 -t utf-8) and import again."
                ) from None
        if code in (_NO_ELEMENTS, _UNCLOSED_TOKEN) and not chunk:
            raise ImportFileError(
                f"The file ends in the middle of the XML (line {line}){self._after()}: "
                "it was cut short. Export it again."
            ) from None
        message = pyexpat.ErrorString(code) if code else str(error)
        raise ImportFileError(
            f"Unreadable XML at line {line}, column {column}{self._after()}: {message}."
        ) from None

    def _after(self) -> str:
        """``", after comment 12"`` when a record has been read."""
        return f", after {self.last_record}" if self.last_record else ""


def _first_bad_utf8(chunk: bytes) -> int | None:
    """The offset in ``chunk`` of its first byte that is not UTF-8, if any (a character
    cut by the chunk's end does not count)."""
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.reason == "unexpected end of data":
            return None
        return error.start
    return None


def drop(parent: ET.Element | None, element: ET.Element) -> None:
    """Free ``element``, which has ended, by taking it out of ``parent``.

    Events come in batches after the parser has gone on, so ``element`` is not the last
    child; but readers drop every record in order, so it is usually the first, and at worst
    a few metadata elements precede it. Emptied in place when it is not there at all.
    """
    if parent is not None and len(parent):
        if parent[0] is element:
            del parent[0]
            return
        try:
            parent.remove(element)
        except ValueError:
            pass
        else:
            return
    element.clear()
