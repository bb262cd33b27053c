"""Keeping the classifier's memory honest: erasing a person from it, and rebuilding it
from the comments after ``SECRET_KEY`` changed (issue 19).

The counts hold no address in clear, but some features are keyed hashes of personal values
(``email:h:…`` of the address, ``emaildom:h:…`` of its domain, ``net:h:…`` of the sender's
network), and every comment's ``comment_spam`` row lists the features it taught. Erasing a
person rewrites what their comments taught as if they had been written anonymously, and
drops the rows named by their address. The keys of those hashes come from ``SECRET_KEY``:
after it changes, new comments yield other hashes than the ones learned, so the model is
rebuilt from the comments table (which it always equals: approved comments are ham, spam
comments spam). A fingerprint of the key stored with the counts tells when that is due.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, select

from moderation.domain.spam import (
    FEATURE_VERSION,
    GLOBAL_SCOPE,
    MESSAGES,
    Counts,
    Label,
    label_for_status,
    training_deltas,
)
from moderation.domain.spam.store import Key
from moderation.extensions import db
from moderation.models import Comment, CommentSpam, SpamCount
from moderation.services import spam
from moderation.services.spam_store import SqlCountStore

log = logging.getLogger(__name__)

#: The reserved feature that holds the feature key's fingerprint (no extracted feature has "@").
FINGERPRINT_PREFIX = "@key:"
#: Comments read per round trip while rebuilding.
REBUILD_CHUNK = 1000


def _personal(feature: str) -> bool:
    """Whether a feature is the keyed hash of an address (it names one person)."""
    return feature.startswith("email:h:")


def forget_person(email: str, comment_ids: Sequence[int], keep_comments: bool) -> None:
    """Make what ``comment_ids`` (a person's comments, already anonymised when
    ``keep_comments``) taught impersonal, in the caller's transaction.

    Kept comments are re-learned from what they now are (the words stay, the name,
    address, website and network go); comments about to be deleted take back all they
    taught. Then the rows named by the person's address are dropped in every scope.
    """
    deltas: dict[Key, Counts] = {}
    personal = {f for f in spam.extractor().personal_features(email) if _personal(f)}
    for start in range(0, len(comment_ids), 500):
        chunk = list(comment_ids[start : start + 500])
        rows = db.session.execute(
            select(CommentSpam, Comment)
            .join(Comment, Comment.id == CommentSpam.comment_id)
            .where(CommentSpam.comment_id.in_(chunk))
            .execution_options(populate_existing=True)
        ).all()
        for row, comment in rows:
            old = row.features.split("\n") if row.features else []
            personal.update(feature for feature in old if _personal(feature))
            new = sorted(spam.features_now(comment)) if keep_comments else []
            label = Label(row.label) if row.label else None
            if label is not None:
                _add(deltas, training_deltas(comment.site_id, old, label, -1))
                if keep_comments:
                    _add(deltas, training_deltas(comment.site_id, new, label, +1))
            if keep_comments:
                row.features = "\n".join(new)
                row.feature_version = FEATURE_VERSION
                row.clues = []  # they may name the person ("name 'ann'")
    changed = {key: deltas[key] for key in sorted(deltas) if deltas[key] != Counts()}
    if changed:
        SqlCountStore(db.session).add(changed)
    if personal:
        db.session.execute(delete(SpamCount).where(SpamCount.feature.in_(sorted(personal))))
    db.session.flush()


def _add(total: dict[Key, Counts], deltas: dict[Key, Counts]) -> None:
    for key, delta in deltas.items():
        total[key] = total.get(key, Counts()) + delta


def key_fingerprint() -> str:
    """The reserved feature naming this ``SECRET_KEY``'s feature key (not the key)."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(secret, b"spam-features-fingerprint", hashlib.sha256).hexdigest()
    return FINGERPRINT_PREFIX + digest[:16]


def stored_fingerprint() -> str | None:
    """The fingerprint stored with the counts, if any."""
    found = db.session.execute(
        select(SpamCount.feature).where(
            SpamCount.scope == GLOBAL_SCOPE, SpamCount.feature.like(f"{FINGERPRINT_PREFIX}%")
        )
    ).scalar()
    return str(found) if found is not None else None


@dataclass(frozen=True)
class KeyCheck:
    """Whether the counts were learned with this ``SECRET_KEY``."""

    matches: bool
    stored: str | None
    learned: int  # comments the counts hold


def check_key(record_when_new: bool = False) -> KeyCheck:
    """Compare the stored fingerprint with this key's. With ``record_when_new``, a model
    that has none yet (older than this check, or empty) is taken to be this key's and the
    fingerprint is written (the caller commits)."""
    stored = stored_fingerprint()
    learned = db.session.execute(
        select(SpamCount.spam + SpamCount.ham).where(
            SpamCount.scope == GLOBAL_SCOPE, SpamCount.feature == MESSAGES
        )
    ).scalar()
    if stored is None and record_when_new:
        _write_fingerprint()
        stored = key_fingerprint()
    return KeyCheck(stored in (None, key_fingerprint()), stored, int(learned or 0))


def _write_fingerprint() -> None:
    db.session.execute(
        delete(SpamCount).where(
            SpamCount.scope == GLOBAL_SCOPE, SpamCount.feature.like(f"{FINGERPRINT_PREFIX}%")
        )
    )
    # a count of one, so that pruning rows that count nothing never takes it
    db.session.add(SpamCount(scope=GLOBAL_SCOPE, feature=key_fingerprint(), spam=1, ham=0))


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild learned."""

    ham: int
    spam: int


def rebuild_model() -> Rebuilt:
    """Forget every count and learn again from every comment as it is now, with this
    ``SECRET_KEY``'s features, in one transaction (committed here): processes that score
    meanwhile see the old model until the new one is complete."""
    db.session.execute(delete(SpamCount))
    taught = {Label.HAM: 0, Label.SPAM: 0}
    last_id = 0
    while True:
        rows = db.session.execute(
            select(Comment, CommentSpam)
            .outerjoin(CommentSpam, CommentSpam.comment_id == Comment.id)
            .where(Comment.id > last_id)
            .order_by(Comment.id)
            .limit(REBUILD_CHUNK)
        ).all()
        if not rows:
            break
        deltas: dict[Key, Counts] = {}
        for comment, row in rows:
            last_id = comment.id
            label = label_for_status(comment.status.value)
            if row is None and label is None:
                continue  # never learned, nothing to learn: no row needed
            features = sorted(spam.features_now(comment))
            if row is None:
                row = CommentSpam(comment_id=comment.id, score=None, clues=[])
                db.session.add(row)
            row.features = "\n".join(features)
            row.feature_version = FEATURE_VERSION
            row.label = label.value if label else ""
            if label is not None:
                _add(deltas, training_deltas(comment.site_id, features, label))
                taught[label] += 1
        db.session.flush()
        if deltas:
            SqlCountStore(db.session).add({key: deltas[key] for key in sorted(deltas)})
        db.session.expunge_all()
    _write_fingerprint()
    db.session.commit()
    log.info("spam classifier rebuilt: %d ham, %d spam", taught[Label.HAM], taught[Label.SPAM])
    return Rebuilt(taught[Label.HAM], taught[Label.SPAM])
