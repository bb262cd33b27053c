"""Configuration in layers: built-in defaults, then ``instance/config.py``, then
``MODERATION_*`` environment variables, then (in tests) an explicit mapping.

Every setting below is documented in the README with its default. Secrets have no
default: the secret key is generated into the instance folder on first start.
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
import stat
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.engine import make_url

logger = logging.getLogger(__name__)

#: Built-in defaults. Names are the Flask config keys; the environment variable is the
#: same name with ``MODERATION_`` in front (``MODERATION_DATABASE_URL``).
DEFAULTS: dict[str, Any] = {
    # Storage
    "DATABASE_URL": None,  # None: SQLite at <instance>/moderation.db
    # sqlite://: a file of counters in the instance folder, shared by every process on
    # this machine (sqlite:///PATH names another file; redis://... for several machines;
    # memory://: one process only)
    "RATELIMIT_STORAGE_URI": "sqlite://",
    # HTTP
    "TRUSTED_PROXIES": 0,
    # a 65,525-character comment in a non-Latin script is ~590 KB once form-encoded
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "moderation_session",
    # the dashboard's cookie goes to the dashboard only, never with a public page's request
    "SESSION_COOKIE_PATH": "/dashboard",
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,
    # dashboard sign-ins end this many seconds after the password was given, whatever happens
    "SESSION_ABSOLUTE_LIFETIME": 12 * 3600,
    # ... or after this many seconds without a request (0: no idle limit)
    "SESSION_IDLE_TIMEOUT": 2 * 3600,
    # creating moderators or integrations, changing a moderator's sites, rotating secrets,
    # disabling or enabling an integration, resetting passwords and (de)activating accounts
    # ask for the password again once it is older than this
    "SESSION_FRESH_LIFETIME": 10 * 60,
    # how often an open queue asks whether its counters and comments changed
    "QUEUE_POLL_SECONDS": 15,
    "PUBLIC_CACHE_SECONDS": 10,
    "PUBLIC_READ_STALENESS": 1.0,
    # seconds a process may use a site's settings without reading them again
    "SITE_SETTINGS_STALENESS": 5.0,
    # a repeated public read is answered with the app's own answer to the same request
    # while what it was built from is current (moderation.web.replay)
    "REPLAY_PUBLIC_READS": True,
    "RENDER_CACHE_BYTES": 8 * 1024 * 1024,
    # Widget
    "EMAIL_CHECK_DELIVERABILITY": False,
    "FORM_TOKEN_MIN_AGE": 1,
    "FORM_TOKEN_MAX_AGE": 7200,
    "SPAM_MIN_FILL_SECONDS": 3,
    # ALTCHA challenges (sites update --challenge): PBKDF2 iterations per try, the highest
    # number of tries a browser may need (it needs between half and all of them), and how
    # long a challenge stays good
    "CHALLENGE_COST": 5000,
    "CHALLENGE_COUNTER_MAX": 1000,
    "CHALLENGE_MAX_AGE": 600,
    "DEFAULT_LANGUAGE": "en",
    # Rate limits (Flask-Limiter notation; several separated by ';')
    "LIMIT_SUBMIT_PER_ADDRESS": "5/minute;30/hour",
    "LIMIT_SUBMIT_PER_EMAIL": "10/hour",
    "LIMIT_SUBMIT_PER_SITE": "600/hour",
    # every POST to a public write route (submit, edit, preview), per client address,
    # counted before the request is read: a ceiling on what one address can make us parse
    "LIMIT_PUBLIC_POSTS_PER_ADDRESS": "60/minute",
    # on sites that ask suspicious submissions for a proof-of-work challenge: past this
    # (below the hard limit above) a sender is challenged instead of refused
    "LIMIT_SUBMIT_SOFT_PER_ADDRESS": "2/minute;10/hour",
    "LIMIT_WEBHOOK_PER_INTEGRATION": "600/minute",
    "LIMIT_WEBHOOK_FAILURES_PER_ADDRESS": "30/minute",
    "LIMIT_LOGIN_FAILURES": "5/minute;20/hour",
    # per account, from every address together: above the per-address limit, so one address
    # alone never locks an account (SECURITY.md, "Password guessing")
    "LIMIT_LOGIN_FAILURES_PER_ACCOUNT": "10/minute",
    "RATELIMIT_STRATEGY": "sliding-window-counter",
    # Webhooks
    "WEBHOOK_ALLOW_PRIVATE_TARGETS": False,
    "WEBHOOK_TIMEOUT": 10,
    "WEBHOOK_MAX_ATTEMPTS": 8,
    "WEBHOOK_BACKOFF_BASE": 30,
    "WEBHOOK_LEASE_SECONDS": 60,
    "WEBHOOK_SECRET_GRACE_HOURS": 24,
    # Accounts: how moderator passwords are hashed (werkzeug's method notation). Only a
    # test suite wants anything cheaper than scrypt.
    "PASSWORD_HASH_METHOD": "scrypt",
    # Notifications (mail names as Flask's mail extensions; no MAIL_SERVER: nothing is sent)
    "PUBLIC_URL": "",
    "MAIL_BACKEND": "smtp",
    "MAIL_SERVER": "",
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USE_SSL": False,
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_DEFAULT_SENDER": "",
    "MAIL_TIMEOUT": 10,
    "NOTIFY_LINK_DAYS": 7,
    "NOTIFY_DIGEST_MINUTES": 60,
    "NOTIFY_LIMIT_PER_RECIPIENT": 10,
    "NOTIFY_LIMIT_PER_SITE": 500,
    "TRUSTED_REQUIRES_CONFIRMED_EMAIL": False,
    # The public data-rights page (/privacy): how long its emailed link works, how often
    # one client address and one email address may ask, and what erasing from it does
    "PERSON_LINK_MINUTES": 60,
    "LIMIT_PRIVACY_PER_ADDRESS": "5/hour",
    "LIMIT_PRIVACY_PER_EMAIL": "3/hour",
    "PERSON_ERASURE_MODE": "anonymise",
    # Retention
    "PURGE_DELETED_AFTER_DAYS": 30,
    # truncated IP addresses and user agents cleared after this many days (0: kept)
    "RETENTION_ADDRESS_DAYS": 90,
    # emails of rejected and spam comments cleared after this many days in that state (0: kept)
    "RETENTION_REJECTED_EMAIL_DAYS": 30,
    # Operations
    # GET /metrics: a bearer token Prometheus sends, and/or addresses or networks allowed
    # without it (neither set: /metrics does not exist)
    "METRICS_TOKEN": "",
    "METRICS_ALLOWED_ADDRESSES": "",
    # /readyz fails when a delivery has been due this long (no worker is sending)
    "READY_OUTBOX_STUCK_SECONDS": 900,
    # Logging
    "LOG_LEVEL": "INFO",
    # plain (key=value text) or json: one line per request and per background job
    "LOG_FORMAT": "plain",
}

SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
#: What SQLite keeps beside a database file (the write-ahead log and its index).
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def instance_path_from_environment() -> str:
    """Return the instance folder: ``MODERATION_INSTANCE_PATH``, else ``./instance`` when it
    exists, else the instance of the source checkout the package runs from when it holds a
    database (where ``scripts/serve.sh`` keeps it: the CLI run from another folder finds
    it), else ``./instance``, created on first use."""
    configured = os.environ.get("MODERATION_INSTANCE_PATH")
    if configured:
        return os.path.abspath(configured)
    local = os.path.join(os.getcwd(), "instance")
    if os.path.isdir(local):
        return local
    checkout = Path(__file__).resolve().parent.parent / "instance"
    if (checkout / "moderation.db").is_file():
        return str(checkout)
    return local


def load_config(app: Flask, overrides: Mapping[str, Any] | None = None) -> None:
    """Fill ``app.config`` from every layer, then derive the settings libraries read."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("MODERATION")
    if overrides:
        app.config.from_mapping(overrides)

    make_private_folder(Path(app.instance_path))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = read_or_create_secret_key(Path(app.instance_path))

    database_url = app.config.get("DATABASE_URL") or default_database_url(app.instance_path)
    app.config["DATABASE_URL"] = database_url
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(database_url)
    app.config["RATELIMIT_STORAGE_URI"] = rate_limit_storage_uri(
        str(app.config["RATELIMIT_STORAGE_URI"]), app.instance_path
    )
    app.config["TRUSTED_PROXIES"] = int(app.config["TRUSTED_PROXIES"])
    if app.config["PERSON_ERASURE_MODE"] not in ("anonymise", "delete"):
        raise RuntimeError(
            f"PERSON_ERASURE_MODE is {app.config['PERSON_ERASURE_MODE']!r}: "
            "use 'anonymise' or 'delete'."
        )
    # Flask-Babel and Flask-WTF read these names.
    app.config.setdefault("BABEL_DEFAULT_LOCALE", app.config["DEFAULT_LANGUAGE"])
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    # our forms translate their own messages; WTForms' catalogue would be loaded per request
    app.config.setdefault("WTF_I18N_ENABLED", False)
    for warning in loose_permissions(private_paths(Path(app.instance_path), database_url)):
        logger.warning(warning)


