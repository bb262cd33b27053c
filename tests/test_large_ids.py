"""Ids beyond what the schema stores (INTEGER: 2**31 - 1), or beyond any integer column, name
nothing: every route with an integer in its path, and every JSON, form or query field that
carries an id, answers as for an id that does not exist (PostgreSQL refuses to compare such
a number with an INTEGER column: a DataError, a 500, before this was checked)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter, Rule

from tests.doors import FormDoor, JsonDoor
from tests.helpers import (
    Actions,
    Dashboard,
    Integrator,
    approve,
    create_integration,
    seed_comments,
    signed_in,
)

#: An id nothing has, but small enough to store: the answer the large ones must match.
MISSING = 999_999
LARGE = (2**31, 2**32 + 5, 2**63 - 1, 2**63, 10**30)


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"LIMIT_SUBMIT_PER_ADDRESS": "1000/hour", "LIMIT_SUBMIT_PER_EMAIL": "1000/hour"}


@pytest.fixture
def setting(app: Flask, actions: Actions) -> tuple[Dashboard, Integrator, list[int]]:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    ids = seed_comments(app, 2, site="blog")
    approve(app, ids[0])
    public_id, secret = create_integration(app, "blog", url="http://127.0.0.1:9/in")
    return signed_in(app, actions, "alice"), Integrator(app.test_client(), public_id, secret), ids


def int_rules(app: Flask) -> list[Rule]:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if any(isinstance(c, IntegerConverter) for c in rule._converters.values())
    ]


def path_of(rule: Rule, number: int, public_id: str) -> str:
    """The rule's path with ``number`` in each integer place."""
    values: dict[str, Any] = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            values[name] = number
        elif hasattr(converter, "items"):  # any(...)
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = public_id
    path = rule.rule
    for name, value in values.items():
        path = path.replace(f"<{name}>", str(value))
        path = path.replace(f"<int:{name}>", str(value))
        for converter_text in ("any(activate, deactivate)", "any(close, reopen)"):
            path = path.replace(f"<{converter_text}:{name}>", str(value))
    assert "<" not in path, path
    return path


def test_every_integer_route_answers_a_large_id_as_a_missing_one(
    app: Flask, setting: tuple[Dashboard, Integrator, list[int]]
) -> None:
    dashboard, integrator, _ = setting
    rules = int_rules(app)
    assert len(rules) >= 10, [rule.rule for rule in rules]
    for rule in rules:
        method = "GET" if "GET" in (rule.methods or ()) else "POST"

        def call(number: int, method: str = method, rule: Rule = rule) -> tuple[int, str]:
            path = path_of(rule, number, integrator.public_id)
            if method == "GET":
                answer = dashboard.client.get(path)
            else:
                answer = dashboard.post(path, action="approve", text="x", next="/dashboard/")
            return answer.status_code, path

        expected, _ = call(MISSING)
        assert expected in (303, 400, 404, 409), (rule.rule, expected)
        for number in LARGE:
            status, path = call(number)
            assert status == expected, (path, status, expected)


def test_a_negative_id_in_a_path_is_not_found(
    app: Flask, setting: tuple[Dashboard, Integrator, list[int]]
) -> None:
    dashboard, _, _ = setting
    assert dashboard.client.get("/dashboard/comments/-1").status_code == 404
    assert dashboard.post("/dashboard/comments/-5/moderate", action="approve").status_code == 404


def test_large_ids_in_dashboard_fields_and_queries_change_nothing_and_fail_nothing(
    app: Flask, setting: tuple[Dashboard, Integrator, list[int]]
) -> None:
    dashboard, _, ids = setting
    for number in (MISSING, *LARGE):
        for path in (
            f"/dashboard/audit?comment={number}",
            f"/dashboard/audit?before={number}",
            f"/dashboard/?shown={number},{ids[1]}",
            f"/dashboard/?q=id:{number}",
            f"/dashboard/?q={number}",
        ):
            assert dashboard.client.get(path).status_code == 200, path
        bulk = dashboard.post(
            "/dashboard/comments/bulk", action="reject", ids=[str(number)], next="/dashboard/"
        )
        assert bulk.status_code in (303, 400), (number, bulk.status_code)


def test_large_ids_through_the_public_doors_are_refused_as_missing_parents(
    app: Flask, client: FlaskClient, setting: tuple[Dashboard, Integrator, list[int]]
) -> None:
    _, _, ids = setting
    for door in (FormDoor(app, client), JsonDoor(app, client)):
        expected = door.post(comment_parent=str(MISSING)).status
        assert expected >= 400
        for number in LARGE:
            assert door.post(comment_parent=str(number)).status == expected, (door.name, number)
    for path in (
        "/w/blog?thread=post-1&replytocom={}",
        "/w/blog?thread=post-1&unapproved={}&moderation-hash=x",
        "/w/blog/edit?thread=post-1&comment={}&key=x",
        "/api/v1/sites/blog/comments?thread=post-1&page={}",
    ):
        expected_status = client.get(path.format(MISSING)).status_code
        for number in LARGE:
            assert client.get(path.format(number)).status_code == expected_status, path
    for form_path in ("/w/blog/edit?thread=post-1", "/w/blog/delete?thread=post-1"):
        for number in (MISSING, *LARGE):
            answer = client.post(
                form_path,
                data={"comment_id": str(number), "key": "x", "comment": "y", "confirm": "yes"},
                headers={"Origin": "https://blog.example"},
            )
            assert answer.status_code == 403, (form_path, number, answer.status_code)
    assert ids


def test_large_ids_through_the_webhook_and_read_api_are_not_found(
    app: Flask, setting: tuple[Dashboard, Integrator, list[int]]
) -> None:
    _, integrator, _ = setting
    missing = integrator.send("comment.moderate", {"comment": MISSING, "action": "approve"})
    assert missing.status_code == 404, missing.get_data(as_text=True)
    for number in LARGE:
        answer = integrator.send("comment.moderate", {"comment": number, "action": "reject"})
        assert answer.status_code == 404, (number, answer.get_data(as_text=True))
        text = integrator.send("comment.moderate", {"comment": str(number), "action": "reject"})
        assert text.status_code == 422  # as for any id sent as a string
        parent = integrator.submit(parent=number)
        assert parent.status_code == integrator.submit(parent=MISSING).status_code
        assert integrator.read(f"/comments/{number}").status_code == 404
        listed = integrator.read(f"/comments?cursor={number}")
        assert listed.status_code in (200, 400), listed.get_data(as_text=True)


def test_large_ids_on_the_command_line_are_unknown(
    app: Flask, setting: tuple[Dashboard, Integrator, list[int]]
) -> None:
    runner = app.test_cli_runner()
    for number in LARGE:
        for command in (["webhooks", "redeliver", str(number)], ["chat", "remove", str(number)]):
            result = runner.invoke(args=command)
            assert result.exit_code != 0, (command, result.output)
            assert result.exception is None or isinstance(result.exception, SystemExit), command
