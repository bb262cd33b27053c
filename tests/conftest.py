"""Fixtures: a real database per test (SQLite files, or PostgreSQL when
``MODERATION_DATABASE_URL`` names one), the app, its test client and CLI runner.

The database helpers live in tests/databases.py; their names stay importable from here."""

from __future__ import annotations

import functools
import gc
import os
import re
import shutil
import weakref
from collections.abc import Iterator
from pathlib import Path
from types import CodeType
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import Engine
from sqlalchemy.util import LRUCache

from moderation import create_app
from moderation.extensions import db
from moderation.web.application import ServiceFlask
from tests.databases import (  # noqa: F401 - re-exported for tests written against conftest
    BASE_CONFIG,
    CHEAP_PASSWORD_HASH,
    SERVER_DATABASE_URL,
    empty_server_database,
    migrate,
    reset_server_database,
    truncate_all,
    uses_server_database,
)
from tests.helpers import Actions
from tests.mail_servers import SmtpSink
from tests.webhook_receiver import Receiver

#: The browser tests' shared fixtures (a served widget, its host site, pages).
pytest_plugins = ["tests.browsing"]


def share_url_builders_between_apps() -> None:
    """Every test makes an app, and Werkzeug compiles two Python functions per URL rule for
    each new app (``Rule._compile_builder``: an AST, then ``compile``): three quarters of
    ``create_app``'s time in tests. The function depends only on the rule's text, its
    host/subdomain, slash merging and defaults (it reads the rule's converters through the
    ``self`` it is bound to), so one compiled function serves every app's copy of a rule."""
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    compiled: dict[tuple[Any, ...], Any] = {}

    def shared(self: Rule, append_unknown: bool = True) -> Any:
        defaults = sorted((self.defaults or {}).items(), key=repr)
        key = (self.rule, self.subdomain, self.host, self.merge_slashes, repr(defaults))
        key += (append_unknown, self.map.host_matching if self.map else None)
        if key not in compiled:
            compiled[key] = compile_builder(self, append_unknown)
        return compiled[key]

    Rule._compile_builder = shared  # type: ignore[method-assign]


share_url_builders_between_apps()


def share_url_rule_parsing_between_apps() -> None:
    """Binding the app's ~90 URL rules to its new map parses each rule's text into the
    parts the matcher uses (``Rule._parse_rule``: a regex walk, escaping, weights): half
    of what is left of ``create_app``'s CPU once the builders are shared. The parts depend
    only on the text and the map's converter classes, so they are parsed once; each rule
    still gets converter objects of its own map, made with the arguments the parse found
    (``get_converter``, as werkzeug calls it)."""
    from werkzeug.routing.rules import Rule

    parse_rule = Rule._parse_rule
    get_converter = Rule.get_converter
    parsed: dict[tuple[Any, ...], tuple[list[Any], list[Any], list[tuple[Any, ...]]]] = {}

    def converters_seen(self: Rule, found: list[tuple[Any, ...]]) -> Any:
        """``get_converter`` of one rule, noting each call's arguments in ``found``."""

        def noted(name: str, converter: str, args: tuple[Any, ...], kwargs: Any) -> Any:
            found.append((name, converter, args, dict(kwargs)))
            return get_converter(self, name, converter, args, kwargs)

        return noted

    def shared(self: Rule, rule: str) -> Iterator[Any]:
        assert self.map is not None
        key = (rule, tuple(sorted(self.map.converters.items())))
        if key not in parsed:
            trace_before = len(self._trace)
            found: list[tuple[Any, ...]] = []
            self.get_converter = converters_seen(self, found)  # type: ignore[method-assign]
            try:
                parts = list(parse_rule(self, rule))
            finally:
                del self.get_converter
            parsed[key] = (parts, self._trace[trace_before:], found)
            yield from parts
            return
        parts, trace, found = parsed[key]
        for name, converter, args, kwargs in found:
            self._converters[name] = self.get_converter(name, converter, args, kwargs)
            self.arguments.add(name)
        self._trace.extend(trace)
        yield from parts

    Rule._parse_rule = shared  # type: ignore[method-assign]


share_url_rule_parsing_between_apps()


