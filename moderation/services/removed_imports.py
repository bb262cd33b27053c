"""Imported comments removed for good (issue 18): their source ids noted, so that an import
run again leaves them out (:class:`~moderation.models.RemovedImport`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Insert, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from moderation.clock import utcnow
from moderation.extensions import db
from moderation.models import Comment, RemovedImport
from moderation.models.base import UTCDateTime

#: Comments noted per statement.
_CHUNK = 500


def note_removed(comment_ids: Sequence[int]) -> None:
    """Note the imported comments among ``comment_ids``, which are about to be removed for
    good (call it before deleting them, in the same transaction). A comment noted
    already (erased while an import brought it back) is noted once."""
    columns = ["site_id", "source", "source_id", "removed_at"]
    for start in range(0, len(comment_ids), _CHUNK):
        imported = select(
            Comment.site_id,
            Comment.source,
            Comment.source_id,
            bindparam("removed_at", utcnow(), type_=UTCDateTime()),
        ).where(Comment.id.in_(comment_ids[start : start + _CHUNK]), Comment.source_id.is_not(None))
        statement: Insert
        if db.session.get_bind().dialect.name == "postgresql":
            statement = postgresql.insert(RemovedImport).from_select(columns, imported)
            statement = statement.on_conflict_do_nothing()
        else:
            statement = sqlite.insert(RemovedImport).from_select(columns, imported)
            statement = statement.on_conflict_do_nothing()
        db.session.execute(statement)
