"""Hostile input on every door: whatever arrives, the answer is a 4xx that a person or a
program can read, never a 500, and a refused request leaves nothing behind (no comment, no
thread, no spent form token, no audit or outbound event; a webhook's receipt, when one is
kept, replays exactly the answer that was given).

- Hypothesis bodies for the form, the JSON API and the signed webhook (every event type);
- the XSS corpus (``tests/corpus/xss.txt``) on every page and answer that shows a comment
  (the same pages in real Chromium: ``test_hostile_browser.py``);
- the email corpus (``tests/corpus/emails.txt``) through the form and the JSON API;
- oversized bodies; broken UTF-8, NUL, lone surrogates, bidi overrides and zero-width
  characters; numbers the database cannot hold; SQL-injection strings in fields and query
  parameters; header injection and open redirects wherever a parameter reaches a Location.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from io import BytesIO
from typing import Any
from urllib.parse import parse_qs, quote, quote_from_bytes, urlencode, urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.test import TestResponse

from moderation.domain.comments import strip_controls
from tests.helpers import (
    PASSWORD,
    Actions,
    Integrator,
    aged_token,
    approve,
    comment_fields,
    make_integration,
    seed_comments,
    signed_in,
)
from tests.helpers import stored_comments as stored
from tests.hostile import (
    XSS_PAYLOADS,
    Moderator,
    RowCountsPerExample,
    assert_all_pass,
    assert_no_failures,
    assert_readable_page,
    assert_readable_problem,
    email_corpus,
    expose_xss_corpus,
    failed_cases,
    json_script_risks,
    post_comment_form,
    row_counts,
    script_risks,
)

ORIGIN = "https://blog.example"
SITE = "blog"
SERVICE = "http://moderation.test"
EMAIL_INVALID = "Please enter a valid email address."
EMAIL_TOO_LONG = "Your email address is too long (at most 100 characters)."
#: Answers that replay the first answer to the same webhook-id (hooks.FINAL_STATUSES).
FINAL_WEBHOOK_STATUSES = {200, 201, 202, 400, 403, 404, 409, 413, 422}

#: Bounded and reproducible: the same examples on every run and in CI; no shrinking, so a
#: failure costs seconds, not minutes (the failing example's draws are still printed).
FUZZ = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: Values that have broken parsers before: digits that are not ASCII, numbers a database
#: column cannot hold, invisible and bidi characters, markup, SQL, header breaks.
TRICKY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "0",
        "-1",
        "²",
        "١٢",
        "9" * 19,
        "9" * 40,
        "1e309",
        "NaN",
        "\x00",
        "a\x00b",
        "\u202eevil",
        "\u200b\u200c\u200d\u2060\ufeff",
        "<script>alert(1)</script>",
        "' OR '1'='1' --",
        "\r\nX-Injected: 1",
        "%00%ff",
        "x" * 70_000,
    ]
)
TEXT = st.one_of(st.text(max_size=120), TRICKY_TEXT)
JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([2**63, 2**64, -(2**63) - 1, 10**40]),
    st.floats(),
    TEXT,
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
#: What a hostile client does with a field it was given: mostly keeps it or sends other text
#: (so most examples get past the first check and into the pipeline), sometimes sends any
#: JSON value instead, leaves it out, or sends it twice.
TREATMENTS = st.sampled_from(["keep"] * 4 + ["text"] * 3 + ["json", "drop", "repeat"])


def treated(data: st.DataObject, valid: dict[str, Any]) -> dict[str, Any]:
    """``valid`` as a hostile client sends it (a JSON object)."""
    sent: dict[str, Any] = {}
    for name, value in valid.items():
        treatment = data.draw(TREATMENTS, label=name)
        if treatment in ("keep", "repeat"):
            sent[name] = value
        elif treatment == "text":
            sent[name] = data.draw(TEXT, label=name)
        elif treatment == "json":
            sent[name] = data.draw(JSON_VALUES, label=name)
    sent.update(data.draw(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=2)))
    return sent


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    """Limits out of the way: these tests are about what a request carries, not how many."""
    return {
        "LIMIT_SUBMIT_PER_ADDRESS": "100000/hour",
        "LIMIT_SUBMIT_PER_EMAIL": "100000/hour",
        "LIMIT_SUBMIT_PER_SITE": "100000/hour",
        "LIMIT_WEBHOOK_PER_INTEGRATION": "100000/minute",
    }


@pytest.fixture
def site(actions: Actions) -> str:
    actions.create_site(SITE, [ORIGIN], flood_seconds=0, page_size=500)
    return SITE


@pytest.fixture
def addresses() -> Iterator[str]:
    """A new client address for each request (the per-route limits count per address)."""
    return (f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}" for n in itertools.count(1))


@pytest.fixture
def moderator(app: Flask, actions: Actions) -> Moderator:
    """An admin signed in to the dashboard."""
    return signed_in(app, actions, "mo", "admin")


@pytest.fixture
def integrator(app: Flask, client: FlaskClient, site: str) -> Integrator:
    return Integrator(client, *make_integration(app))


def post_json(
    app: Flask, client: FlaskClient, payload: Any, thread: str = "post-1", address: str = ""
) -> TestResponse:
    """The JSON door with a valid form token unless the payload names one."""
    if isinstance(payload, dict):
        key = strip_controls(thread, single_line=True)
        payload = {"form_token": aged_token(app, SITE, key), **payload}
    return client.post(
        f"/api/v1/sites/{SITE}/comments?{urlencode({'thread': thread})}",
        data=json.dumps(payload),
        content_type="application/json",
        headers={"Origin": ORIGIN},
        environ_base={"REMOTE_ADDR": address or "198.51.100.7"},
    )


def assert_nothing_written(before: dict[str, int], after: dict[str, int]) -> None:
    """A refused request wrote nothing (webhook receipts are checked by replaying)."""
    assert {name: count for name, count in after.items() if name != "webhook_receipts"} == {
        name: count for name, count in before.items() if name != "webhook_receipts"
    }


# --- 1. generated bodies on every door ---------------------------------------------------


def test_form_door_answers_any_body_readably(
    app: Flask, client: FlaskClient, site: str, addresses: Iterator[str]
) -> None:
    serial = itertools.count()
    seen: Counter[int] = Counter()
    counts = RowCountsPerExample(app)
    values = st.one_of(TEXT.map(lambda text: text.encode()), st.binary(max_size=200))
    names = st.one_of(
        st.sampled_from(["comment", "author", "email", "url", "comment_parent", "contact_phone"]),
        st.text(max_size=10),
    )

    @FUZZ
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        number = next(serial)
        odd_thread = data.draw(st.sampled_from([False, False, False, True]), label="odd thread")
        thread = data.draw(TEXT, label="thread") if odd_thread else "post-1"
        key = strip_controls(thread, single_line=True)
        valid = comment_fields(comment=f"A thoughtful comment #{number}")
        pairs: list[tuple[bytes, bytes]] = []
        for name, value in valid.items():
            treatment = data.draw(TREATMENTS, label=name)
            if treatment in ("keep", "repeat"):
                pairs.append((name.encode(), value.encode()))
            elif treatment == "text":
                pairs.append((name.encode(), data.draw(TEXT, label=name).encode()))
            elif treatment == "json":  # a form has no types: any bytes instead
                pairs.append((name.encode(), data.draw(st.binary(max_size=200), label=name)))
            if treatment == "repeat":
                pairs.append((name.encode(), data.draw(values, label=f"{name} again")))
        token = data.draw(st.sampled_from(["fresh"] * 4 + ["missing", "forged", "twice"]))
        if token != "missing":
            fresh = aged_token(app, SITE, key).encode()
            pairs.append((b"form_token", fresh if token != "forged" else data.draw(values)))
            if token == "twice":
                pairs.append((b"form_token", aged_token(app, SITE, key).encode()))
        pairs += data.draw(st.lists(st.tuples(names.map(str.encode), values), max_size=3))
        if data.draw(st.booleans(), label="percent-encoded"):
            body = "&".join(
                f"{quote_from_bytes(name, safe='')}={quote_from_bytes(value, safe='')}"
                for name, value in pairs
            ).encode()
        else:
            body = b"&".join(name + b"=" + value for name, value in pairs)

        before = counts.before()
        response = client.post(
            f"/w/{site}?{urlencode({'thread': thread})}",
            data=body,
            content_type="application/x-www-form-urlencoded",
            headers={"Origin": ORIGIN},
            environ_base={"REMOTE_ADDR": next(addresses)},
        )
        after = counts.after()
        seen[response.status_code] += 1
        assert response.status_code < 500, response.get_data(as_text=True)[:2000]
        if response.status_code == 303:
            assert after["comments"] == before["comments"] + 1
            assert response.headers["Location"].startswith(f"/w/{site}?")
        else:
            assert_readable_page(response)
            assert_nothing_written(before, after)

    check()
    assert seen[303] and sum(seen.values()) > seen[303], seen  # both outcomes reached


def test_json_door_answers_any_body_readably(
    app: Flask, client: FlaskClient, site: str, addresses: Iterator[str]
) -> None:
    serial = itertools.count()
    seen: Counter[int] = Counter()
    counts = RowCountsPerExample(app)
    content_types = st.sampled_from(
        [
            "application/json",
            "application/json",
            "application/json",
            "application/json; charset=utf-16",
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/merge-patch+json",
        ]
    )

    @FUZZ
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        number = next(serial)
        shape = data.draw(st.sampled_from(["object", "object", "object", "any", "bytes"]))
        if shape == "bytes":
            body = data.draw(st.binary(max_size=300), label="body")
        elif shape == "any":
            body = json.dumps(data.draw(JSON_VALUES, label="body")).encode()
        else:
            valid: dict[str, Any] = {
                **comment_fields(comment=f"A thoughtful comment #{number}"),
                "comment_parent": 0,
                "form_token": aged_token(app, SITE, "post-1"),
            }
            body = json.dumps(treated(data, valid)).encode()

        before = counts.before()
        response = client.post(
            f"/api/v1/sites/{site}/comments?thread=post-1",
            data=body,
            content_type=data.draw(content_types, label="content type"),
            headers={"Origin": ORIGIN},
            environ_base={"REMOTE_ADDR": next(addresses)},
        )
        after = counts.after()
        seen[response.status_code] += 1
        assert response.status_code < 500, response.get_data(as_text=True)[:2000]
        if response.status_code in (201, 202):
            assert after["comments"] == before["comments"] + 1
        else:
            assert_readable_problem(response)
            assert_nothing_written(before, after)

    check()
    assert seen[201] + seen[202] and seen[422], seen  # both outcomes reached


VALID_EVENT_DATA: dict[str, Callable[[int, list[int]], dict[str, Any]]] = {
    "comment.submit": lambda number, _: {
        "site": SITE,
        "thread": f"hook-{number}",
        "author": "App User",
        "email": "app@example.com",
        "comment": f"Hello from the app #{number}",
        "url": "https://app.example/profile",
        "parent": None,
        "client_ip": "203.0.113.9",
    },
    "comment.moderate": lambda number, ids: {
        "comment": ids[number % len(ids)],
        "action": ["approve", "reject", "spam", "delete", "restore"][number % 5],
        "reason": "Checked by the app",
    },
    "thread.upsert": lambda number, _: {
        "site": SITE,
        "thread": f"hook-{number}",
        "title": "A post",
        "url": "https://blog.example/post",
        "open": number % 3 != 0,
    },
}


@pytest.mark.parametrize("event_type", list(VALID_EVENT_DATA))
def test_webhook_answers_any_signed_event_readably(
    app: Flask, integrator: Integrator, event_type: str
) -> None:
    seeded = seed_comments(app, 4)
    approve(app, seeded[0])
    serial = itertools.count()
    seen: Counter[int] = Counter()
    counts = RowCountsPerExample(app)

    @settings(FUZZ, max_examples=60)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        number = next(serial)
        valid = VALID_EVENT_DATA[event_type](number, seeded)
        envelope: dict[str, Any] = {"type": event_type, "data": treated(data, valid)}
        shape = data.draw(st.sampled_from(["event", "event", "event", "odd type", "odd data"]))
        if shape == "odd type":
            envelope["type"] = data.draw(JSON_VALUES, label="type")
        elif shape == "odd data":
            envelope["data"] = data.draw(JSON_VALUES, label="data")
        body = json.dumps(envelope).encode()
        webhook_id = f"msg_{uuid.uuid4().hex}"

        before = counts.before()
        response = integrator.send(event_type, {}, body=body, webhook_id=webhook_id)
        after = counts.after()
        seen[response.status_code] += 1
        assert response.status_code < 500, response.get_data(as_text=True)[:2000]
        if response.status_code < 300:
            grew = after["comments"] - before["comments"]
            assert grew == (1 if event_type == "comment.submit" else 0)
            assert after["webhook_receipts"] == before["webhook_receipts"] + 1
        else:
            assert_readable_problem(response)
            assert_nothing_written(before, after)
        if response.status_code in FINAL_WEBHOOK_STATUSES:
            replay = integrator.send(event_type, {}, body=body, webhook_id=webhook_id)
            assert (replay.status_code, replay.get_json()) == (
                response.status_code,
                response.get_json(),
            )
            assert row_counts(app) == after

    check()
    assert sum(seen[code] for code in (200, 201, 202)) and seen[422], seen


# --- 2. the XSS corpus on every page (the same pages in Chromium: test_hostile_browser) ---


@pytest.mark.database_incidental
def test_xss_corpus_is_inert_on_every_page(
    app: Flask, client: FlaskClient, site: str, moderator: Moderator
) -> None:
    exposure = expose_xss_corpus(app, client, moderator.client, XSS_PAYLOADS, thread="xss")
    assert exposure.server_errors == []
    assert {page.label for page in exposure.pages} >= {"widget", "public JSON"}
    assert len(stored(app)) >= len(XSS_PAYLOADS)
    risks = {}
    for page in exposure.pages:
        found = json_script_risks(page) if page.is_json else script_risks(page.body)
        if found:
            risks[page.label] = "; ".join(sorted(set(found)))
    assert_no_failures(risks)


def test_integration_cannot_give_a_thread_a_script_url(
    app: Flask, integrator: Integrator, moderator: Moderator
) -> None:
    """A thread's address is shown as a link in the dashboard: only http(s) may be one."""
    for number, url in enumerate(
        ["javascript:alert(1)", " JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>"]
    ):
        thread = f"linked-{number}"
        answer = integrator.send("thread.upsert", {"site": SITE, "thread": thread, "url": url})
        assert answer.status_code < 500
        integrator.submit(thread=thread, comment=f"On a linked thread {number}")
    page = moderator.page("/dashboard/?status=all")
    assert_no_failures(dict.fromkeys(script_risks(page), "in the queue"))