class SharedTemplateCode(BytecodeCache):
    """Jinja's compiled templates, kept for every app of the test process.

    Each test builds an app, and each app's Jinja environment compiles every template it
    renders again (lex, parse, generate Python, ``compile``): 10-40 ms of a test's CPU, the
    largest part of its fixed cost. Jinja's own bytecode cache hands the code compiled
    once to the next environment: it is keyed by the template's name and file and checked
    against its source's checksum, and the environments are alike (one app factory; the
    options that shape the code are part of the key all the same)."""

    def __init__(self) -> None:
        self.code: dict[tuple[Any, ...], tuple[str, CodeType]] = {}

    @staticmethod
    def _key(bucket: Bucket) -> tuple[Any, ...]:
        environment = bucket.environment
        shape = (
            tuple(sorted(environment.extensions)),
            environment.block_start_string,
            environment.variable_start_string,
            environment.comment_start_string,
            environment.line_statement_prefix,
            environment.trim_blocks,
            environment.lstrip_blocks,
            environment.newline_sequence,
            environment.keep_trailing_newline,
            environment.optimized,
            environment.is_async,
            # the code escapes or finalizes per these (Flask's autoescape is a bound method)
            getattr(environment.autoescape, "__func__", environment.autoescape),
            environment.finalize is None,
        )
        return (bucket.key, shape)

    def load_bytecode(self, bucket: Bucket) -> None:
        found = self.code.get(self._key(bucket))
        if found is not None and found[0] == bucket.checksum:
            bucket.code = found[1]

    def dump_bytecode(self, bucket: Bucket) -> None:
        if bucket.code is not None:
            self.code[self._key(bucket)] = (bucket.checksum, bucket.code)


#: Options of every app's Jinja environment in the test process (Flask's class attribute).
ServiceFlask.jinja_options = {**ServiceFlask.jinja_options, "bytecode_cache": SharedTemplateCode()}


class SharedCompiledSQL(LRUCache[Any, Any]):
    """SQLAlchemy's compiled statements, kept for every engine of the test process.

    Each test's app makes an engine of its own, and SQLAlchemy keeps the SQL it compiles
    per engine (and, for the ORM's inserts and updates, per mapper and dialect object):
    every test compiled each statement it ran again (15-20 % of an in-process test file's
    CPU under a profiler).
    A compiled statement depends on the statement's cache key and on the dialect's
    settings, not on which dialect object compiled it: here the dialect object in the key
    stands for its kind and every setting it holds (read once it has connected, when
    SQLAlchemy first compiles for it), so dialects set alike (every SQLite file; one
    PostgreSQL server) share what each compiled. A dialect set otherwise keys apart."""

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self.kinds: weakref.WeakKeyDictionary[Any, tuple[type, str]] = weakref.WeakKeyDictionary()

    def _kind(self, dialect: Any) -> tuple[type, str]:
        kind = self.kinds.get(dialect)
        if kind is None:
            settings = sorted(
                (name, repr(value))
                for name, value in vars(dialect).items()
                if isinstance(value, str | int | float | bool | tuple | type(None))
            )
            kind = self.kinds[dialect] = (type(dialect), repr(settings))
        return kind

    def _shared(self, key: Any) -> Any:
        return (self._kind(key[0]), *key[1:])

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(self._shared(key), default)

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(self._shared(key))

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(self._shared(key), value)

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(self._shared(key))

    def __contains__(self, key: object) -> bool:
        return super().__contains__(self._shared(key))


def share_compiled_sql_between_apps() -> None:
    """Every app's engine, and the ORM's per-mapper statements, use one
    :class:`SharedCompiledSQL` (sized as SQLAlchemy sizes an engine's, ten times over)."""
    from flask_sqlalchemy import SQLAlchemy
    from sqlalchemy.orm import Mapper

    make_engine = SQLAlchemy._make_engine
    statements = SharedCompiledSQL(5000)
    flushes = SharedCompiledSQL(5000)

    def shared(self: SQLAlchemy, *args: Any, **kwargs: Any) -> Engine:
        engine = make_engine(self, *args, **kwargs)
        if engine._compiled_cache is not None:  # None: caching turned off for the engine
            engine._compiled_cache = statements
        return engine

    SQLAlchemy._make_engine = shared  # type: ignore[method-assign]
    # (a memoized attribute per mapper in SQLAlchemy: one object for every mapper here)
    Mapper._compiled_cache = flushes  # type: ignore[assignment,method-assign]


