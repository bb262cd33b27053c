"""Search structures the ORM does not describe: chosen per database by migration
``teams_03`` and read by :mod:`moderation.services.search`.

- PostgreSQL: ``pg_trgm`` GIN indexes on the comment's text, author and email; the queue's
  ``ILIKE '%term%'`` uses them as it is, for terms of three characters or more.
- SQLite: ``comments_search``, an FTS5 table with the trigram tokenizer (external content:
  ``comments``, kept in step by triggers); a quoted phrase is a case-insensitive substring.

A future migration that rebuilds ``comments`` on SQLite (``batch_alter_table``) drops the
triggers with the old table: it must create them again (``SQLITE_TRIGGERS``).
"""

from __future__ import annotations

SEARCH_TABLE = "comments_search"  # the triggers below spell it out
TRIGRAM_COLUMNS = ("text", "author", "email")
TRIGRAM_INDEXES = tuple(f"ix_comments_trgm_{column}" for column in TRIGRAM_COLUMNS)
#: Terms shorter than this have no trigram: they are searched by scanning.
MIN_INDEXED_TERM = 3

SQLITE_TRIGGERS = (
    """CREATE TRIGGER comments_search_ai AFTER INSERT ON comments BEGIN
  INSERT INTO comments_search(rowid, text, author, email)
  VALUES (new.id, new.text, new.author, new.email);
END""",
    """CREATE TRIGGER comments_search_ad AFTER DELETE ON comments BEGIN
  INSERT INTO comments_search(comments_search, rowid, text, author, email)
  VALUES ('delete', old.id, old.text, old.author, old.email);
END""",
    """CREATE TRIGGER comments_search_au AFTER UPDATE OF text, author, email ON comments BEGIN
  INSERT INTO comments_search(comments_search, rowid, text, author, email)
  VALUES ('delete', old.id, old.text, old.author, old.email);
  INSERT INTO comments_search(rowid, text, author, email)
  VALUES (new.id, new.text, new.author, new.email);
END""",
)


def trigram_index_statement(index: str, *, concurrently: bool = False) -> str:
    """The statement that creates the trigram index ``index`` as migration ``teams_03`` does
    (``concurrently``: without blocking writes, as the import and the doctor rebuild it)."""
    column = TRIGRAM_COLUMNS[TRIGRAM_INDEXES.index(index)]
    how = "CONCURRENTLY " if concurrently else ""
    return f"CREATE INDEX {how}IF NOT EXISTS {index} ON comments USING gin ({column} gin_trgm_ops)"


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic: leave the search structures out of schema comparisons (the ORM does not
    describe them; autogenerate must never drop them)."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(SEARCH_TABLE)
    if type_ == "index":
        return name not in TRIGRAM_INDEXES
    return True
