"""A benchmark process's own database, as the import benchmarks set it up in the process that
measures: PostgreSQL's emptied (schema and all) or a new SQLite file, migrated, with the
``bench`` site.

Nothing is imported until it is used: bench/import_floor.py measures its bare schema in a
process that never loads the application (the cycle collector then walks fewer objects).
"""

from __future__ import annotations

from typing import Any


def empty_postgres(url: str) -> None:
    """Drop everything in ``url``'s database (its ``public`` schema) and make it again, empty."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def fresh_database(url: str, folder: str, name: str) -> str:
    """``url`` emptied, or with no ``url`` a new SQLite file ``name`` in ``folder``: the URL."""
    if not url:
        return f"sqlite:///{folder}/{name}"
    empty_postgres(url)
    return url


def bench_app(url: str, folder: str) -> Any:
    """Our application on ``url`` (limits in memory), its instance folder ``folder``."""
    from moderation import create_app

    return create_app(
        {"SECRET_KEY": "bench", "DATABASE_URL": url, "RATELIMIT_STORAGE_URI": "memory://"},
        instance_path=folder,
    )


def migrate_with_site() -> int:
    """In an application context: every migration, then the ``bench`` site; its id."""
    from flask_migrate import upgrade

    from moderation.extensions import MIGRATIONS_DIRECTORY
    from moderation.services.sites import create_site

    upgrade(directory=str(MIGRATIONS_DIRECTORY))
    return create_site("bench", "Bench", ["https://bench.example"], "premoderate").id