share_compiled_sql_between_apps()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database: a template SQLite file, or the migrated server database."""
    if uses_server_database():
        reset_server_database(SERVER_DATABASE_URL)
        url = SERVER_DATABASE_URL
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("template") / "template.db")
    instance = tmp_path_factory.mktemp("template-instance")
    app = create_app({**BASE_CONFIG, "DATABASE_URL": url}, instance_path=str(instance))
    migrate(app)
    with app.app_context():
        db.engine.dispose()
    return url


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> str:
    """A fresh, migrated, empty database for one test."""
    if uses_server_database():
        empty_server_database(migrated_database, tmp_path)
        return migrated_database
    path = tmp_path / "moderation.db"
    shutil.copyfile(migrated_database.removeprefix("sqlite:///"), path)
    path.chmod(0o600)  # as the service creates its database
    return f"sqlite:///{path}"


@pytest.fixture
def instance_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An instance folder of the test's own."""
    folder = tmp_path / "instance"
    folder.mkdir(mode=0o700)  # as the service creates it
    monkeypatch.setenv("MODERATION_INSTANCE_PATH", str(folder))
    return folder


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    """Extra settings a test module can override."""
    return {}


@pytest.fixture
def app(
    database_url: str, instance_path: Path, config_overrides: dict[str, Any]
) -> Iterator[Flask]:
    """The application on the test's own database."""
    application = create_app({**BASE_CONFIG, "DATABASE_URL": database_url, **config_overrides})
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """An HTTP client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A Click runner for the app's commands."""
    return app.test_cli_runner()


@pytest.fixture
def actions(app: Flask) -> Actions:
    """Shortcuts through the service layer to set up a scenario."""
    return Actions(app)


# --- which tests the PostgreSQL pass runs ----------------------------------------------------

