"""What the hostile-input tests share: the corpora under ``tests/corpus/``, the XSS corpus
sent through every door and collected from every page that shows it, a check that a page is
inert (nothing in it can run script), checks that a refusal is readable, and a moderator
signed in over the test client.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from moderation.domain.comments import strip_controls
from tests.helpers import Dashboard, aged_token, approve_all

CORPUS = Path(__file__).parent / "corpus"

#: Attributes whose value a browser follows, loads or submits as a URL.
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "cite", "data", "poster", "background", "xlink:href"}
)
#: Schemes that run script (or can carry a script document) when followed.
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:")
#: Elements that have no business anywhere in a page built from visitors' input.
FORBIDDEN_ELEMENTS = frozenset(
    {"iframe", "frame", "object", "embed", "base", "applet", "style", "marquee"}
)
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")


def corpus_lines(name: str) -> list[str]:
    """The entries of ``tests/corpus/NAME``: every line but blank ones and ``#`` comments."""
    lines = (CORPUS / name).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


#: The XSS corpus: classic payloads from the OWASP cheat sheet and PayloadsAllTheThings.
XSS_PAYLOADS = corpus_lines("xss.txt")


def email_corpus() -> list[tuple[bool, str]]:
    """``(valid, address)`` pairs of ``emails.txt``."""
    pairs = []
    for line in corpus_lines("emails.txt"):
        verdict, _, address = line.partition("\t")
        assert verdict in ("valid", "invalid"), line
        pairs.append((verdict == "valid", address))
    return pairs


class InertnessCheck(HTMLParser):
    """Walks a page as a browser's tokenizer would and lists everything that could run script.

    Script elements are allowed only as the product's own ``<script src="/static/...">``;
    inline event handlers, script URLs and framing or styling elements are never allowed.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script":
            self._in_script = True
            if not (names.get("src") or "").startswith("/static/"):
                self.problems.append(f"a <script> that is not the product's own: {attrs}")
        if tag in FORBIDDEN_ELEMENTS:
            self.problems.append(f"a <{tag}> element: {attrs}")
        if tag == "meta" and "http-equiv" in names:
            self.problems.append(f"a <meta http-equiv>: {attrs}")
        if tag == "form" and not (names.get("action") or "/").startswith("/"):
            self.problems.append(f"a form posting elsewhere: {attrs}")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"an event handler {name}={value!r} on <{tag}>")
            if name in ("srcdoc", "style"):
                self.problems.append(f"a {name} attribute on <{tag}>: {value!r}")
            if name in URL_ATTRIBUTES and value:
                followed = _INVISIBLE.sub("", value).lower()
                if followed.startswith(SCRIPT_SCHEMES):
                    self.problems.append(f"a script URL {name}={value!r} on <{tag}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self._in_script = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append(f"inline script content {data[:80]!r}")


def script_risks(html: str) -> list[str]:
    """Everything in ``html`` that could run script in a browser (empty: the page is inert)."""
    check = InertnessCheck()
    check.feed(html)
    check.close()
    return check.problems


def assert_readable_problem(response: TestResponse) -> dict[str, Any]:
    """A JSON door's refusal: a 4xx ``application/problem+json`` with a ``detail`` to read."""
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data()[:500])
    assert response.mimetype == "application/problem+json", response.mimetype
    body = response.get_json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("detail"), str) and body["detail"].strip(), body
    assert body.get("status") == response.status_code, body
    return body


def assert_readable_page(response: TestResponse) -> str:
    """A refusal shown to a person: a 4xx HTML page that says what went wrong."""
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data()[:500])
    assert response.mimetype == "text/html", response.mimetype
    html = response.get_data(as_text=True)
    message = re.search(
        r'role="alert"[^>]*>\s*([^<\s][^<]*)<|class="field-error"[^>]*>\s*([^<\s][^<]*)<'
        r'|<main class="error-page">\s*<h1>[^<]+</h1>\s*<p>\s*([^<\s][^<]*)<',
        html,
    )
    visible = " ".join(re.sub(r"<[^>]+>", " ", html.split("<body", 1)[-1]).split())
    assert message, f"the {response.status_code} page shows no message: {visible[:300]!r}"
    return html