# --- 3. the email corpus -----------------------------------------------------------------


def test_email_corpus_gets_the_right_verdict_on_the_form_and_the_json_api(
    app: Flask, client: FlaskClient, site: str, addresses: Iterator[str]
) -> None:
    wrong = []
    accepted = 0
    for number, (valid, address) in enumerate(email_corpus()):
        expected = "" if valid else EMAIL_INVALID
        if not valid and len(address.strip()) > 100:
            expected = EMAIL_TOO_LONG
        fields = comment_fields(comment=f"Checking an address #{number}", email=address)
        form = post_comment_form(app, client, fields, address=next(addresses))
        html = form.get_data(as_text=True)
        if valid and form.status_code != 303:
            wrong.append(f"form refused a valid {address!r}: {form.status_code}")
        elif not valid and not (
            form.status_code == 422 and f'id="email-error">{expected}</span>' in html
        ):
            wrong.append(f"form gave {address!r} {form.status_code}, not {expected!r}")
        accepted += form.status_code == 303

        as_json = post_json(
            app,
            client,
            {**fields, "comment": f"Checking an address (JSON) #{number}"},
            address=next(addresses),
        )
        if valid and as_json.status_code != 202:
            wrong.append(f"JSON refused a valid {address!r}: {as_json.get_data(as_text=True)}")
        elif not valid and (as_json.get_json() or {}).get("errors", {}).get("email") != expected:
            wrong.append(f"JSON gave {address!r} {as_json.get_data(as_text=True)}")
    assert wrong == []
    emails = [row["email"] for row in stored(app)]
    assert len(emails) == 2 * accepted
    assert "UPPER.CASE@example.com" in emails  # the domain normalised, the local part kept
    assert "padded@example.com" in emails


