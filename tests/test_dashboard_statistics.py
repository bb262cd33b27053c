"""The statistics page: submissions per day by outcome (refusals too), time to decision,
queue age and the rules that fired, drawn as SVG on the server with the same numbers in
tables, limited to the moderator's sites."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from moderation.domain.charts import horizontal_bars, nice_ceiling, percentile, stacked_columns
from moderation.domain.errors import DomainError
from moderation.extensions import MIGRATIONS_DIRECTORY, db
from tests.helpers import Actions, approve, seed_comments, sign_in


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"LIMIT_SUBMIT_PER_SITE": "100000/hour", "LIMIT_SUBMIT_PER_ADDRESS": "100000/hour"}


@pytest.fixture
def outcomes(app: Flask, actions: Actions) -> dict[str, int]:
    """On the blog (open policy), one comment of each outcome; three held on the gazette."""
    actions.create_site(
        "blog",
        policy="open",
        flood_seconds=0,
        moderation_words="discount",
        blocked_words="casino",
    )
    actions.create_site("gazette", flood_seconds=0)
    actions.create_moderator("alice", "admin")
    actions.create_moderator("bob", sites=["blog"])
    # today, whatever the time: seed_comments' default (an hour ago) is yesterday before 01:00
    now = datetime.now(UTC)
    since = max(now - timedelta(hours=1), now.replace(hour=0, minute=0, second=0, microsecond=0))
    (published,) = seed_comments(app, 1, text="Lovely post", since=since)
    (held,) = seed_comments(app, 1, thread="post-2", text="A discount for you", since=since)
    (spam,) = seed_comments(app, 1, thread="post-3", text="Best casino", since=since)
    with pytest.raises(DomainError):  # the same words again: refused as a duplicate
        seed_comments(app, 1, text="Lovely post", since=since)
    seed_comments(app, 3, site="gazette", thread="scoop", since=since)
    approve(app, held)  # a person decides otherwise than the moderation-words rule
    return {"published": published, "held": held, "spam": spam}


def today_row(page: str) -> list[int]:
    """The per-day table's last row (today): published, held, spam, refused."""
    table = page.split('id="per-day-table"', 1)[1].split("</table>", 1)[0]
    last = table.rsplit("<tr>", 1)[1]
    return [int(cell) for cell in re.findall(r'<td data-label="[^"]+">(\d+)</td>', last)]


def test_a_moderator_sees_the_outcomes_of_their_sites_only(
    app: Flask, client: FlaskClient, outcomes: dict[str, int]
) -> None:
    sign_in(client, "bob")
    page = client.get("/dashboard/statistics")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert today_row(body) == [1, 1, 1, 1]  # the gazette's three held are not counted
    rules = body.split('id="rules-table"', 1)[1]
    assert re.search(
        r"moderation_words</span></th><td[^>]*>1</td><td[^>]*>0</td>"
        r"<td[^>]*>0</td><td[^>]*>1</td>",
        rules,
    )
    assert re.search(r"blocked_words</span></th><td[^>]*>0</td><td[^>]*>1</td>", rules)
    assert re.search(r"duplicate</span></th><td[^>]*>0</td><td[^>]*>0</td><td[^>]*>1</td>", rules)
    # charts: named and described for screen readers, drawn without script or inline style
    assert body.count('role="img"') == 3  # per day, depth and rules (nothing waits on the blog)
    assert '<title id="per-day-title">Submissions per day, by outcome</title>' in body
    assert 'id="per-day-desc">One column for each of the last 30 days' in body
    assert 'class="series-publish"' in body and 'class="series-refuse"' in body
    assert 'style="' not in body and "<script>" not in body
    # a decision was made: its time is a number, not a dash
    decided = re.search(r"<dt>Median time to decision</dt><dd>([^<]+)</dd>", body)
    assert decided and decided.group(1) != "—"
    # another site does not exist for bob; nonsense periods fall back
    assert client.get("/dashboard/statistics?site=gazette").status_code == 404
    assert client.get("/dashboard/statistics?site=blog&days=7").status_code == 200
    assert client.get("/dashboard/statistics?days=many").status_code == 200


def test_an_admin_sees_every_site_and_the_queue_age(
    app: Flask, client: FlaskClient, outcomes: dict[str, int]
) -> None:
    sign_in(client, "alice")
    body = client.get("/dashboard/statistics").get_data(as_text=True)
    assert today_row(body) == [1, 4, 1, 1]
    assert "<dt>Waiting now</dt><dd>3</dd>" in body  # the gazette's
    ages = body.split('id="queue-age-table"', 1)[1].split("</table>", 1)[0]
    counts = [int(n) for n in re.findall(r'data-label="Comments">(\d+)<', ages)]
    assert len(counts) == 4 and sum(counts) == 3 and counts[-2:] == [0, 0]  # about an hour old
    gazette = client.get("/dashboard/statistics?site=gazette").get_data(as_text=True)
    assert today_row(gazette) == [0, 3, 0, 0]


def test_counts_before_the_upgrade_come_from_the_audit_log(
    app: Flask, outcomes: dict[str, int]
) -> None:
    from flask_migrate import downgrade, upgrade

    with app.app_context():
        downgrade(directory=str(MIGRATIONS_DIRECTORY), revision="dash_01")
        upgrade(directory=str(MIGRATIONS_DIRECTORY))
        rows = db.session.execute(
            text("SELECT outcome, rule, sum(count) FROM daily_outcomes GROUP BY outcome, rule")
        ).all()
    # stored submissions come back (refusals were never stored: they start again at zero)
    assert sorted((outcome, rule, int(n)) for outcome, rule, n in rows) == [
        ("hold", "moderation_words", 1),
        ("hold", "premoderation", 3),
        ("publish", "open_policy", 1),
        ("spam", "blocked_words", 1),
    ]


