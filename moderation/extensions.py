"""The Flask extensions, created once and bound to an app in :func:`init_extensions`."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask, request
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

from moderation.cache import BoundedCache, TimedCache
from moderation.config import create_private_file, sqlite_file

#: Constraint names are explicit so migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base of every model, with the shared naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


#: Objects keep their values after a commit: services commit last, and the views that
#: render their results should not pay a reload query for every attribute.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
#: No context processor: public pages never load a session user.
login_manager = LoginManager(add_context_processor=False)

SUPPORTED_LANGUAGES = ("en", "id")
MIGRATIONS_DIRECTORY = Path(__file__).parent / "migrations"


def select_locale() -> str:
    """``lang=`` wins, then the browser's Accept-Language, then English."""
    requested = request.args.get("lang", "")
    if requested in SUPPORTED_LANGUAGES:
        return requested
    return request.accept_languages.best_match(SUPPORTED_LANGUAGES) or "en"


def init_extensions(app: Flask) -> None:
    """Bind every extension to ``app``."""
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIRECTORY))
    csrf.init_app(app)
    babel.init_app(
        app, locale_selector=select_locale, default_translation_directories="translations"
    )
    login_manager.init_app(app, add_context_processor=False)
    # per-process caches of the public read paths (see moderation.cache)
    app.extensions["site_info_cache"] = TimedCache(seconds=5.0)
    # what a public read checks its cached rendering against (threads' versions, counts):
    # remembered for at most PUBLIC_READ_STALENESS seconds; changes made in this process
    # clear it at once
    app.extensions["public_state_cache"] = TimedCache(
        seconds=float(app.config["PUBLIC_READ_STALENESS"]), max_entries=4096
    )
    # rendered bodies, in parts (a widget page is kept as the bytes before and after the
    # reader's form token, so serving it copies nothing)
    app.extensions["render_cache"] = BoundedCache[tuple[bytes, ...]](
        int(app.config["RENDER_CACHE_BYTES"]), size_of=lambda parts: sum(map(len, parts))
    )
    # marks where each reader's form token goes in a cached widget page (unguessable, so
    # no comment text can contain it)
    app.extensions["form_token_placeholder"] = f"form-token-{secrets.token_hex(16)}"
    with app.app_context():
        _tune_sqlite(db.engine)


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
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
