"""Readiness: whether this process can serve traffic now (``GET /readyz``, ``moderation
doctor``). Each check answers on its own, so a failing one is named, never hidden behind
another: the database answers, the rate-limit storage answers when it is a shared one,
the schema is at the migrations' head, and the outbox is being worked."""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.exc import SQLAlchemyError

from moderation.clock import utcnow
from moderation.extensions import MIGRATIONS_DIRECTORY, db
from moderation.models import DeliveryState, Integration, OutboxDelivery
from moderation.ratelimit import gate, is_process_local
from moderation.ratelimit.storage import is_redis


@dataclass(frozen=True)
class Check:
    """One part's answer: ``ok``, ``skipped`` (not configured) or ``fail`` with why."""

    name: str
    state: str
    detail: str = ""

    @property
    def failed(self) -> bool:
        """Whether this part keeps the process from being ready."""
        return self.state == "fail"


def check_database() -> Check:
    """The database answers a trivial query."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        db.session.rollback()
        return Check("database", "fail", f"unreachable ({error.__class__.__name__})")
    return Check("database", "ok", f"{db.engine.dialect.name} answers")


def check_rate_limit_storage(storage_uri: str) -> Check:
    """A shared rate-limit storage (Redis) answers a ping; in-process limits need none."""
    if is_process_local(storage_uri):
        return Check("redis", "skipped", "rate limits are counted in process memory")
    name = "redis" if is_redis(storage_uri) else "rate_limits"
    if not gate().storage_reachable():
        return Check(name, "fail", "the rate-limit storage does not answer")
    return Check(name, "ok")


@functools.cache
def migration_heads() -> frozenset[str]:
    """The head revisions of the migrations this code ships (read once per process)."""
    return heads_of(MIGRATIONS_DIRECTORY / "versions")


def heads_of(versions: Path) -> frozenset[str]:
    """The revisions of the scripts in ``versions`` that no other script revises. Read
    from their ``revision`` and ``down_revision`` lines, not through Alembic, which would
    add about 10 MB to every web process on its first readiness check (a test holds this
    to Alembic's answer)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for script in versions.glob("*.py"):
        identifiers = _revision_lines(script)
        revisions.add(identifiers["revision"])
        down = identifiers.get("down_revision")
        revised.update((down,) if isinstance(down, str) else down or ())
    return frozenset(revisions - revised)


def _revision_lines(script: Path) -> dict[str, Any]:
    """The module-level ``revision`` and ``down_revision`` values of a migration script."""
    found: dict[str, Any] = {}
    for statement in ast.parse(script.read_text(encoding="utf-8")).body:
        if isinstance(statement, ast.Assign | ast.AnnAssign) and statement.value is not None:
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                    found[target.id] = ast.literal_eval(statement.value)
    return found


def applied_revisions() -> frozenset[str]:
    """The revisions the database says it is at (empty: never migrated)."""
    try:
        rows = db.session.execute(text("SELECT version_num FROM alembic_version")).scalars()
        return frozenset(rows)
    except SQLAlchemyError:
        db.session.rollback()
        return frozenset()


def check_migrations() -> Check:
    """The schema is at the migrations' head (``moderation db upgrade`` brings it there)."""
    applied, heads = applied_revisions(), migration_heads()
    if applied == heads:
        return Check("migrations", "ok")
    missing = ", ".join(sorted(heads - applied)) or "-"
    return Check(
        "migrations", "fail", f"not at head (missing {missing}): run moderation db upgrade"
    )


def oldest_due_delivery(now: datetime) -> datetime | None:
    """When the longest-waiting delivery that a worker should have sent fell due (those of
    disabled integrations wait on purpose and do not count)."""
    enabled = select(Integration.id).where(Integration.disabled_at.is_(None))
    return db.session.execute(
        select(func.min(OutboxDelivery.next_attempt_at)).where(
            OutboxDelivery.state == DeliveryState.PENDING,
            OutboxDelivery.next_attempt_at <= now,
            or_(
                OutboxDelivery.integration_id.is_(None), OutboxDelivery.integration_id.in_(enabled)
            ),
        )
    ).scalar()


def check_outbox(stuck_after_seconds: float, now: datetime | None = None) -> Check:
    """No delivery has been due for longer than ``stuck_after_seconds``: some worker is
    sending (``moderation serve`` runs one, or ``moderation webhooks deliver``)."""
    now = now or utcnow()
    try:
        oldest = oldest_due_delivery(now)
    except SQLAlchemyError as error:
        db.session.rollback()
        return Check("outbox", "fail", f"unreadable ({error.__class__.__name__})")
    if oldest is not None and now - oldest > timedelta(seconds=stuck_after_seconds):
        waited = int((now - oldest).total_seconds())
        return Check(
            "outbox", "fail", f"a delivery has waited {waited} s: is a delivery worker running?"
        )
    return Check("outbox", "ok")


def readiness(storage_uri: str, stuck_after_seconds: float) -> list[Check]:
    """Every check; the database's failure does not stop the others from being named."""
    database = check_database()
    checks = [database, check_rate_limit_storage(storage_uri)]
    if database.failed:
        checks += [
            Check("migrations", "fail", "the database is unreachable"),
            Check("outbox", "fail", "the database is unreachable"),
        ]
    else:
        checks += [check_migrations(), check_outbox(stuck_after_seconds)]
    return checks
