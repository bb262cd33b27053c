"""A thread page reads only what it shows: the page's top-level comments, then the trees under
them by their top-level ancestor (``Comment.root_id``). These tests hold every page, in both
orders, to the rule stated on the whole thread (every approved comment, threaded; a reply
whose parent is not public shown at the top level, in its own place), on trees of every
shape and through every change that moves a comment in or out of the public view; and they
check that every way a comment is stored (the form, a moderator's reply, an import, the
migration for comments stored before) gives it its root."""

from __future__ import annotations

import random
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from moderation.clock import utcnow
from moderation.domain.sites import CommentOrder
from moderation.domain.status import CommentStatus, ModerationAction
from moderation.extensions import MIGRATIONS_DIRECTORY, db
from moderation.models import Comment
from moderation.services import sites, threads
from moderation.services.decisions import moderate, purge_deleted, reply_as_moderator
from moderation.services.events import Actor
from moderation.services.sites import site_info
from tests.helpers import Actions, seed_comments

MODERATOR = Actor("moderator", "1", "tester")
#: (id, parent shown, depth) of each comment of a page, in the order shown
Shown = list[tuple[int, int | None, int]]


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    """One address posts the whole thread."""
    return {"LIMIT_SUBMIT_PER_ADDRESS": "1000/minute", "LIMIT_SUBMIT_PER_EMAIL": "1000/minute"}


@pytest.fixture
def blog(actions: Actions) -> str:
    """A site that publishes at once, five top-level comments a page, deep replies allowed."""
    actions.create_site("blog", policy="open", page_size=5, flood_seconds=0, max_depth=8)
    return "blog"


def grow(app: Flask, count: int, seed: int, thread: str = "post-1") -> list[int]:
    """``count`` comments a second apart, each a top-level comment or a reply to any earlier
    one (so chains run deep and replies land far from their parent's page)."""
    chooser = random.Random(seed)
    start = utcnow() - timedelta(hours=2)
    ids: list[int] = []
    depth: dict[int, int] = {}
    for number in range(count):
        candidates = [i for i in ids if depth[i] < 8]
        parent = chooser.choice(candidates) if candidates and chooser.random() < 0.6 else None
        (comment,) = seed_comments(
            app,
            1,
            thread=thread,
            since=start + timedelta(seconds=number),
            parent_id=parent,
            text=f"Comment {number}",
            email=f"person{number % 7}@example.com",
        )
        ids.append(comment)
        depth[comment] = depth[parent] + 1 if parent else 1
    return ids


def whole_thread(app: Flask, key: str, order: CommentOrder) -> tuple[list[Shown], int]:
    """The pages as the rule says, worked out from every comment of the thread; and the
    number of approved comments."""
    with app.app_context():
        site = site_info("blog")
        rows = db.session.execute(
            select(Comment.id, Comment.parent_id, Comment.status)
            .where(Comment.thread.has(key=key))
            .order_by(Comment.created_at, Comment.id)
        ).all()
    public = [row for row in rows if row.status is CommentStatus.APPROVED]
    known = {row.id for row in public}
    top = [row.id for row in public if row.parent_id not in known]
    if order is CommentOrder.NEWEST:
        top.reverse()
    children: dict[int, list[int]] = {}
    for row in public:
        if row.parent_id in known:
            children.setdefault(row.parent_id, []).append(row.id)

    def tree(comment: int, parent: int | None, depth: int) -> Shown:
        shown = [(comment, parent, min(depth, site.max_depth))]
        for child in children.get(comment, []):
            shown += tree(child, comment, depth + 1)
        return shown

    size = site.page_size
    pages = [
        [item for comment in top[start : start + size] for item in tree(comment, None, 1)]
        for start in range(0, max(len(top), 1), size)
    ]
    return pages, len(public)


def read_pages(app: Flask, key: str, order: CommentOrder, number: int) -> list[Any]:
    """Pages 1 to ``number`` as :func:`threads.read_page` reads them."""
    with app.app_context():
        site = site_info("blog")
        state = threads.thread_state(site.id, key)
        return [
            threads.read_page(site, state, page, b"secret", order) for page in range(1, number + 1)
        ]


