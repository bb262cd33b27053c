"""``moderation doctor``: every check of a deployment, in the order an operator fixes them."""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from moderation.config import loose_permissions, private_paths
from moderation.domain.configuration import (
    FAIL,
    OK,
    WARN,
    Finding,
    clock_finding,
    limits_finding,
    mail_finding,
    public_url_finding,
    secret_key_finding,
)
from moderation.extensions import db
from moderation.models.search import TRIGRAM_INDEXES
from moderation.ratelimit import is_process_local
from moderation.services.import_indexes import restore_search_indexes
from moderation.services.mail import MailSettings
from moderation.services.readiness import (
    Check,
    check_database,
    check_migrations,
    check_outbox,
    check_rate_limit_storage,
)


def _from_check(check: Check, failing_state: str = FAIL) -> Finding:
    state = {"ok": OK, "skipped": OK, "fail": failing_state}[check.state]
    return Finding(check.name, state, check.detail or "ok")


def instance_finding(instance_path: str, database_url: str) -> Finding:
    """The instance folder and its files are the service user's alone."""
    problems = loose_permissions(private_paths(Path(instance_path), database_url))
    if problems:
        return Finding("instance", WARN, "; ".join(problems))
    return Finding("instance", OK, f"{instance_path} is private")


def database_clock_skew() -> float | None:
    """Seconds between this machine's clock and the database server's (``None``: SQLite,
    which has no clock of its own)."""
    if db.engine.dialect.name == "sqlite":
        return None
    db.session.rollback()
    query = text("SELECT EXTRACT(EPOCH FROM clock_timestamp())")  # now() is the transaction's
    db.session.execute(query)  # the connection is made before the clock is read
    before = time.time()
    server = float(db.session.execute(query).scalar_one())
    after = time.time()
    db.session.rollback()
    return server - (before + after) / 2


def mail_server_finding(settings: MailSettings) -> Finding | None:
    """Whether the SMTP server accepts a connection (``moderation mail test`` sends one)."""
    if settings.backend != "smtp" or not settings.server:
        return None
    try:
        with socket.create_connection((settings.server, settings.port), timeout=3):
            pass
    except OSError as error:
        return Finding(
            "mail_server",
            WARN,
            f"{settings.server}:{settings.port} does not answer ({error.__class__.__name__})",
        )
    return Finding(
        "mail_server",
        OK,
        f"{settings.server}:{settings.port} answers; `moderation mail test ADDRESS` sends one",
    )


def search_index_finding() -> Finding | None:
    """PostgreSQL's trigram search indexes are in place; those missing or invalid (an
    import stopped while it had them set aside, a build stopped half way) are built again,
    concurrently: the search was right without them, only slow (``None``: SQLite)."""
    if db.engine.dialect.name != "postgresql":
        return None
    db.session.rollback()  # a concurrent build waits for older transactions: none of ours
    try:
        with db.engine.connect() as connection:
            rebuild = restore_search_indexes(
                connection.execution_options(isolation_level="AUTOCOMMIT")
            )
    except SQLAlchemyError as error:
        return Finding("search_index", FAIL, f"not built again ({error.__class__.__name__})")
    if rebuild.left_to_import:
        return Finding(
            "search_index", OK, "set aside by an import in progress: built again at its end"
        )
    if rebuild.indexes:
        return Finding(
            "search_index",
            WARN,
            f"{', '.join(rebuild.indexes)} missing (an import stopped?): "
            f"built again in {rebuild.seconds:,.1f} s",
        )
    return Finding("search_index", OK, f"{len(TRIGRAM_INDEXES)} trigram indexes in place")


def diagnose(
    config: Mapping[str, Any], instance_path: str, secret_generated: bool, processes: int
) -> list[Finding]:
    """Every finding, settings first, then what must answer."""
    mail = MailSettings.from_config(config)
    storage = str(config["RATELIMIT_STORAGE_URI"])
    findings = [
        secret_key_finding(str(config["SECRET_KEY"]), secret_generated),
        public_url_finding(str(config["PUBLIC_URL"] or ""), bool(config["SESSION_COOKIE_SECURE"])),
        instance_finding(instance_path, str(config["DATABASE_URL"])),
        limits_finding(is_process_local(storage), processes),
        mail_finding(mail.problem(), mail.server, mail.use_tls, mail.use_ssl, mail.username),
    ]
    server = mail_server_finding(mail)
    if server is not None:
        findings.append(server)
    findings.append(_from_check(check_rate_limit_storage(storage)))
    database = check_database()
    findings.append(_from_check(database))
    if database.failed:
        return findings
    migrations = check_migrations()
    findings.append(_from_check(migrations))
    if migrations.failed:
        findings.append(Finding("outbox", WARN, "not checked until the database is migrated"))
    else:
        outbox = check_outbox(float(config["READY_OUTBOX_STUCK_SECONDS"]))
        findings.append(_from_check(outbox, WARN))
        search = search_index_finding()
        if search is not None:
            findings.append(search)
    try:
        findings.append(clock_finding(database_clock_skew()))
    except SQLAlchemyError as error:
        db.session.rollback()
        findings.append(Finding("clock", WARN, f"not read ({error.__class__.__name__})"))
    return findings