# --- 4. oversized bodies -----------------------------------------------------------------


def test_oversized_bodies_get_413_on_every_door(
    app: Flask, client: FlaskClient, integrator: Integrator
) -> None:
    too_big = int(app.config["MAX_CONTENT_LENGTH"]) + 64 * 1024
    before = row_counts(app)
    form = post_comment_form(app, client, comment_fields(comment="x" * too_big))
    assert form.status_code == 413
    assert_readable_page(form)
    answer = post_json(app, client, comment_fields(comment="x" * too_big))
    assert answer.status_code == 413
    assert_readable_problem(answer)
    hook = integrator.submit(comment="x" * too_big)
    assert hook.status_code == 413
    assert_readable_problem(hook)
    assert row_counts(app) == before


def test_a_comment_too_long_but_under_the_body_limit_is_refused_with_the_limit(
    app: Flask, client: FlaskClient, integrator: Integrator
) -> None:
    long_text = "y" * 70_000
    form = post_comment_form(app, client, comment_fields(comment=long_text))
    assert "Your comment is too long (at most 65525 characters)." in assert_readable_page(form)
    answer = post_json(app, client, comment_fields(comment=long_text))
    assert assert_readable_problem(answer)["errors"]["comment"].startswith("Your comment is too")
    assert_readable_problem(integrator.submit(comment=long_text))
    assert stored(app) == []


