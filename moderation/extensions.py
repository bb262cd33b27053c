"""The Flask extensions, created once and bound to an app in :func:`init_extensions`."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from babel import Locale
from flask import Flask, request
from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from moderation.config import create_private_file, sqlite_file, use_wal
from moderation.domain.languages import LANGUAGE_CODES, choose_language
from moderation.domain.numbers import parse_id
from moderation.models.base import Base

Row = TypeVar("Row")
log = logging.getLogger(__name__)

#: Objects keep their values after a commit: services commit last, and the views that
#: render their results should not pay a reload query for every attribute.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


def get_by_id(model: type[Row], value: object) -> Row | None:
    """The ``model`` row whose id is ``value``; ``None`` when there is none, or when
    ``value`` is no id the schema can hold (PostgreSQL raises a DataError on it)."""
    number = parse_id(value)
    return db.session.get(model, number) if number is not None else None


csrf = CSRFProtect()
babel = Babel()
#: No context processor: public pages never load a session user.
login_manager = LoginManager(add_context_processor=False)

SUPPORTED_LANGUAGES = LANGUAGE_CODES
MIGRATIONS_DIRECTORY = Path(__file__).parent / "migrations"


@lru_cache(maxsize=64)
def babel_locale(identifier: str) -> Locale:
    """Babel's locale for ``identifier``, parsed once (Flask-Babel parses what the selector
    returns on every request, unless it is a ``Locale`` already)."""
    return Locale.parse(identifier)


def select_locale() -> Locale:
    """The reader's language (Flask-Babel's locale: its catalog, dates and plural rules):
    each ``?lang=`` in turn (embed.js sends the embed's ``data-lang``, then the host page's
    ``<html lang>``), then the browser's Accept-Language, then English. The dashboard stays
    English."""
    if request.blueprint == "dashboard":
        return babel_locale("en")
    asked = tuple(request.args.getlist("lang"))
    accept_language = request.headers.get("Accept-Language", "")
    if len(accept_language) + sum(map(len, asked)) > _MOST_REMEMBERED_CHARACTERS:
        return _reader_locale.__wrapped__(asked, accept_language)
    return _reader_locale(asked, accept_language)


#: Longer requests for a language are answered without being remembered.
_MOST_REMEMBERED_CHARACTERS = 200


@lru_cache(maxsize=512)
def _reader_locale(asked: tuple[str, ...], accept_language: str) -> Locale:
    """:func:`select_locale`'s answer for these ``?lang=`` values and this Accept-Language
    header (the same few come again and again: remembered, not parsed per request)."""
    accepted = [
        value
        for value, quality in parse_accept_header(accept_language, LanguageAccept)
        if quality > 0
    ]
    return babel_locale(choose_language(asked, accepted).locale)


def init_extensions(app: Flask) -> None:
    """Bind every extension to ``app``."""
    db.init_app(app)
    # registered after Flask-SQLAlchemy's, so it runs first (teardowns run in reverse)
    app.teardown_appcontext(_end_session_quietly)
    app.extensions["migrate"] = MigrationsOnDemand(app)
    csrf.init_app(app)
    _check_csrf_on_writes_only(app)
    babel.init_app(
        app, locale_selector=select_locale, default_translation_directories="translations"
    )
    login_manager.init_app(app, add_context_processor=False)
    with app.app_context():
        _tune_sqlite(db.engine)


class MigrationsOnDemand:
    """Stands in for Flask-Migrate's state in ``app.extensions["migrate"]`` until something
    reads it (the ``db`` command, ``moderation serve``, :func:`flask_migrate.upgrade`):
    then Flask-Migrate is bound to the app, which replaces this, and answers. Alembic under
    it costs about 11 MB and a third of the package's import time, which a web process and
    most commands never need."""

    def __init__(self, app: Flask) -> None:
        self._app = app

    def __getattr__(self, name: str) -> Any:
        from flask_migrate import Migrate

        Migrate(self._app, db, directory=str(MIGRATIONS_DIRECTORY))
        return getattr(self._app.extensions["migrate"], name)


def _end_session_quietly(_error: BaseException | None) -> None:
    """End the request's database session. When the connection died during the request
    (the database restarted), the rollback that ends the session raises; the answer is
    already made and must not become a 500: the dead connection is thrown away and the
    next request gets a fresh one from the pool."""
    try:
        db.session.remove()
    except SQLAlchemyError as error:
        log.warning("database connection lost at the end of a request: %s", type(error).__name__)
        db.session.registry.clear()


def _check_csrf_on_writes_only(app: Flask) -> None:
    """Flask-WTF's hook looks up whether the view is exempt before it looks at the method;
    a read (never checked) now leaves at once: the same answers, without that work on
    every public read."""
    hooks = app.before_request_funcs.setdefault(None, [])
    for index, hook in enumerate(hooks):
        if getattr(hook, "__qualname__", "").startswith("CSRFProtect."):
            hooks[index] = _on_checked_methods(hook, app)


def _on_checked_methods(hook: Callable[[], Any], app: Flask) -> Callable[[], Any]:
    @functools.wraps(hook)
    def checked() -> Any:
        if request.method not in app.config["WTF_CSRF_METHODS"]:
            return None
        return hook()

    return checked


def _tune_sqlite(engine: Engine) -> None:
    """WAL lets readers run beside the one writer; the busy timeout makes writers wait.
    A database file SQLite would create is created first, readable by this user only."""
    if engine.dialect.name != "sqlite":
        return
    database = sqlite_file(engine.url.render_as_string(hide_password=False))

    @event.listens_for(engine, "do_connect")
    def _create_privately(*_args: Any) -> None:
        if database is not None:
            create_private_file(database)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        use_wal(dbapi_connection)  # first: a busy switch waits the driver's 5 s, not 30
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