def default_database_url(instance_path: str) -> str:
    """The embedded default: one SQLite file in the instance folder."""
    return "sqlite:///" + os.path.join(instance_path, "moderation.db")


#: The rate-limit counters' file in the instance folder when ``sqlite://`` names none.
RATE_LIMIT_FILE = "ratelimits.db"


def rate_limit_storage_uri(configured: str, instance_path: str) -> str:
    """``sqlite://`` becomes the instance's counters file and a relative ``sqlite:///PATH``
    is taken from the instance folder; any other storage stays as configured."""
    if not configured.startswith("sqlite://"):
        return configured
    path = configured[len("sqlite:///") :] if configured.startswith("sqlite:///") else ""
    return "sqlite:///" + os.path.join(instance_path, path or RATE_LIMIT_FILE)


def engine_options(database_url: str) -> dict[str, Any]:
    """Engine settings per backend.

    No ping before each checkout (a round trip per request): when a database server
    restarts, the first statement on a dead connection fails, that request gets a 503,
    and SQLAlchemy throws the whole pool away so the next requests reconnect.
    ``hide_parameters`` keeps bound values (emails, addresses, comment text) out of the
    database errors that end up in logs.
    """
    if database_url.startswith("sqlite"):
        return {
            "connect_args": {"timeout": 30, "check_same_thread": False},
            "hide_parameters": True,
        }
    return {
        "pool_recycle": 1800,
        "pool_size": 10,
        "max_overflow": 10,
        "hide_parameters": True,
    }