def test_thousands_of_tiny_fields_are_answered_readably(app: Flask, client: FlaskClient) -> None:
    body = "&".join(["comment=x"] * 20_000 + [f"form_token={aged_token(app, SITE, 'post-1')}"])
    response = client.post(
        "/w/blog?thread=post-1",
        data=body.encode(),
        content_type="application/x-www-form-urlencoded",
        headers={"Origin": ORIGIN},
    )
    assert response.status_code < 500
    if response.status_code != 303:
        assert_readable_page(response)


# --- 5. encodings, invisible characters, lone surrogates ---------------------------------

DISGUISED_NAME = "\u202eAnn\u200b Ex\u200c\u200dam\u2060ple\ufeff\x00"
DISGUISED_TEXT = "Hello\x00 wo\u200brld \u202etxt.exe\u202c!"


def test_invisible_and_bidi_characters_are_stripped_on_every_door(
    app: Flask, client: FlaskClient, integrator: Integrator
) -> None:
    disguised = comment_fields(author=DISGUISED_NAME, comment=DISGUISED_TEXT)
    assert post_comment_form(app, client, disguised, thread="a\u200bb\u2060c").status_code == 303
    assert post_json(app, client, disguised, thread="json\u202e-thread").status_code == 202
    assert integrator.submit(**disguised, thread="hook\ufeff").status_code == 202
    rows = stored(app)
    assert [row["author"] for row in rows] == ["Ann Example"] * 3
    assert [row["text"] for row in rows] == ["Hello world txt.exe!"] * 3
    assert thread_keys(app) == ["abc", "json-thread", "hook"]
    # a NUL in a query parameter or path is refused outright, with a message
    refused = post_comment_form(app, client, comment_fields(), thread="a\x00b")
    assert refused.status_code == 400
    assert "NUL character" in assert_readable_page(refused)
    assert len(stored(app)) == 3


def thread_keys(app: Flask) -> list[str]:
    """The keys of the stored threads, oldest first."""
    from moderation.extensions import db
    from moderation.models import Thread

    with app.app_context():
        keys = list(db.session.execute(select(Thread.key).order_by(Thread.id)).scalars())
        db.session.remove()
    return keys


def test_invalid_utf8_in_a_form_body_is_refused_with_a_message(
    app: Flask, client: FlaskClient, site: str
) -> None:
    token = aged_token(app, SITE, "post-1").encode()
    raw = b"comment=caf\xe9 \xff\xfe&author=Ann\xc3&email=ann@example.com&form_token=" + token
    response = client.post(
        "/w/blog?thread=post-1",
        data=raw,
        content_type="application/x-www-form-urlencoded",
        headers={"Origin": ORIGIN},
    )
    assert_readable_page(response)
    assert stored(app) == []


def test_percent_encoded_invalid_utf8_is_stored_as_valid_text_or_refused(
    app: Flask, client: FlaskClient, site: str
) -> None:
    token = aged_token(app, SITE, "post-1")
    raw = f"comment=hi%ff%fe%ed%a0%80&author=B%c3%28ob&email=b%40example.com&form_token={token}"
    response = client.post(
        "/w/blog?thread=post-1",
        data=raw.encode(),
        content_type="application/x-www-form-urlencoded",
        headers={"Origin": ORIGIN},
    )
    if response.status_code != 303:
        assert_readable_page(response)
    for row in stored(app):
        for value in (row["text"], row["author"]):
            value.encode("utf-8")  # no lone surrogates
            assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", value)


def test_invalid_utf8_json_is_refused_with_a_message(
    client: FlaskClient, site: str, integrator: Integrator
) -> None:
    response = client.post(
        "/api/v1/sites/blog/comments?thread=post-1",
        data=b'{"comment": "caf\xe9", "author": "\xff"}',
        content_type="application/json",
        headers={"Origin": ORIGIN},
    )
    assert "UTF-8" in assert_readable_problem(response)["detail"]


