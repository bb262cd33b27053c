"""One table from a refusal to its answer: statuses by class, words in the reader's language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from moderation.domain.errors import FieldError, InvalidFields, InvalidInput, NotFound
from moderation.services.form_tokens import FormTokenRefused
from moderation.services.refusals import RateLimited
from moderation.web.errors import Refusal, localized, status_of

pytestmark = pytest.mark.database_incidental


class ClosedPage(InvalidInput):
    """A refusal the table does not list."""


def test_a_class_not_in_the_table_answers_as_its_nearest_ancestor() -> None:
    assert status_of(ClosedPage("closed")) == 400
    assert status_of(InvalidFields({"email": "bad"})) == 422
    assert status_of(FormTokenRefused("stale")) == 403
    assert status_of(NotFound("gone")) == 404
    assert status_of(RateLimited(30)) == 429


def test_a_rate_limit_says_how_long_in_the_readers_language(app: Flask) -> None:
    with app.test_request_context("/?lang=id"):
        refusal = Refusal.of(RateLimited(120))
        assert refusal.status == 429
        assert refusal.headers == {"Retry-After": "120"}
        assert refusal.detail == (
            "Anda sudah mengirim terlalu banyak komentar. Mohon coba lagi dalam 2 menit."
        )
    with app.test_request_context("/?lang=en"):
        assert localized("%(wait)s", {"wait": timedelta(seconds=45)}) == "45 seconds"


def test_field_messages_keep_their_parameters_for_translation(app: Flask) -> None:
    error = InvalidFields(
        {"comment": FieldError("Your comment is too long (at most %(max)d characters).", max=9)}
    )
    with app.test_request_context("/?lang=id"):
        refusal = Refusal.of(error)
    assert refusal.field_errors == {
        "comment": "Komentar Anda terlalu panjang (paling banyak 9 karakter)."
    }
    assert refusal.body()["errors"] == refusal.field_errors