def assert_pages_follow_the_rule(app: Flask, key: str = "post-1") -> None:
    """Every page (and one past the end), in both orders, as the rule says."""
    for order in CommentOrder:
        expected, total = whole_thread(app, key, order)
        read = read_pages(app, key, order, len(expected) + 1)
        for number, page in enumerate(read, start=1):
            wanted = expected[min(number, len(expected)) - 1]
            shown = [(comment.id, comment.parent_id, comment.depth) for comment in page.comments]
            assert shown == wanted, (order, number)
            assert (page.page, page.pages, page.total) == (
                min(number, len(expected)),
                len(expected),
                total,
            ), (order, number)


def test_pages_of_a_grown_thread_follow_the_rule_through_every_change(
    app: Flask, blog: str
) -> None:
    ids = grow(app, 48, seed=20)
    assert_pages_follow_the_rule(app)

    # hide comments with public replies, deep and shallow: the replies stand at the top
    chooser = random.Random(7)
    hidden = chooser.sample(ids, 14)
    actions = [ModerationAction.REJECT, ModerationAction.SPAM, ModerationAction.DELETE]
    with app.app_context():
        for number, comment in enumerate(hidden):
            moderate(comment, actions[number % 3], MODERATOR)
    assert_pages_follow_the_rule(app)

    # restored: the replies go back under them
    with app.app_context():
        for comment in hidden[:4]:
            if db.session.get(Comment, comment).status is not CommentStatus.DELETED:
                moderate(comment, ModerationAction.APPROVE, MODERATOR)
    assert_pages_follow_the_rule(app)

    # purged: the replies lose their parent for good (their root stays that of the tree)
    with app.app_context():
        assert purge_deleted(timedelta(0), MODERATOR, utcnow() + timedelta(seconds=1)) > 0
        db.session.commit()
    assert_pages_follow_the_rule(app)

    # fewer levels shown than written: deeper replies are drawn at the deepest level
    with app.app_context():
        sites.update_site("blog", sites.SiteSettings(max_depth=3, page_size=6))
    assert_pages_follow_the_rule(app)


def test_a_moderator_s_reply_deep_in_a_tree_is_shown_in_place(app: Flask, blog: str) -> None:
    top, reply = seed_comments(app, 1, text="Top")[0], None
    (reply,) = seed_comments(app, 1, parent_id=top, text="Reply", email="b@example.com")
    moderator = Actions(app).create_moderator("mod", role="admin")
    with app.app_context():
        answer = reply_as_moderator(reply, "Thanks!", moderator)
        assert answer.root_id == top
    assert_pages_follow_the_rule(app)
    (page,) = read_pages(app, "post-1", CommentOrder.OLDEST, 1)
    assert [(c.id, c.depth, c.by_moderator) for c in page.comments] == [
        (top, 1, False),
        (reply, 2, False),
        (answer.id, 3, True),
    ]


def post(app: Flask, number: int, minutes_ago: float, parent: int | None = None) -> int:
    """Comment ``number``, written ``minutes_ago``."""
    (comment,) = seed_comments(
        app,
        1,
        since=utcnow() - timedelta(minutes=minutes_ago),
        parent_id=parent,
        text=f"Comment {number}",
        email=f"person{number}@example.com",
    )
    return comment


def test_the_widget_and_the_json_pages_show_replies_in_place_across_pages(
    app: Flask, client: FlaskClient, blog: str
) -> None:
    """Newest first, three pages: a late reply to the thread's first comment is under it
    on the last page, and a reply whose parent was rejected opens the first."""
    first = post(app, 0, minutes_ago=60)
    fillers = [post(app, number, minutes_ago=50 - number) for number in range(1, 14)]
    late = post(app, 14, minutes_ago=1, parent=first)
    orphan = post(app, 15, minutes_ago=0.5, parent=fillers[4])
    with app.app_context():
        moderate(fillers[4], ModerationAction.REJECT, MODERATOR)
    assert_pages_follow_the_rule(app)
    expected, total = whole_thread(app, "post-1", CommentOrder.NEWEST)
    assert len(expected) == 3
    assert expected[0][0] == (orphan, None, 1)
    assert expected[2][-2:] == [(first, None, 1), (late, first, 2)]
    for number, page in enumerate(expected, start=1):
        html = client.get(f"/w/blog?thread=post-1&sort=newest&cpage={number}").get_data(
            as_text=True
        )
        shown = [int(found) for found in re.findall(r'<li id="comment-(\d+)"', html)]
        assert shown == [comment for comment, _parent, _depth in page], number
        assert f"Page {number} of 3" in html

    with app.app_context():
        sites.update_site("blog", sites.SiteSettings(sort="newest"))
    for number, page in enumerate(expected, start=1):
        body = client.get(f"/api/v1/sites/blog/comments?thread=post-1&page={number}").get_json()
        assert (body["count"], body["page"], body["pages"]) == (total, number, 3)
        assert [(c["id"], c["parent"]) for c in body["comments"]] == [
            (comment, parent) for comment, parent, _depth in page
        ]