#: Fixtures that put a test on the run's database.
DATABASE_FIXTURES = frozenset({"database_url", "migrated_database"})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1 (a test sets its ``secret`` once it knows it)."""
    started = Receiver(secret="").start()
    yield started
    started.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    """Playwright's driver, started at the test process's first browser test (each xdist
    worker has its own) and kept to the end: a start costs a second of CPU."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[Any]:
    """Debian's headless Chromium (never a downloaded browser, see
    :data:`tests.browsing.CHROMIUM`), one per test process. Tests share nothing through
    it: each page lives in a browser context of its own (a new visitor: cookies, storage
    and cache start empty), closed by the test or its fixture."""
    from tests.browsing import CHROMIUM_ARGS, launched

    yield from launched(playwright, CHROMIUM_ARGS)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Spare the tests the garbage collector's rounds over what importing and collecting
    made (modules, classes, the test items: alive until the end): a third of an in-process
    test file's CPU went to collections, most of them full ones walking all of it. Frozen,
    those objects are never looked at again; the rounds come less often too (every 10,000
    new containers instead of 700), which changes no test's memory peak measurably."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "any_database: what the test checks does not depend on the database (it uses none, "
        "or only SQLite files of its own), so a PostgreSQL run leaves it out. Unmarked tests "
        "are taken to use the database and run on both.",
    )
    config.addinivalue_line(
        "markers",
        "database_incidental: the test keeps its setup in the database, but what it checks "
        "(headers, markup, parsing, schemas, refusals before any query) is the same on every "
        "database, so a PostgreSQL run leaves it out.",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a PostgreSQL run, leave out the tests marked ``any_database`` or
    ``database_incidental`` (they ran on the SQLite pass already); set ``MODERATION_TEST_EVERYTHING=1`` to run them anyway. A test
    marked so that asks for the database is a mistake in the mark and fails collection."""
    for item in items:
        if item.get_closest_marker("any_database") and DATABASE_FIXTURES & set(
            getattr(item, "fixturenames", ())
        ):
            raise pytest.UsageError(f"{item.nodeid} is marked any_database but uses the database")
    check_file_marks(items)
    start_slow_files_first(items)
    leave_out_soak_unless_asked(config, items)
    if not uses_server_database() or os.environ.get("MODERATION_TEST_EVERYTHING"):
        return
    kept = [item for item in items if not sqlite_is_enough(item)]
    left_out = [item for item in items if sqlite_is_enough(item)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


def leave_out_soak_unless_asked(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``soak`` (minutes each) run only when ``-m`` names the mark
    (``scripts/soak.sh``: ``-m soak``); a ``-m`` in addopts would be replaced by any other."""
    if "soak" in (config.getoption("markexpr") or ""):
        return
    soaks = [item for item in items if item.get_closest_marker("soak")]
    if soaks:
        config.hook.pytest_deselected(items=soaks)
        items[:] = [item for item in items if not item.get_closest_marker("soak")]


#: Marks whose tests the PostgreSQL pass leaves out (they ran on the SQLite pass).
SQLITE_IS_ENOUGH = ("any_database", "database_incidental")


def sqlite_is_enough(item: pytest.Item) -> bool:
    """Whether the PostgreSQL pass may leave ``item`` out (it ran on the SQLite pass)."""
    return any(item.get_closest_marker(name) for name in SQLITE_IS_ENOUGH)


# --- test files the run leaves out without importing them ------------------------------------

#: A module-level mark on one line, the way test files write it: ``pytestmark =
#: pytest.mark.any_database`` or ``pytestmark = [pytest.mark.browser, pytest.mark.slow]``.
FILE_MARKS = re.compile(r"pytestmark = \[?(pytest\.mark\.\w+(?:, pytest\.mark\.\w+)*)\]?")


@functools.cache
def file_marks(path: Path) -> frozenset[str]:
    """The marks every test of the file at ``path`` carries, read from its text: its one
    top-level ``pytestmark`` line when that is a plain mark or list of marks; none when the
    file sets ``pytestmark`` otherwise or more than once. :func:`check_file_marks` proves
    the reading right on each run that imports the file."""
    lines = [line for line in path.read_text().splitlines() if line.startswith("pytestmark")]
    found = FILE_MARKS.fullmatch(lines[0]) if len(lines) == 1 else None
    if found is None:
        return frozenset()
    return frozenset(mark.removeprefix("pytest.mark.") for mark in found[1].split(", "))


def marks_left_out(config: pytest.Config) -> frozenset[str]:
    """Marks whose every test this run leaves out: those the PostgreSQL pass leaves to the
    SQLite pass, and ``browser`` under ``-m "not browser"`` (scripts/test.sh's PostgreSQL
    pass; any other ``-m`` expression is left for pytest to judge)."""
    left_out: set[str] = set()
    if uses_server_database() and not os.environ.get("MODERATION_TEST_EVERYTHING"):
        left_out.update(SQLITE_IS_ENOUGH)
    if " ".join((config.getoption("markexpr") or "").split()) == "not browser":
        left_out.add("browser")
    return frozenset(left_out)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave out, unimported, a test file the run would deselect whole (by a mark on the
    whole file: :func:`file_marks`): the PostgreSQL pass's workers imported and collected
    all 108 test files to run the tests of 69. A file named on the command line is collected
    all the same (pytest asks this hook only for files it finds in folders)."""
    if collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    if file_marks(collection_path) & marks_left_out(config):
        return True
    return None


def check_file_marks(items: list[pytest.Item]) -> None:
    """Fail the run when a file's text seems to mark all its tests and they are not so
    marked (a ``pytestmark`` line inside a string, say): another run would leave that
    file out unimported (:func:`pytest_ignore_collect`). The SQLite pass imports every
    file, so a wrong reading cannot go unnoticed there."""
    for item in items:
        for mark in file_marks(item.path):
            if item.get_closest_marker(mark) is None:
                raise pytest.UsageError(
                    f"{item.nodeid}: its file's pytestmark line names {mark}, "
                    "but the test does not carry that mark"
                )


def start_slow_files_first(items: list[pytest.Item]) -> None:
    """Hand the files that start servers or Chromium (marked ``slow`` or ``browser``) to the
    xdist workers first: a long file started last keeps one worker busy after the others
    have finished. A file's tests stay together and in their order."""
    slow_files = {
        item.path
        for item in items
        if item.get_closest_marker("slow") or item.get_closest_marker("browser")
    }
    items.sort(key=lambda item: item.path not in slow_files)
