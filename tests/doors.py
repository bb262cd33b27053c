"""The doors a comment comes in by: the form, the JSON API and (later) the webhook.

Each door posts the same fields and reports what the sender saw, so one matrix of rules
and limits runs through all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import aged_token, comment_fields

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


class Door:
    """Base class: post ``fields`` to thread ``thread`` from ``address``."""

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
        raise NotImplementedError


class FormDoor(Door):
    name = "form"

    def post(
        self,
        thread: str = "post-1",
        address: str = "198.51.100.7",
        fill_seconds: float = 10,
        **fields: Any,
    ) -> Answer:
        data = {**comment_fields(), **fields}
        data.setdefault("form_token", aged_token(self.app, self.site, thread, fill_seconds))
        response = self.client.post(
            f"/w/{self.site}?thread={thread}",
            data=data,
            headers={"Origin": ORIGIN},
            environ_base={"REMOTE_ADDR": address},
        )
        return Answer(response.status_code, response.get_data(as_text=True), dict(response.headers))


class JsonDoor(Door):
    name = "json"

    def post(
        self,
        thread: str = "post-1",
        address: str = "198.51.100.7",
        fill_seconds: float = 10,
        **fields: Any,
    ) -> Answer:
        data = {**comment_fields(), **fields}
        data.setdefault("form_token", aged_token(self.app, self.site, thread, fill_seconds))
        response = self.client.post(
            f"/api/v1/sites/{self.site}/comments?thread={thread}",
            json=data,
            headers={"Origin": ORIGIN},
            environ_base={"REMOTE_ADDR": address},
        )
        return Answer(response.status_code, response.get_data(as_text=True), dict(response.headers))


DOORS: list[type[Door]] = [FormDoor, JsonDoor]