def lone_surrogate_cases() -> dict[str, dict[str, str]]:
    """Fields spelling a lone surrogate, as JSON can (``"\\ud800"``); nothing can store one."""
    return {
        "comment": {"comment": "lone \ud800 high surrogate"},
        "author": {"author": "Sam\udfff"},
        "url": {"url": "https://example.com/\udc00"},
    }


def test_lone_surrogates_in_json_are_refused_with_a_message(
    app: Flask, client: FlaskClient, site: str
) -> None:
    def check(fields: dict[str, str]) -> None:
        before = row_counts(app)
        response = post_json(app, client, {**comment_fields(), **fields})
        assert response.status_code < 500, response.get_data(as_text=True)
        if response.status_code == 202:  # cleaned: what is stored is valid text
            assert_storable_text(app)
        else:
            assert_readable_problem(response)
            assert row_counts(app) == before

    assert_all_pass(lone_surrogate_cases(), check)


def assert_storable_text(app: Flask) -> None:
    """Every stored comment field and thread key is text any database and encoder takes."""
    for row in stored(app):
        for value in row.values():
            str(value).encode("utf-8")
    for key in thread_keys(app):
        key.encode("utf-8")


def test_lone_surrogates_in_webhooks_are_refused_with_a_message(
    app: Flask, integrator: Integrator
) -> None:
    events = {
        "comment.submit comment": ("comment.submit", {"comment": "lone \ud800"}),
        "comment.submit thread": ("comment.submit", {"thread": "key\udfff"}),
        "thread.upsert thread": ("thread.upsert", {"thread": "key\ud800"}),
        "thread.upsert title": ("thread.upsert", {"thread": "t", "title": "title \udc00"}),
    }

    def check(event: tuple[str, dict[str, str]]) -> None:
        event_type, fields = event
        before = row_counts(app)
        response = integrator.send(event_type, {**VALID_EVENT_DATA[event_type](1, [1]), **fields})
        assert response.status_code < 500, response.get_data(as_text=True)
        if response.status_code < 300:  # cleaned: what is stored is valid text
            assert_storable_text(app)
        else:
            assert_readable_problem(response)
            assert_nothing_written(before, row_counts(app))

    assert_all_pass(events, check)


def test_a_file_upload_in_a_form_field_is_refused_with_a_message(
    app: Flask, client: FlaskClient, site: str
) -> None:
    """A multipart post may carry a file where the form expects text."""

    def check(name: str) -> None:
        fields = comment_fields(comment=f"With a file as {name}")
        data: dict[str, Any] = {**fields, "form_token": aged_token(app, SITE, "post-1")}
        data[name] = (BytesIO(b"\xff\xfe\x00binary"), "payload.bin")
        before = row_counts(app)
        response = client.post(
            "/w/blog?thread=post-1",
            data=data,
            content_type="multipart/form-data",
            headers={"Origin": ORIGIN},
        )
        assert response.status_code < 500, response.status_code
        if response.status_code == 303:  # the file ignored: an optional field left empty
            assert name in ("url", "comment_parent"), name
            assert stored(app)[-1]["url"] == ""
        else:
            assert_readable_page(response)
            assert row_counts(app) == before

    fields = ("author", "comment", "email", "url", "comment_parent")
    assert_all_pass({name: name for name in fields}, check)


def test_deeply_nested_json_is_refused_with_a_message(
    client: FlaskClient, site: str, integrator: Integrator
) -> None:
    def check(door: str) -> None:
        if door == "json":
            response = client.post(
                "/api/v1/sites/blog/comments?thread=post-1",
                data=b"[" * 100_000 + b"]" * 100_000,
                content_type="application/json",
                headers={"Origin": ORIGIN},
            )
        else:
            deep = b"[" * 100_000 + b"]" * 100_000
            envelope = b'{"type": "comment.submit", "data": {"comment": ' + deep + b"}}"
            response = integrator.send("comment.submit", {}, body=envelope)
        assert response.status_code < 500, response.status_code
        assert_readable_problem(response)

    assert_all_pass({"json": "json", "webhook": "webhook"}, check)


def test_nul_bytes_in_every_parameter_are_answered_readably(
    app: Flask, client: FlaskClient, integrator: Integrator, moderator: Moderator
) -> None:
    """PostgreSQL refuses NUL in text: every parameter that reaches a query must be cleaned
    or refused first (SQLite stores NUL, so only the PostgreSQL run catches a miss)."""
    ids = seed_comments(app, 2)
    gets = {
        "widget site": "/w/a%00b?thread=post-1",
        "widget thread": "/w/blog?thread=a%00b",
        "widget lang, origin, url, title": "/w/blog?thread=t&lang=%00&origin=%00&url=%00&title=%00",
        "api site": "/api/v1/sites/a%00b/comments?thread=post-1",
        "api thread": "/api/v1/sites/blog/comments?thread=a%00b",
        "counts thread": "/api/v1/sites/blog/counts?thread=a%00b",
        "form-token site": "/api/v1/sites/a%00b/form-token?thread=post-1",
        "queue q": "/dashboard/?q=a%00b",
        "queue site": "/dashboard/?site=a%00b",
        "queue thread": "/dashboard/?thread=a%00b",
        "queue status": "/dashboard/?status=a%00b",
        "queue after": "/dashboard/?after=a%00b",
        "audit actor": "/dashboard/audit?actor=a%00b",
        "audit action": "/dashboard/audit?action=a%00b",
        "site settings": "/dashboard/sites/a%00b",
        "integration page": "/dashboard/integrations/int_%00",
    }
    failed = failed_cases(
        gets,
        lambda path: assert_readable_refusal_if_refused(
            (moderator.client if path.startswith("/dashboard") else client).get(path)
        ),
    )
    posts: dict[str, Callable[[], TestResponse]] = {
        "webhook integration id": lambda: client.post("/api/v1/hooks/int_%00", data=b"{}"),
        "webhook site": lambda: integrator.submit(site="blog\x00"),
        "webhook thread": lambda: integrator.submit(thread="a\x00b"),
        "sign-in username": lambda: Moderator(app.test_client()).sign_in("mo\x00", PASSWORD),
        "moderation reason": lambda: moderator.post(
            f"/dashboard/comments/{ids[0]}/moderate", action="reject", reason="a\x00b"
        ),
        "bulk reason": lambda: moderator.post(
            "/dashboard/comments/bulk", action="spam", ids=[str(ids[1])], reason="a\x00b"
        ),
        "edit text": lambda: moderator.post(f"/dashboard/comments/{ids[0]}/edit", text="a\x00b"),
        "reply text": lambda: moderator.post(f"/dashboard/comments/{ids[0]}/reply", text="a\x00b"),
    }
    failed.update(failed_cases(posts, lambda send: assert_readable_refusal_if_refused(send())))
    assert_no_failures(failed)


