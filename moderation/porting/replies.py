"""Parents before replies, whatever order the file has, and loops in the tree found, not followed.

Readers pass their records through :func:`order_replies`. A comment whose parent has been
yielded goes out at once; one whose parent has not waits for it. When the parent never
comes (at the end of the thread for sources that group comments by thread, else at the end
of the file), what still waits is sorted out without ever walking a loop twice:

* a reply whose parent is not in the file, or was refused, is kept as a top-level comment
  with a note (a person's words are not dropped because of a missing parent);
* comments whose parents form a loop (``a`` answers ``b``, ``b`` answers ``a``, or a
  comment answers itself) are refused as ``reply cycle``; replies hanging from the loop are
  kept as top-level comments with a note;
* an id seen a second time is refused as ``duplicate id`` (the first is kept);
* a reply to a comment on another page is kept as a top-level comment with a note;
* when the file turns out unreadable part way, replies still waiting are not yielded (their
  parents may be in the part not read) and the error says how many.

Memory: the ids yielded so far in the current scope (the thread, or the whole file), and
the comments still waiting for a parent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from moderation.porting.records import (
    CommentRecord,
    ImportFileError,
    Item,
    Refusal,
    RefusalReason,
    ThreadRecord,
)


def order_replies(items: Iterable[Item], *, grouped: bool) -> Iterator[Item]:
    """``items`` with every reply after its parent, loops refused and orphans kept on top.

    ``grouped``: the source lists each thread's comments together after its thread record
    (WordPress, Isso, our JSONL), so waiting comments are settled at each new thread and
    memory stays bounded by the largest thread.
    """
    tree = _Tree()
    try:
        for item in items:
            if isinstance(item, CommentRecord):
                yield from tree.add(item)
            elif isinstance(item, ThreadRecord):
                if grouped:
                    yield from tree.settle()
                    tree = _Tree()
                yield item
            else:
                tree.refused.add(item.source_id or "")
                yield item
    except ImportFileError as error:
        if not tree.held:
            raise
        # Their parents may be in the part not read: not yielded, so that a re-run of the
        # repaired file imports them in their place; but counted, so none goes unnoticed.
        raise ImportFileError(
            f"{error} {len(tree.held):,} replies read before that point wait for parents "
            "further on; they were not imported either."
        ) from None
    yield from tree.settle()


class _Tree:
    """The replies of one scope: what has gone out, and what waits for which parent."""

    __slots__ = ("held", "refused", "released", "waiting")

    def __init__(self) -> None:
        self.released: dict[str, str] = {}
        self.waiting: dict[str, list[CommentRecord]] = {}
        self.held: set[str] = set()
        self.refused: set[str] = set()

    def add(self, comment: CommentRecord) -> Iterator[Item]:
        """Yield ``comment`` (and whatever waited for it) now, or keep it until its parent."""
        own_id = comment.source_id
        if own_id in self.released or own_id in self.held:
            yield Refusal(
                source_id=own_id,
                reason=RefusalReason.DUPLICATE_ID,
                detail=f"id {own_id} appears more than once; the first one is kept",
                thread_key=comment.thread.key,
            )
            return
        parent = comment.parent_source_id
        if parent is None:
            yield from self._release(comment)
        elif parent == own_id:
            self.refused.add(own_id)
            yield _cycle_refusal(comment, "the comment answers itself")
        elif parent in self.released:
            yield from self._release(comment)
        else:
            self.waiting.setdefault(parent, []).append(comment)
            self.held.add(own_id)

    def _release(self, comment: CommentRecord) -> Iterator[Item]:
        """Yield ``comment`` and, depth first, every reply that waited for it."""
        stack = [comment]
        while stack:
            current = stack.pop()
            parent = current.parent_source_id
            if parent is not None and self.released.get(parent, current.thread.key) != (
                current.thread.key
            ):
                _make_top_level(current, f"reply to {parent}, which is on another page")
            self.released[current.source_id] = current.thread.key
            yield current
            replies = self.waiting.pop(current.source_id, None)
            if replies:
                for reply in replies:
                    self.held.discard(reply.source_id)
                stack.extend(reversed(replies))

    def settle(self) -> Iterator[Item]:
        """Everything still waiting: orphans on top, loops refused, their replies on top."""
        for parent in [p for p in self.waiting if p not in self.held]:
            why = "was refused" if parent in self.refused else "is not in the file"
            yield from self._adopt(parent, f"reply to {parent}, which {why}")
        if not self.waiting:
            return
        by_id = {c.source_id: c for replies in self.waiting.values() for c in replies}
        in_loop = _loop_members(by_id)
        for own_id, comment in by_id.items():
            if own_id in in_loop:
                self.held.discard(own_id)
                self.refused.add(own_id)
                yield _cycle_refusal(comment, _describe_loop(own_id, by_id))
        for parent in [p for p in self.waiting if p in in_loop]:
            why = f"reply to {parent}, which is in a reply cycle"
            yield from self._adopt(parent, why, skip=in_loop)
        self.waiting.clear()
        self.held.clear()

    def _adopt(
        self, parent: str, why: str, skip: frozenset[str] | set[str] = frozenset()
    ) -> Iterator[Item]:
        """Release the replies waiting for ``parent`` (but those in ``skip``) as top-level
        comments, saying why."""
        for reply in self.waiting.pop(parent, []):
            if reply.source_id in skip:
                continue
            self.held.discard(reply.source_id)
            _make_top_level(reply, why)
            yield from self._release(reply)


def _make_top_level(comment: CommentRecord, why: str) -> None:
    """Detach ``comment`` from its parent and note why."""
    comment.parent_source_id = None
    comment.notes = (*comment.notes, f"{why}: kept as a top-level comment")


def _loop_members(by_id: dict[str, CommentRecord]) -> set[str]:
    """The ids on a loop, in a graph where every comment's parent is another comment here.

    Each comment is visited once: a walk stops at the first comment an earlier walk (or
    this one) has seen, and a loop is closed when that comment is on the current walk.
    """
    members: set[str] = set()
    visited: set[str] = set()
    for start in by_id:
        if start in visited:
            continue
        walk: dict[str, int] = {}
        current: str | None = start
        while current is not None and current in by_id and current not in visited:
            visited.add(current)
            walk[current] = len(walk)
            current = by_id[current].parent_source_id
        if current is not None and current in walk:
            order = list(walk)
            members.update(order[walk[current] :])
    return members


def _describe_loop(own_id: str, by_id: dict[str, CommentRecord]) -> str:
    """``"replies form a loop: 5 → 6 → 5"``, starting at ``own_id`` (at most 10 steps shown)."""
    steps = [own_id]
    current = by_id[own_id].parent_source_id
    while current is not None and current != own_id and len(steps) < 10:
        steps.append(current)
        current = by_id[current].parent_source_id if current in by_id else None
    tail = own_id if current == own_id else "…"
    return "replies form a loop: " + " → ".join([*steps, tail])


def _cycle_refusal(comment: CommentRecord, detail: str) -> Refusal:
    """The refusal of a comment on a loop of replies."""
    return Refusal(
        source_id=comment.source_id,
        reason=RefusalReason.REPLY_CYCLE,
        detail=detail,
        thread_key=comment.thread.key,
    )