def row_counts(app: Flask) -> dict[str, int]:
    """How many rows each table that a request can write holds."""
    from moderation.extensions import db
    from moderation.models import (
        AuditEvent,
        Comment,
        OutboxDelivery,
        Thread,
        UsedFormToken,
        WebhookReceipt,
    )

    models = (Comment, Thread, WebhookReceipt, UsedFormToken, AuditEvent, OutboxDelivery)
    # one query for all six counts: the fuzzed tests count before and after each request
    counted = select(
        *(select(func.count()).select_from(model).scalar_subquery() for model in models)
    )
    with app.app_context():
        row = db.session.execute(counted).one()
        db.session.remove()
    return {model.__tablename__: int(count) for model, count in zip(models, row, strict=True)}


class RowCountsPerExample:
    """:func:`row_counts` before and after each request of a fuzzed test, read once per
    example: the counts after one example's request are the next one's before (nothing
    writes between examples). They are read anew when the previous example stopped before
    reading its after (it failed: Hypothesis runs it again to report it)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.last: dict[str, int] | None = None

    def before(self) -> dict[str, int]:
        counts, self.last = self.last, None
        return counts if counts is not None else row_counts(self.app)

    def after(self) -> dict[str, int]:
        self.last = row_counts(self.app)
        return self.last


# --- the XSS corpus through every page that shows a comment ----------------------------


@dataclass
class ShownPage:
    """A page (or JSON answer) that shows visitors' input, as the service answered it."""

    label: str
    #: A GET path that shows it again; empty when only a POST answers with it.
    path: str
    body: str
    mimetype: str
    headers: dict[str, str]

    @property
    def is_json(self) -> bool:
        return self.mimetype.endswith("json")


@dataclass
class Exposure:
    """Every page the XSS corpus was shown on, and any answer that was a server error."""

    pages: list[ShownPage] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)

    def keep(self, label: str, path: str, response: TestResponse) -> None:
        if response.status_code >= 500:
            self.server_errors.append(f"{label}: {response.status_code}")
            return
        self.pages.append(
            ShownPage(
                label,
                path,
                response.get_data(as_text=True),
                response.mimetype or "",
                dict(response.headers),
            )
        )


def post_comment_form(
    app: Flask,
    client: FlaskClient,
    fields: dict[str, str],
    *,
    site: str = "blog",
    thread: str = "post-1",
    address: str = "198.51.100.7",
    origin: str = "https://blog.example",
    query: str = "",
) -> TestResponse:
    """The widget's form post, with a form token a person would have (10 s old)."""
    data = {**fields}
    data.setdefault("form_token", aged_token(app, site, strip_controls(thread, single_line=True)))
    return client.post(
        f"/w/{site}?{urlencode({'thread': thread})}{query}",
        data=data,
        headers={"Origin": origin},
        environ_base={"REMOTE_ADDR": address},
    )