def test_sign_in_refusals_say_why(app: Flask, actions: Actions) -> None:
    actions.create_moderator("mo", "admin")
    attempts = {
        "empty username": ("", "a password"),
        "username of 65 characters": ("m" * 65, "a password"),
        "password of 1025 characters": ("mo", "p" * 1025),
        "empty password": ("mo", ""),
        "wrong password": ("mo", "wrong password"),
    }
    assert_all_pass(
        attempts,
        lambda attempt: assert_readable_page(Moderator(app.test_client()).sign_in(*attempt)),
    )


# --- numbers: digits that are not ASCII, values no integer column holds --------------------

HUGE = "9" * 30


def cursor(created: str, comment_id: Any) -> str:
    """A queue ``after`` token as the dashboard encodes one, around any values."""
    raw = f'["{created}", {comment_id}]'.encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def assert_readable_refusal_if_refused(response: TestResponse) -> None:
    """Below 500; a 4xx is a readable page for people or a problem document for programs."""
    assert response.status_code < 500, (response.status_code, response.get_data()[:300])
    if response.status_code >= 400:
        if response.mimetype == "text/html":
            assert_readable_page(response)
        else:
            assert_readable_problem(response)


def test_odd_numbers_in_submitted_fields_are_refused_readably(
    app: Flask, client: FlaskClient, integrator: Integrator
) -> None:
    """``"²".isdigit()`` is true but ``int("²")`` fails; 30 digits overflow any integer column."""
    existing = seed_comments(app, 2)  # the thread exists, so ids are looked up for real
    approve(app, existing[0])
    cases: dict[str, tuple[str, str, dict[str, Any]]] = {
        "form comment_parent=²": ("form", "", {"comment_parent": "²"}),
        "form comment_parent=9x30": ("form", "", {"comment_parent": HUGE}),
        "json comment_parent=²": ("json", "", {"comment_parent": "²"}),
        "json comment_parent=2**64": ("json", "", {"comment_parent": 2**64}),
        "webhook comment.submit parent=²": ("hook", "comment.submit", {"parent": "²"}),
        "webhook comment.moderate comment=2**63": ("hook", "comment.moderate", {"comment": 2**63}),
        "webhook comment.moderate comment=10**30": (
            "hook",
            "comment.moderate",
            {"comment": 10**30},
        ),
    }

    def check(case: tuple[str, str, dict[str, Any]]) -> None:
        door, event_type, fields = case
        before = row_counts(app)
        if door == "form":
            response = post_comment_form(app, client, {**comment_fields(), **fields})
        elif door == "json":
            response = post_json(app, client, {**comment_fields(), **fields})
        else:
            data = {**VALID_EVENT_DATA[event_type](5, existing), **fields}
            response = integrator.send(event_type, data)
        assert_readable_refusal_if_refused(response)
        assert response.status_code >= 400, response.status_code
        assert_nothing_written(before, row_counts(app))

    assert_all_pass(cases, check)


def test_odd_numbers_in_public_query_parameters_are_answered_readably(
    app: Flask, client: FlaskClient, site: str
) -> None:
    existing = seed_comments(app, 2)
    approve(app, existing[0])
    paths = {
        "widget cpage=²": "/w/blog?thread=post-1&cpage=²",
        "widget cpage=9x5000": "/w/blog?thread=post-1&cpage=" + "9" * 5000,
        "widget replytocom=²": "/w/blog?thread=post-1&replytocom=²",
        "widget replytocom=9x30": f"/w/blog?thread=post-1&replytocom={HUGE}",
        "widget unapproved=9x30": f"/w/blog?thread=post-1&unapproved={HUGE}&moderation-hash=x",
        "api page=²": "/api/v1/sites/blog/comments?thread=post-1&page=²",
        "api page=9x5000": "/api/v1/sites/blog/comments?thread=post-1&page=" + "9" * 5000,
    }
    assert_all_pass(paths, lambda path: assert_readable_refusal_if_refused(client.get(path)))