def depth_column(page: str) -> list[int]:
    """The queue-depth table's numbers, oldest day first."""
    table = page.split('id="queue-depth-table"', 1)[1].split("</table>", 1)[0]
    return [int(cell) for cell in re.findall(r'<td data-label="Waiting">(\d+)</td>', table)]


def store_depth(app: Flask, rows: list[tuple[str, int, int]]) -> None:
    """Depth rows of earlier days: (site slug, days ago, pending)."""
    today = datetime.now(UTC).date()
    with app.app_context():
        for slug, ago, pending in rows:
            db.session.execute(
                text(
                    "INSERT INTO daily_queue_depth (site_id, day, pending) "
                    "SELECT id, :day, :pending FROM sites WHERE slug = :slug"
                ),
                {"day": today - timedelta(days=ago), "pending": pending, "slug": slug},
            )
        db.session.commit()


def test_queue_depth_over_time_is_what_waited_at_the_end_of_each_day(
    app: Flask, client: FlaskClient, outcomes: dict[str, int]
) -> None:
    # today, kept as it happens: the gazette's three wait; the blog's one held was approved
    # earlier days: the gazette 7 from 40 days ago (before the period: carried in), 5 from
    # 10 days ago; the blog 2 from 3 days ago
    store_depth(app, [("gazette", 40, 7), ("gazette", 10, 5), ("blog", 3, 2)])
    sign_in(client, "alice")
    body = client.get("/dashboard/statistics").get_data(as_text=True)
    assert depth_column(body) == [7] * 19 + [5] * 7 + [7] * 3 + [3]
    assert '<title id="queue-depth-title">Comments waiting at the end of each day</title>' in body
    assert body.count('class="series-pending"') == 30  # a column every day, none empty
    week = client.get("/dashboard/statistics?days=7&site=gazette").get_data(as_text=True)
    assert depth_column(week) == [5, 5, 5, 5, 5, 5, 3]
    client.post("/dashboard/sign-out")
    sign_in(client, "bob")  # the blog only
    mine = client.get("/dashboard/statistics").get_data(as_text=True)
    assert depth_column(mine) == [0] * 26 + [2] * 3 + [0]
    assert 'id="queue-depth-desc">One column for each of the last 30 days' in mine


def test_queue_depth_before_the_upgrade_comes_from_the_audit_log(
    app: Flask, outcomes: dict[str, int]
) -> None:
    from flask_migrate import downgrade, upgrade

    moved = text(
        "UPDATE audit_events SET created_at = :moment WHERE action = 'submitted' AND "
        "(site_id = (SELECT id FROM sites WHERE slug = :slug) OR comment_id = :held)"
    )
    today = datetime.now(UTC)
    with app.app_context():
        # the gazette's three came two days ago; the blog's held one five days ago (and was
        # approved today)
        db.session.execute(
            moved, {"moment": today - timedelta(days=2), "slug": "gazette", "held": 0}
        )
        db.session.execute(
            moved, {"moment": today - timedelta(days=5), "slug": "", "held": outcomes["held"]}
        )
        db.session.commit()
        downgrade(directory=str(MIGRATIONS_DIRECTORY), revision="bugs_01")
        upgrade(directory=str(MIGRATIONS_DIRECTORY))
        rows = db.session.execute(
            text(
                "SELECT s.slug, d.day, d.pending FROM daily_queue_depth d "
                "JOIN sites s ON s.id = d.site_id ORDER BY s.slug, d.day"
            )
        ).all()
    day = today.date()
    assert [(slug, str(when), pending) for slug, when, pending in rows] == [
        ("blog", str(day - timedelta(days=5)), 1),
        ("blog", str(day), 0),
        ("gazette", str(day - timedelta(days=2)), 3),
        ("gazette", str(day), 3),
    ]


@pytest.mark.any_database
def test_chart_geometry_is_proportional() -> None:
    assert [nice_ceiling(n) for n in (0, 1, 3, 7, 11, 420, 999)] == [1, 1, 5, 10, 20, 500, 1000]
    chart = stacked_columns(
        ["a", "b"], ["x", "y"], [{"x": 5, "y": 5}, {"x": 2}], width=200, height=136
    )
    plot = chart.plot_bottom - chart.plot_top  # 100 units for 10 (the nice top)
    heights = [(bar.series, bar.height) for bar in chart.bars]
    assert heights == [("x", plot / 2), ("y", plot / 2), ("x", plot / 5)]
    assert chart.bars[1].y == chart.plot_top  # the tallest column reaches the top
    assert [tick.label for tick in chart.y_ticks] == ["0", "5", "10"]  # no 2.5 or 7.5
    rows = horizontal_bars([("links", 4), ("words", 1)], width=300, label_width=100)
    assert rows.bars[0].width == 4 * rows.bars[1].width
    assert [tick.label for tick in rows.x_ticks] == ["links", "words"]
    assert percentile([], 0.5) is None
    assert percentile([3, 1, 2], 0.5) == 2
    assert percentile([0, 10], 0.9) == 9
