"""The doors a comment comes in by: the form, the JSON API and the signed webhook.

Each door posts the same fields and reports what the sender saw, so one matrix of rules
and limits runs through all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers import Integrator, aged_token, comment_fields, make_integration

ORIGIN = "https://blog.example"


@dataclass
class Answer:
    """What the sender of a comment saw."""

    status: int
    text: str
    headers: dict[str, str]

    @property
    def accepted(self) -> bool:
        """The door said the comment was taken (stored as pending, published, or spam)."""
        return self.status in (201, 202, 303)

    @classmethod
    def of(cls, response: TestResponse) -> Answer:
        return cls(response.status_code, response.get_data(as_text=True), dict(response.headers))


class Door:
    """Post ``fields`` (the widget's field names) to thread ``thread`` from ``address``."""

    name = ""

    def __init__(self, app: Flask, client: FlaskClient, site: str = "blog") -> None:
        self.app, self.client, self.site = app, client, site

    def post(
        self,
        thread: str = "post-1",
        address: str = "198.51.100.7",
        fill_seconds: float = 10,
        **fields: Any,
    ) -> Answer:
        data = {**comment_fields(), **fields}
        data.setdefault("form_token", aged_token(self.app, self.site, thread, fill_seconds))
        return Answer.of(self.send(thread, address, data))

    def send(self, thread: str, address: str, data: dict[str, Any]) -> TestResponse:
        raise NotImplementedError


class FormDoor(Door):
    """The widget's form, as a browser posts it from the site's page."""

    name = "form"

    def send(self, thread: str, address: str, data: dict[str, Any]) -> TestResponse:
        return self.client.post(
            f"/w/{self.site}?thread={thread}",
            data=data,
            headers={"Origin": ORIGIN},
            environ_base={"REMOTE_ADDR": address},
        )


class JsonDoor(Door):
    """The public JSON API, as the widget's script calls it."""

    name = "json"

    def send(self, thread: str, address: str, data: dict[str, Any]) -> TestResponse:
        return self.client.post(
            f"/api/v1/sites/{self.site}/comments?thread={thread}",
            json=data,
            headers={"Origin": ORIGIN},
            environ_base={"REMOTE_ADDR": address},
        )


class WebhookDoor(Door):
    """A signed ``comment.submit`` webhook from the site's integration (created on first use):
    the reader's address travels as ``client_ip``; there is no form token to age."""

    name = "webhook"

    def __init__(self, app: Flask, client: FlaskClient, site: str = "blog") -> None:
        super().__init__(app, client, site)
        self._integrator: Integrator | None = None

    def send(self, thread: str, address: str, data: dict[str, Any]) -> TestResponse:
        if self._integrator is None:
            self._integrator = Integrator(self.client, *make_integration(self.app, site=self.site))
        data.pop("form_token", None)
        fields = {**data, "site": self.site, "thread": thread, "client_ip": address}
        return self._integrator.send("comment.submit", fields)


#: The browser doors, which share the form token and its timing rules.
DOORS: list[type[Door]] = [FormDoor, JsonDoor]
#: Every way a comment comes in.
EVERY_DOOR: list[type[Door]] = [*DOORS, WebhookDoor]