def test_odd_numbers_in_dashboard_parameters_are_answered_readably(
    app: Flask, site: str, moderator: Moderator
) -> None:
    seed_comments(app, 2)
    gets = {
        "queue after=<id 10**30>": "/dashboard/?after="
        + cursor("2030-01-01T00:00:00+00:00", 10**30),
        "queue after=<id Infinity>": "/dashboard/?after="
        + cursor("2030-01-01T00:00:00+00:00", "Infinity"),
        "queue after=<year 99999>": "/dashboard/?after=" + cursor("99999-01-01T00:00:00", 1),
        "audit comment=²": "/dashboard/audit?comment=²",
        "audit before=²": "/dashboard/audit?before=²",
        "comment detail 9x30": f"/dashboard/comments/{HUGE}",
    }
    posts = {
        "moderate 9x30": (f"/dashboard/comments/{HUGE}/moderate", {}),
        "edit 9x30": (f"/dashboard/comments/{HUGE}/edit", {"text": "x"}),
        "reply 9x30": (f"/dashboard/comments/{HUGE}/reply", {"text": "x"}),
        "bulk ids=9x30": ("/dashboard/comments/bulk", {"ids": [HUGE]}),
        "bulk ids=²": ("/dashboard/comments/bulk", {"ids": ["²"]}),
    }
    failed = failed_cases(
        gets, lambda path: assert_readable_refusal_if_refused(moderator.client.get(path))
    )
    failed.update(
        failed_cases(
            posts,
            lambda post: assert_readable_refusal_if_refused(
                moderator.post(post[0], action="approve", **post[1])
            ),
        )
    )
    assert_no_failures(failed)


# --- 6. SQL injection ----------------------------------------------------------------------

SQL_INJECTIONS = [
    "' OR '1'='1",
    "' OR 1=1 --",
    '" OR ""="',
    "'; DROP TABLE comments; --",
    "1; DELETE FROM sites WHERE 1=1",
    "') OR ('a'='a",
    "' UNION SELECT email, password_hash FROM moderators --",
    "admin'--",
    "1' AND SLEEP(5)#",
    "'; SELECT pg_sleep(5); --",
    "%' OR '%'='",
    "_%",
    "\\'; DROP TABLE threads; --",
    "' || (SELECT secret FROM integrations LIMIT 1) || '",
    "1 AND 1=CAST((SELECT version()) AS int)",
    "a\x00' OR 1=1",
]


def test_sql_injection_in_every_field_is_just_text(
    app: Flask, client: FlaskClient, site: str, addresses: Iterator[str], moderator: Moderator
) -> None:
    for number, text in enumerate(SQL_INJECTIONS):
        # (thread keys get the same strings in the query-parameter test below)
        thread = f"{text} #{number}".replace("\x00", "")
        url = f"https://example.com/?q={quote(text)}"
        fields = comment_fields(comment=text, author=text, url=url)
        response = post_comment_form(app, client, fields, thread=thread, address=next(addresses))
        assert response.status_code == 303, (text, response.get_data(as_text=True)[:500])
        as_email = post_comment_form(
            app, client, comment_fields(email=text), thread=thread, address=next(addresses)
        )
        assert EMAIL_INVALID in assert_readable_page(as_email)
    rows = stored(app)
    assert [row["text"] for row in rows] == [strip_controls(text) for text in SQL_INJECTIONS]
    assert [row["author"] for row in rows] == [
        strip_controls(text, single_line=True) for text in SQL_INJECTIONS
    ]
    assert thread_keys(app) == [
        strip_controls(f"{text} #{number}".replace("\x00", ""), single_line=True)
        for number, text in enumerate(SQL_INJECTIONS)
    ]
    found = moderator.page("/dashboard/?status=all&q=" + quote(SQL_INJECTIONS[0]))
    assert found.count('class="entry ') == 1


def test_sql_injection_in_query_parameters_finds_nothing(
    app: Flask, client: FlaskClient, site: str, integrator: Integrator, moderator: Moderator
) -> None:
    ids = seed_comments(app, 3)
    approve(app, ids[0])
    before = row_counts(app)

    def check(text: str) -> None:
        value = quote(text, safe="")
        if "\x00" in text:
            # a NUL in a path or query parameter is refused outright, with a message
            for path in (
                f"/w/{SITE}?thread={value}",
                f"/w/{value}?thread=post-1",
                f"/dashboard/?status=all&q={value}",
                f"/dashboard/audit?actor={value}",
            ):
                assert moderator.client.get(path).status_code == 400, path
            assert_readable_problem(client.get(f"/api/v1/sites/{value}/comments?thread=post-1"))
            assert_readable_problem(client.get(f"/api/v1/sites/{SITE}/counts?thread={value}"))
            return
        widget = client.get(f"/w/{SITE}?thread={value}")
        assert widget.status_code == 200, ("widget thread", widget.status_code)
        assert "No comments yet" in widget.get_data(as_text=True)
        assert_readable_page(client.get(f"/w/{value}?thread=post-1"))
        assert_readable_problem(client.get(f"/api/v1/sites/{value}/comments?thread=post-1"))
        listing = client.get(f"/api/v1/sites/{SITE}/comments?thread={value}&page={value}")
        assert listing.status_code == 200 and listing.get_json()["comments"] == [], "api thread"
        counts = client.get(f"/api/v1/sites/{SITE}/counts?thread={value}&thread=post-1")
        assert counts.get_json()["counts"]["post-1"] == 1, "counts"
        assert sum(counts.get_json()["counts"].values()) == 1, "counts"
        assert_readable_problem(client.post(f"/api/v1/hooks/{value}", data=b"{}"))
        assert_readable_problem(integrator.submit(site=text))
        expected = {"q": 0, "thread": 0, "status": 2, "site": 3, "after": 3, "order": 3}
        for name, count in expected.items():
            query = f"{name}={value}" if name == "status" else f"status=all&{name}={value}"
            page = moderator.client.get(f"/dashboard/?{query}")
            assert page.status_code == 200, (f"queue {name}", page.status_code)
            assert page.get_data(as_text=True).count('class="entry ') == count, f"queue {name}"
        for name in ("actor", "comment", "action", "before"):
            audit = moderator.client.get(f"/dashboard/audit?{name}={value}")
            assert audit.status_code == 200, (f"audit {name}", audit.status_code)

    assert_all_pass({text: text for text in SQL_INJECTIONS}, check)
    assert_nothing_written(before, row_counts(app))