def stored_roots(app: Flask) -> dict[int, int | None]:
    """Each comment's ``root_id`` as stored."""
    with app.app_context():
        rows = db.session.execute(select(Comment.id, Comment.root_id)).all()
    return {row.id: row.root_id for row in rows}


def roots_by_parents(app: Flask) -> dict[int, int | None]:
    """Each comment's top-level ancestor along its parents as they are now (None: itself)."""
    with app.app_context():
        rows = db.session.execute(select(Comment.id, Comment.parent_id)).all()
        parents = {row.id: row.parent_id for row in rows}
    roots: dict[int, int | None] = {}
    for comment, parent in parents.items():
        top = parent
        while top is not None and parents[top] is not None:
            top = parents[top]
        roots[comment] = top
    return roots


def test_the_migration_gives_comments_stored_before_their_roots(app: Flask, blog: str) -> None:
    from flask_migrate import downgrade, upgrade

    ids = grow(app, 30, seed=3)
    with app.app_context():
        for comment in ids[10:14]:
            moderate(comment, ModerationAction.DELETE, MODERATOR)
        purge_deleted(timedelta(0), MODERATOR, utcnow() + timedelta(seconds=1))
        db.session.commit()
    before = [read_pages(app, "post-1", order, 12) for order in CommentOrder]
    with app.app_context():
        downgrade(directory=str(MIGRATIONS_DIRECTORY), revision="dashscale_01")
        upgrade(directory=str(MIGRATIONS_DIRECTORY))
    assert stored_roots(app) == roots_by_parents(app)
    assert any(root is not None for root in stored_roots(app).values())
    assert [read_pages(app, "post-1", order, 12) for order in CommentOrder] == before
    assert_pages_follow_the_rule(app)


JSONL_HEADER = (
    '{"format":"moderation-export","version":1,"exported_at":"2026-11-30T10:00:00Z",'
    '"site":"blog","origin":"","emails":false,"addresses":false}\n'
    '{"type":"thread","key":"post-1","title":"","url":"","open":true}\n'
)


def jsonl_comment(number: int, parent: int | None) -> str:
    return (
        f'{{"type":"comment","id":"{number}","thread":"post-1",'
        f'"parent":{f"{chr(34)}{parent}{chr(34)}" if parent else "null"},"author":"A{number}",'
        f'"website":null,"created_at":"2026-11-02T09:{number:02d}:00Z","text":"Text {number}",'
        '"text_format":"html","status":"approved","held_by_rule":null,"held_reason":null,'
        '"kind":"comment"}\n'
    )


def test_imported_trees_get_their_roots_in_one_run_and_across_runs(
    app: Flask, blog: str, tmp_path: Path
) -> None:
    """Replies whose parent came in the same batch, an earlier batch, or an earlier run."""
    from moderation.porting import ImportFormat
    from moderation.services.importing import import_comments

    plan = {1: None, 2: 1, 3: 2, 4: None, 5: 3, 6: 4, 7: 5, 8: None, 9: 7, 10: 8, 11: 9}
    lines = [jsonl_comment(number, parent) for number, parent in plan.items()]
    first_part = tmp_path / "first.jsonl"
    first_part.write_text(JSONL_HEADER + "".join(lines[:5]))
    whole = tmp_path / "whole.jsonl"
    whole.write_text(JSONL_HEADER + "".join(lines) + '{"type":"end","threads":1,"comments":11}\n')
    with app.app_context():
        assert import_comments(ImportFormat.JSONL, first_part, "blog", batch_size=2).imported == 5
        assert import_comments(ImportFormat.JSONL, whole, "blog", batch_size=3).imported == 6
    roots = stored_roots(app)
    assert len(roots) == len(plan)
    assert roots == roots_by_parents(app)
    assert sum(root is not None for root in roots.values()) == 8
    assert_pages_follow_the_rule(app)