def expose_xss_corpus(
    app: Flask, client: FlaskClient, dashboard: FlaskClient, payloads: list[str], thread: str
) -> Exposure:
    """Submit each payload as comment text, name and website through the form and the JSON
    API, approve what was stored, and collect every page that shows it: the author's preview,
    the form shown again with the input kept, the widget, the public JSON, the dashboard's
    queue and each comment's detail page."""
    exposure = Exposure()
    origin = {"Origin": "https://blog.example"}
    for number, payload in enumerate(payloads):
        address = f"198.51.{number // 200}.{number % 200 + 1}"
        fields = {"comment": payload, "author": payload[:245], "email": "xss@example.com"}
        posted = post_comment_form(app, client, fields, thread=thread, address=address)
        if posted.status_code == 303:
            location = posted.headers["Location"]
            exposure.keep(f"preview of #{number}", location, client.get(location))
        else:
            exposure.keep(f"form answer of #{number}", "", posted)
        as_website = {
            "comment": f"Website case {number}",
            "author": f"Website {number}",
            "email": "xss@example.com",
            "url": payload,
        }
        website = post_comment_form(app, client, as_website, thread=thread, address=address)
        if website.status_code != 303:  # refused: the form comes back with the input kept
            exposure.keep(f"website answer of #{number}", "", website)
        everything_kept = {"comment": payload, "author": payload, "url": payload, "email": payload}
        exposure.keep(
            f"form shown again for #{number}",
            "",
            post_comment_form(app, client, everything_kept, thread=thread, address=address),
        )
        as_json = {
            "comment": f"{payload} (JSON)",
            "author": payload[:245],
            "email": "xss-json@example.com",
            "form_token": aged_token(app, "blog", thread),
        }
        exposure.keep(
            f"JSON answer of #{number}",
            "",
            client.post(
                f"/api/v1/sites/blog/comments?{urlencode({'thread': thread})}",
                json=as_json,
                headers=origin,
                environ_base={"REMOTE_ADDR": address},
            ),
        )
    comments = stored_comment_ids(app)
    approve_all(app, comments)
    widget = f"/w/blog?{urlencode({'thread': thread})}"
    exposure.keep("widget", widget, client.get(widget))
    api = f"/api/v1/sites/blog/comments?{urlencode({'thread': thread})}"
    exposure.keep("public JSON", api, client.get(api))
    queue: str | None = "/dashboard/?status=all"
    while queue:
        answer = dashboard.get(queue)
        exposure.keep(f"dashboard {queue}", queue, answer)
        found = re.search(r'rel="next" href="([^"]+)"', answer.get_data(as_text=True))
        queue = html_lib.unescape(found.group(1)) if found else None
    for comment_id in comments:
        detail = f"/dashboard/comments/{comment_id}"
        exposure.keep(f"dashboard detail {comment_id}", detail, dashboard.get(detail))
    return exposure


def stored_comment_ids(app: Flask) -> list[int]:
    """Ids of the comments that are waiting for review."""
    from moderation.domain.status import CommentStatus
    from moderation.extensions import db
    from moderation.models import Comment

    with app.app_context():
        ids = list(
            db.session.execute(
                select(Comment.id)
                .where(Comment.status == CommentStatus.PENDING)
                .order_by(Comment.id)
            ).scalars()
        )
        db.session.remove()
    return ids


def json_script_risks(page: ShownPage) -> list[str]:
    """What in a JSON answer could run script: every ``html`` field must be inert, and the
    answer must not be sniffed as HTML."""
    problems = []
    if page.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("a JSON answer without X-Content-Type-Options: nosniff")
    body = json.loads(page.body)
    comments = body.get("comments", [body]) if isinstance(body, dict) else []
    for comment in comments:
        fragment = str(comment.get("html") or "")
        problems.extend(script_risks(fragment))
        # and the plain-text view of the same rule, in case a parser disagrees
        if "<script" in fragment.lower():
            problems.append(f"<script in {fragment[:120]!r}")
        for tag in re.findall(r"<[^>]*>", fragment):
            if re.search(r"\son\w+\s*=|javascript:", tag, re.IGNORECASE):
                problems.append(f"a handler or script URL in the tag {tag[:120]!r}")
    return problems


# --- a moderator over the test client ------------------------------------------------------


#: The signed-in moderator's browser of the hostile tests is the shared dashboard helper.
Moderator = Dashboard


def failed_cases(cases: dict[str, Any], check: Callable[[Any], object]) -> dict[str, str]:
    """Run ``check(case)`` for every case and return the ones whose assertions failed, with
    the first line of why: one test reports every hostile value it was given."""
    failed = {}
    for label, case in cases.items():
        try:
            check(case)
        except AssertionError as error:
            failed[label] = (str(error).splitlines() or ["assertion failed"])[0][:200]
    return failed


def assert_all_pass(cases: dict[str, Any], check: Callable[[Any], object]) -> None:
    """Fail with one line per case that failed (its label, then why)."""
    assert_no_failures(failed_cases(cases, check))


def assert_no_failures(failed: dict[str, str]) -> None:
    """Fail with one line per failed case."""
    lines = [f"{len(failed)} case(s) failed:"]
    lines += [f"  {label!r}: {why}" for label, why in failed.items()]
    assert not failed, "\n".join(lines)