# --- 7. header injection and open redirects ----------------------------------------------

ESCAPES = [
    "https://evil.example/",
    "//evil.example",
    "///evil.example",
    "\\\\evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "http:/evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    " //evil.example",
    "\t//evil.example",
    "/%2F/evil.example",
    "/dashboard/\r\nSet-Cookie: hijacked=1",
    "/dashboard/%0d%0aSet-Cookie:%20hijacked=1",
    "/dashboard/\nLocation: https://evil.example",
    "/dashboard\\..\\..\\evil.example",
    "/dashboard/..//evil.example",
    "//evil.example/dashboard/",
    "/dashboard@evil.example",
    "/\u2028//evil.example",
]


def assert_location_stays_on_the_service(response: TestResponse) -> str:
    """The redirect is a path on this service, and no header was split off."""
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert not re.search(r"[\x00-\x1f\x7f]", location), location
    # a browser drops tabs and newlines and reads a backslash as a slash
    as_read = re.sub(r"[\t\n\r]", "", location).replace("\\", "/")
    assert urlsplit(urljoin(f"{SERVICE}/dashboard/x", as_read)).netloc == urlsplit(SERVICE).netloc
    assert "hijacked" not in response.headers.get("Set-Cookie", "")
    assert response.headers.getlist("Location") == [location]
    return location


def test_widget_redirect_keeps_hostile_parameters_inside_its_own_query(
    app: Flask, client: FlaskClient, site: str, addresses: Iterator[str]
) -> None:
    def check(value: str) -> None:
        key = strip_controls(value, single_line=True)
        query = urlencode({"lang": value, "origin": value, "url": value, "title": value})
        fields = comment_fields(comment=f"Redirect case {value!r}")
        response = post_comment_form(
            app, client, fields, thread=value, query="&" + query, address=next(addresses)
        )
        assert response.status_code == 303, response.status_code
        location = assert_location_stays_on_the_service(response)
        parts = urlsplit(location)
        assert parts.path == "/w/blog", location
        kept = parse_qs(parts.query, keep_blank_values=True)
        assert kept["thread"] == [key], kept
        assert kept.get("origin", [value]) == [value], kept  # a parameter, never a target

    assert_all_pass({value: value for value in ESCAPES}, check)


def test_sign_in_next_never_leaves_the_dashboard(app: Flask, actions: Actions) -> None:
    actions.create_moderator("mo", "admin")
    refused = Moderator(app.test_client()).sign_in(
        "mo", "wrong password", f"/dashboard/sign-in?{urlencode({'next': ESCAPES[0]})}"
    )
    assert refused.status_code == 401  # no redirect at all

    def check(value: str) -> None:
        path = f"/dashboard/sign-in?{urlencode({'next': value})}"
        response = Moderator(app.test_client()).sign_in("mo", PASSWORD, path)
        assert response.status_code == 303, response.status_code
        assert assert_location_stays_on_the_service(response).startswith("/dashboard")

    def check_round_trip(path: str) -> None:
        """A signed-out visit is sent to sign in and, once signed in, back: on the service."""
        browser = Moderator(app.test_client())
        to_sign_in = browser.client.get(path)
        assert to_sign_in.status_code == 302, to_sign_in.status_code
        sign_in_path = assert_location_stays_on_the_service(to_sign_in)
        response = browser.sign_in("mo", PASSWORD, sign_in_path)
        assert response.status_code == 303, response.status_code
        assert_location_stays_on_the_service(response)

    assert_all_pass({value: value for value in ESCAPES}, check)
    visits = [
        "/dashboard/?q=%0d%0aSet-Cookie:%20hijacked=1",
        "/dashboard/audit?actor=//evil.example&action=\\evil.example",
        "/dashboard/comments/1?next=https://evil.example",
    ]
    assert_all_pass({path: path for path in visits}, check_round_trip)


def test_moderation_next_never_leaves_the_dashboard(
    app: Flask, site: str, moderator: Moderator
) -> None:
    def check(value: str) -> None:
        ids = seed_comments(app, 3, thread=f"next-{uuid.uuid4().hex}")
        single = moderator.post(
            f"/dashboard/comments/{ids[0]}/moderate", action="approve", next=value
        )
        assert single.status_code == 303, single.status_code
        assert assert_location_stays_on_the_service(single).startswith("/dashboard")
        bulk = moderator.post(
            "/dashboard/comments/bulk", action="reject", ids=[str(i) for i in ids[1:]], next=value
        )
        assert bulk.status_code == 303, bulk.status_code
        assert assert_location_stays_on_the_service(bulk).startswith("/dashboard")
        again = moderator.post(
            f"/dashboard/comments/{ids[0]}/moderate", action="approve", next=value
        )
        assert again.status_code == 409, again.status_code
        links = re.findall(r'href="([^"]*)"', again.get_data(as_text=True))
        assert all(not link.startswith(("//", "/\\", "http", "javascript")) for link in links)

    assert_all_pass({value: value for value in ESCAPES}, check)