def read_or_create_secret_key(instance_path: Path) -> str:
    """Read the instance's secret key, generating it (mode 0600) on first start.

    Several processes may start at once: the file is created exclusively and the losers
    of the race read what the winner wrote.
    """
    path = instance_path / SECRET_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.02)
        raise RuntimeError(
            f"the secret key file {path} is empty; delete it to regenerate"
        ) from None
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


# The instance folder holds the secret key and, by default, the database: every commenter's
# address, password hashes, integration secrets. Only the service's user may read them.


def make_private_folder(path: Path) -> None:
    """Create ``path`` (mode 0700) unless it exists; an existing folder is left as it is
    (:func:`loose_permissions` warns about it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        return
    path.chmod(0o700)  # whatever the umask took away


def create_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (an empty file is an empty
    SQLite database; the ``-wal`` and ``-shm`` files SQLite adds take the database's mode)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except (FileExistsError, FileNotFoundError):
        return  # there already, or its folder is missing (SQLite will say so)
    os.close(fd)


def use_wal(connection: sqlite3.Connection, patience: float = 5.0) -> None:
    """Put a SQLite database in WAL mode (it stays so: the mode is kept in the file).

    Switching a new file to WAL needs the file to itself, and SQLite answers ``database is locked``
    at once, without waiting in its busy handler, while another connection opens or switches
    the same file: connections opened together (the server's processes, threads with a
    connection each) would fail at random. So the mode is read first (a file already in WAL
    costs one read), and a busy switch is tried again for up to ``patience`` seconds
    (each try also waits up to the connection's own busy timeout)."""
    deadline = time.monotonic() + patience
    cursor = connection.cursor()
    try:
        while True:
            try:
                cursor.execute("PRAGMA journal_mode")
                if cursor.fetchone()[0] != "wal":
                    cursor.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as error:
                code = getattr(error, "sqlite_errorcode", 0)  # none: raised by the driver
                busy = code & 0xFF == sqlite3.SQLITE_BUSY
                if not busy or time.monotonic() > deadline:
                    raise
                time.sleep(0.002)
    finally:
        cursor.close()


def sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite database URL, or ``None`` (a server, or in memory)."""
    url = make_url(database_url)
    database = url.database or ""
    if not url.drivername.startswith("sqlite") or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):
        return None  # a SQLite URI: its options decide, not us
    return Path(database)


def private_paths(instance_path: Path, database_url: str) -> list[Path]:
    """The folder and files that must be the service user's alone."""
    paths = [
        instance_path,
        instance_path / SECRET_KEY_FILE,
        instance_path / "config.py",
        instance_path / RATE_LIMIT_FILE,
    ]
    database = sqlite_file(database_url)
    if database is not None:
        paths += [database, *(Path(f"{database}{suffix}") for suffix in SQLITE_COMPANIONS)]
    return paths


def loose_permissions(paths: list[Path]) -> list[str]:
    """A warning for each existing path that other users may read or write."""
    warnings = []
    for path in paths:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue
        if mode & 0o077:
            wanted = 0o700 if path.is_dir() else 0o600
            warnings.append(
                f"{path} is open to other users (mode {mode:04o}); it holds private data: "
                f"chmod {wanted:o} {path}"
            )
    return warnings
